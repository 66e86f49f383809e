"""The stage watchdog stops every child process once the deadline passes."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest

from noxops.runtime.watchdog import Watchdog, stop_children

IGNORES_SIGTERM = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(60)"
)
SLEEPS = "import time; print('ready', flush=True); time.sleep(60)"


def _started(code: str) -> subprocess.Popen[str]:
    """A child running ``code``, returned once it says it is ready (its handlers are set)."""
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline() == "ready\n"
    return proc


def test_expired_watchdog_stops_a_running_child() -> None:
    started = time.monotonic()
    with Watchdog(0.5) as dog:
        # A child that ignores SIGTERM must still be stopped (killed after the grace period).
        proc = subprocess.Popen([sys.executable, "-c", IGNORES_SIGTERM])
        proc.wait(timeout=30)
    assert dog.expired.is_set()
    assert proc.returncode != 0
    assert time.monotonic() - started < 20


def test_watchdog_that_does_not_expire_leaves_children_alone() -> None:
    with Watchdog(30) as dog:
        out = subprocess.run(
            [sys.executable, "-c", "print('ok')"], capture_output=True, text=True, check=True
        )
    assert not dog.expired.is_set()
    assert out.stdout.strip() == "ok"


def test_stop_children_with_no_children() -> None:
    # In a process of its own: this one's children are whatever other tests (or a plugin)
    # started, and stop_children() here would count, and stop, them.
    code = "from noxops.runtime.watchdog import stop_children; print(stop_children())"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "0"


def test_long_stages_print_progress(capsys: pytest.CaptureFixture[str]) -> None:
    lines: list[str] = []
    deadline = time.monotonic() + 60
    with Watchdog(300, label="tests-3.11", heartbeat=0.2) as dog:
        while len(lines) < 2 and time.monotonic() < deadline:  # two heartbeats, however slow
            time.sleep(0.05)
            err = capsys.readouterr().err
            lines += [line for line in err.splitlines() if "still running" in line]
    assert not dog.expired.is_set()
    assert len(lines) >= 2
    assert re.fullmatch(
        r"nox > tests-3\.11: still running after \d+s \(stopped at 5m00s\)", lines[0]
    )


def test_no_progress_without_a_label(capsys: pytest.CaptureFixture[str]) -> None:
    with Watchdog(30, heartbeat=0.1):
        time.sleep(0.3)
    assert capsys.readouterr().err == ""


def test_stop_children_does_not_reap_so_a_killed_command_does_not_look_like_exit_0() -> None:
    with _started(SLEEPS) as proc:
        assert stop_children(grace=5) >= 1
        # Reaped by psutil, Popen.wait() would find no child and report 0.
        assert proc.wait(timeout=60) != 0


def test_stop_children_kills_what_ignores_sigterm_without_reaping_it() -> None:
    with _started(IGNORES_SIGTERM) as proc:  # SIGTERM is ignored from here on
        started = time.monotonic()
        stop_children(grace=0.5)
        assert proc.wait(timeout=60) == -9
        assert time.monotonic() - started < 60
