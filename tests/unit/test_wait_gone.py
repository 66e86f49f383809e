"""One wait-for-exit helper (``watchdog.wait_gone``) for the stage watchdog and the local
services' reaper (issue #27 item 7): it watches, never reaps, and a process whose PID now
belongs to another process counts as gone (the watchdog's copy waited its whole grace period
for it, then signalled whatever holds the PID now)."""

from __future__ import annotations

import subprocess
import sys

import psutil

from noxops.runtime.watchdog import wait_gone

SLEEPS = "import time; print('ready', flush=True); time.sleep(120)"


def _started() -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", SLEEPS], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline() == "ready\n"
    return proc


def test_a_running_process_is_waited_for_and_an_ended_one_is_not_reaped() -> None:
    with _started() as proc:
        watched = psutil.Process(proc.pid)
        assert wait_gone([watched], 0.2) == [watched]
        proc.terminate()
        assert wait_gone([watched], 60) == []
        # Still our child to wait for: wait_gone did not reap it (its code is not lost).
        assert proc.wait(timeout=60) == -15


def test_a_reused_pid_is_gone() -> None:
    """What psutil holds once the PID went to another process: the same PID, another
    creation time. Simulated on a live child (a real reuse cannot be arranged)."""
    with _started() as proc:
        try:
            before = psutil.Process(proc.pid)
            before._ident = (proc.pid, before.create_time() - 1000.0)  # type: ignore[attr-defined]
            assert not before.is_running()  # psutil itself judges the PID reused
            assert wait_gone([before], 30) == []
        finally:
            proc.kill()
            proc.wait(timeout=60)
