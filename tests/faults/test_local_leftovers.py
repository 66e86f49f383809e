"""The ``local`` provider after SIGKILL: the next run stops the killed run's servers and
removes their folders, and never touches a live run's (also one in another PID namespace).

The run that is killed is ``driver.py local``: the noxops code that ``nox -s integration --
--provider=local`` runs (``LocalRunning`` for PostgreSQL, then Redis), with real ``initdb``,
``postgres`` and ``redis-server``. It is SIGKILLed at a chosen moment, then a next run starts
and ends normally. Only what these tests started counts: each test has its own ``TMPDIR``
(tests/conftest.py), and :func:`support.traces.traces` lists the server processes working
in, and the ``noxops-svc-*`` folders of, that folder only. Numbers: docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest
from support.noxrun import copy_fixture, run_nox
from support.traces import Traces, assert_clean, traces

from noxops.containers import leases
from noxops.services.local import MARKER, TEMP_PREFIX, LocalRunning, reap_dead_servers
from noxops.services.postgres import KIND as POSTGRES
from noxops.services.redis import KIND as REDIS

pytestmark = [pytest.mark.slow, pytest.mark.local_servers, pytest.mark.timeout(180)]

DRIVER = Path(__file__).with_name("driver.py")
MOMENTS = ["initdb", "initdb-done", "postgres", "redis"]
UNSHARE = ["unshare", "--pid", "--fork", "--mount-proc"]


def _ports(folders: frozenset[str]) -> set[int]:
    """The ports the servers in ``folders`` were registered on (their marker files)."""
    ports = set()
    for folder in folders:
        marker = Path(folder) / MARKER
        if marker.is_file():
            ports.add(int(json.loads(marker.read_text())["port"]))
    return ports


def _listening(ports: set[int]) -> list[int]:
    return sorted(
        {
            c.laddr.port
            for c in psutil.net_connections("tcp")
            if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port in ports
        }
    )


def _alive(pids: frozenset[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.Error:
            continue
    return alive


@contextmanager
def _driver(
    *argv: str, hold: float = 60, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """``driver.py local ...`` running (pausing ``hold`` seconds where asked), with the lines
    it printed so far; killed (SIGKILL) and waited for on the way out."""
    env = {**os.environ, "FAULT_HOLD": str(hold)}
    proc = subprocess.Popen(
        [*prefix, sys.executable, str(DRIVER), "local", *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        yield proc, lines
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)
        assert proc.stdout is not None
        proc.stdout.close()


def _read_until(proc: subprocess.Popen[str], lines: list[str], wanted: str) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line.rstrip())
        if line.startswith(wanted):
            return
    raise AssertionError(f"the run ended before {wanted!r}:\n" + "\n".join(lines))


def _next_run() -> subprocess.CompletedProcess[str]:
    """A run that starts both servers (reaping first) and ends normally."""
    return subprocess.run(
        [sys.executable, str(DRIVER), "local", "-"],
        env={**os.environ, "FAULT_HOLD": "0"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _kill_at(moment: str, *before: Traces) -> Traces:
    """A run SIGKILLed at ``moment``; what it left (not in any of ``before``)."""
    with _driver(moment) as (proc, lines):
        _read_until(proc, lines, f"MOMENT {moment}")
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    left = traces()
    for seen in before:
        left = left - seen
    return left


@pytest.mark.parametrize("moment", MOMENTS)
def test_a_sigkilled_local_run_is_reaped_by_the_next(moment: str) -> None:
    before = traces()
    left = _kill_at(moment, before)
    # SIGKILL runs no clean-up: the folders stay, and the servers unless none was running yet.
    assert left.folders, left
    if moment != "initdb-done":  # initdb has finished and nothing else was spawned yet
        assert left.processes, left
    ports = _ports(left.folders)
    if moment in ("postgres", "redis"):
        assert _listening(ports), "the killed run's servers should still listen"

    after = _next_run()
    assert after.returncode == 0, after
    assert "Traceback" not in after.stdout + after.stderr
    now = traces()
    assert _alive(left.processes) == [], "server processes of the killed run"
    assert sorted(left.folders & now.folders) == [], "folders of the killed run"
    assert _listening(ports) == [], "ports of the killed run"
    assert_clean(before)  # and the next run removed its own on the way out


def test_a_live_run_in_another_pid_namespace_is_never_touched(tmp_path: Path) -> None:
    if os.geteuid() != 0 or not Path("/usr/bin/unshare").exists():
        pytest.skip("needs unshare as root")
    before = traces()
    with _driver("-", hold=120, prefix=tuple(UNSHARE)) as (live, lines):
        _read_until(live, lines, "READY")
        urls = [line.split()[1] for line in lines if line.startswith("URL ")]
        mine = traces() - before
        assert len(mine.folders) == 2 and mine.processes, mine
        try:
            killed = _kill_at("redis", before, mine)
            assert killed.processes and len(killed.folders) == 2, killed
            ports = _ports(killed.folders)
            # The next run, here (it sees every process, the live run's included) ...
            after = _next_run()
            assert after.returncode == 0, after
            # ... and one in a PID namespace of its own (it sees no other run's process).
            inside = subprocess.run(
                [*UNSHARE, sys.executable, str(DRIVER), "local", "-"],
                env={**os.environ, "FAULT_HOLD": "0"}, capture_output=True, text=True,
                timeout=120, check=False,
            )  # fmt: skip
            assert inside.returncode == 0, inside
            assert _alive(killed.processes) == []
            assert not (killed.folders & traces().folders)
            assert _listening(ports) == []
            # The live run: every process, folder and server still there and answering.
            assert sorted(_alive(mine.processes)) == sorted(mine.processes)
            assert all(Path(f).is_dir() for f in mine.folders)
            POSTGRES.probe(POSTGRES.parse(urls[0]), 5)
            REDIS.probe(REDIS.parse(urls[1]), 5)
        finally:
            for child in psutil.Process(live.pid).children():  # the driver, PID 1 in there
                child.send_signal(signal.SIGTERM)  # unshare does not pass signals on
            live.wait(60)
    assert_clean(before)


def test_no_proof_no_reaping(tmp_path: Path) -> None:
    """A folder whose lease file is not here (another machine's, or a hand-made name), and a
    dead owner's folder whose pid file names a process running elsewhere: nothing signalled."""
    before = traces()
    with LocalRunning(REDIS, ready_timeout=30) as live:
        folder = next(Path(f) for f in (traces() - before).folders)
        # The same server under a name no lease file backs: no proof, left alone.
        unproven = folder.with_name(f"{TEMP_PREFIX}0123456789abcdef0123-redis-x")
        folder.rename(unproven)
        try:
            assert reap_dead_servers() == 0
            REDIS.probe(live.endpoint, 5)
        finally:
            unproven.rename(folder)
        # Dead owners' folders whose pid files name a process that does not run in them, and
        # whose port is the live server's: the folders go, nothing they name is signalled.
        dead = leases.Lease().acquire()
        dead.release()
        bystander = subprocess.Popen(["sleep", "60"])
        try:
            for name in ("redis", "postgres"):
                forged = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{dead.id}-{name}-"))
                (forged / "redis.pid").write_text(f"{bystander.pid}\n")
                (forged / "data").mkdir()
                (forged / "data" / "postmaster.pid").write_text(f"{bystander.pid}\n")
                marker = {"lease": dead.id, "kind": name, "port": live.port, "binary": ""}
                (forged / MARKER).write_text(json.dumps(marker))
            assert reap_dead_servers() == 2
            assert not list(Path(tempfile.gettempdir()).glob(f"{TEMP_PREFIX}{dead.id}-*"))
            assert bystander.poll() is None
            REDIS.probe(live.endpoint, 5)  # the server on that port was not shut down
        finally:
            bystander.kill()
            bystander.wait()
    assert_clean(before)


@pytest.mark.timeout(420)
def test_a_sigkilled_nox_integration_is_reaped_by_the_next_nox(tmp_path: Path) -> None:
    """The real thing: ``nox -s integration -- --provider=local`` with its tests running,
    SIGKILLed with its whole process group (as a CI runner cancels a job); its servers run in
    their own sessions, so they outlive it, until the next ``nox -s integration``."""
    project = copy_fixture("integration_project", tmp_path)
    before = traces()
    hang = tmp_path / "hanging"
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update({"FIXTURE_HANG_FILE": str(hang), "NO_COLOR": "1"})
    argv = [sys.executable, "-m", "nox", "-s", "integration", "--", "--provider=local"]
    with (tmp_path / "nox.log").open("w") as log:
        proc = subprocess.Popen(
            [*argv, "tests/integration", "-k", "hangs"],
            cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 300  # the first run installs the environment
            while not hang.exists():
                assert proc.poll() is None, (tmp_path / "nox.log").read_text()
                assert time.monotonic() < deadline, (tmp_path / "nox.log").read_text()
                time.sleep(0.2)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)
    left = traces() - before
    ports = _ports(left.folders)
    assert len(left.folders) == 2 and _alive(left.processes), left
    assert len(_listening(ports)) == 2  # PostgreSQL and Redis outlived the killed run

    after = run_nox(project, "-R", "-s", "integration", "--", "--provider=local", timeout=300)
    assert after.returncode == 0, after
    assert _alive(left.processes) == [], "server processes of the killed run"
    assert sorted(left.folders & traces().folders) == [], "folders of the killed run"
    assert _listening(ports) == [], "ports of the killed run"
    assert_clean(before)
