"""The stage watchdog stops every child process once the deadline passes."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from noxops.watchdog import Watchdog, stop_children

IGNORES_SIGTERM = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
)


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
    assert stop_children() == 0


def test_long_stages_print_progress(capsys: pytest.CaptureFixture[str]) -> None:
    with Watchdog(30, label="tests-3.11", heartbeat=0.2) as dog:
        time.sleep(0.7)
    assert not dog.expired.is_set()
    lines = [line for line in capsys.readouterr().err.splitlines() if "still running" in line]
    assert len(lines) >= 2
    assert lines[0] == "nox > tests-3.11: still running after 0s (stopped at 30s)"


def test_no_progress_without_a_label(capsys: pytest.CaptureFixture[str]) -> None:
    with Watchdog(30, heartbeat=0.1):
        time.sleep(0.3)
    assert capsys.readouterr().err == ""


def test_stop_children_does_not_reap_so_a_killed_command_does_not_look_like_exit_0() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    time.sleep(0.2)
    assert stop_children(grace=5) >= 1
    # Reaped by psutil, Popen.wait() would find no child and report 0.
    assert proc.wait(timeout=10) != 0


def test_stop_children_kills_what_ignores_sigterm_without_reaping_it() -> None:
    proc = subprocess.Popen([sys.executable, "-c", IGNORES_SIGTERM])
    time.sleep(0.5)
    started = time.monotonic()
    stop_children(grace=0.5)
    assert proc.wait(timeout=10) == -9
    assert time.monotonic() - started < 10
