"""SIGINT and SIGTERM while services run: every server, folder and container is removed."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import Any, Callable

import psutil
import pytest

SCRIPT = """
import sys, time
from noxops.services.select import Services, Settings, plan
choices = plan(["postgres", "redis"], sys.argv[1], engine_timeout=3)
try:
    with Services(choices, Settings()) as running:
        print("READY", " ".join(s.provider for s in running.values()), flush=True)
        time.sleep(120)
except KeyboardInterrupt as exc:
    print("INTERRUPTED", type(exc).__name__, flush=True)
    raise SystemExit(130)
"""


def _interrupt(snapshot: Callable[[], Any], provider: str, signum: int) -> str:
    before = snapshot()
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, provider],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("READY"), line + proc.stdout.read()
    assert snapshot() - before, "the services should show up as processes or containers"
    proc.send_signal(signum)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, out
    deadline = time.monotonic() + 10
    while snapshot() - before:
        assert time.monotonic() < deadline, f"left behind: {snapshot() - before}"
        time.sleep(0.2)
    return out


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.local_servers
def test_local_services_are_stopped_on(snapshot: Callable[[], Any], signum: int) -> None:
    out = _interrupt(snapshot, "local", signum)
    expected = "Terminated" if signum == signal.SIGTERM else "KeyboardInterrupt"
    assert f"INTERRUPTED {expected}" in out


@pytest.mark.docker
def test_docker_containers_are_removed_on_sigterm(snapshot: Callable[[], Any]) -> None:
    out = _interrupt(snapshot, "docker", signal.SIGTERM)
    assert "INTERRUPTED Terminated" in out


def _named(process: psutil.Process, name: str) -> bool:
    try:
        return process.name() == name
    except psutil.Error:  # ended while looked at
        return False


STARTING = """
import sys, time
from noxops.services.select import Services, Settings, plan
choices = plan(["postgres", "redis"], "local")
print("STARTING", flush=True)
try:
    with Services(choices, Settings()) as running:
        print("READY", flush=True)
        time.sleep(120)
except KeyboardInterrupt as exc:
    print("INTERRUPTED", type(exc).__name__, flush=True)
    raise SystemExit(130)
"""


@pytest.mark.local_servers
def test_sigterm_while_starting_cancels_and_cleans_up(snapshot: Callable[[], Any]) -> None:
    """Interrupted half way through initdb: the start is cancelled and nothing stays."""
    before = snapshot()
    proc = subprocess.Popen(
        [sys.executable, "-c", STARTING],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().startswith("STARTING")
    # Aimed at initdb's run, seen as a process (no timing margin: a slow machine only waits
    # longer for it to appear).
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + 60
    while not any(_named(child, "initdb") for child in parent.children(recursive=True)):
        assert proc.poll() is None, proc.communicate()[0]
        assert time.monotonic() < deadline, "initdb never started"
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, out
    assert "INTERRUPTED Terminated" in out
    assert "READY" not in out
    deadline = time.monotonic() + 10
    while snapshot() - before:
        assert time.monotonic() < deadline, f"left behind: {snapshot() - before}"
        time.sleep(0.2)
