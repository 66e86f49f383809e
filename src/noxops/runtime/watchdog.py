"""Stage timeouts: a stage that runs past its limit is stopped with all its child processes.

Nox runs each command as a child of the nox process. When a stage's deadline passes, the
watchdog terminates every descendant process (then kills those that linger), so the
command that was running fails at once; the stage then reports itself as timed out.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: most stages never time out (every session loads this)
    import psutil

__all__ = ["Watchdog", "stop_children", "wait_gone"]


def _gone(proc: psutil.Process) -> bool:
    """Whether ``proc`` has ended, without reaping it: a zombie has ended, and so has a process
    whose PID now belongs to another one (``is_running`` compares creation times)."""
    import psutil

    try:
        return not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return True


def wait_gone(procs: Sequence[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Those of ``procs`` still running after up to ``timeout`` seconds. Nothing is reaped,
    only watched (see :func:`stop_children`); the stage watchdog and the local services'
    reaper both wait with it."""
    deadline = time.monotonic() + timeout
    alive = [p for p in procs if not _gone(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [p for p in alive if not _gone(p)]
    return alive


def stop_children(grace: float = 3.0) -> int:
    """Terminate, then kill, every descendant of this process; returns how many there were.

    Nothing is reaped here (no ``psutil.wait_procs``): a direct child is waited for by whoever
    started it, and were it reaped here its ``Popen.wait()`` would find no child and report
    exit code 0, so a killed command would look like it succeeded. Ended children stay
    zombies until their owner waits for them; that is how their end is seen.
    """
    import psutil

    try:
        children = psutil.Process().children(recursive=True)
    except psutil.Error:  # pragma: no cover - our own process always exists
        return 0
    for child in children:
        with suppress(psutil.Error):
            child.terminate()
    for child in wait_gone(children, grace):
        with suppress(psutil.Error):
            child.kill()
    return len(children)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class Watchdog:
    """Stops this process's children once ``timeout`` seconds have passed.

    With a ``label``, it also prints a progress line every ``heartbeat`` seconds while the
    stage runs (``NOXOPS_PROGRESS_INTERVAL`` sets it; 0 turns it off), so long stages show
    they are alive in CI logs, where nothing else may print for minutes.
    """

    def __init__(self, timeout: float, label: str = "", heartbeat: float | None = None) -> None:
        self.timeout = timeout
        self.label = label
        if heartbeat is None:
            heartbeat = float(os.environ.get("NOXOPS_PROGRESS_INTERVAL", "60") or 0)
        self.heartbeat = heartbeat if label else 0
        self.expired = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="noxops-watchdog", daemon=True)
        self.started = 0.0

    def _watch(self) -> None:
        deadline = self.started + self.timeout
        while True:
            remaining = deadline - time.monotonic()
            wait = min(remaining, self.heartbeat) if self.heartbeat > 0 else remaining
            if self._done.wait(max(wait, 0)):
                return
            if time.monotonic() < deadline:
                sys.stderr.write(
                    f"nox > {self.label}: still running after {_duration(self.elapsed)} "
                    f"(stopped at {_duration(self.timeout)})\n"
                )
                sys.stderr.flush()
                continue
            self.expired.set()
            # Keep stopping children until the stage gives up, in case a new one starts.
            while not self._done.is_set():
                stop_children()
                self._done.wait(0.2)
            return

    def __enter__(self) -> Watchdog:
        self.started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


@contextmanager
def watch(timeout: float) -> Iterator[Watchdog]:
    with Watchdog(timeout) as dog:
        yield dog
