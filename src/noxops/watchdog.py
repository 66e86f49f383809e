"""Stage timeouts: a stage that runs past its limit is stopped with all its child processes.

Nox runs each command as a child of the nox process. When a stage's deadline passes, the
watchdog terminates every descendant process (then kills those that linger), so the
command that was running fails at once; the stage then reports itself as timed out.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import psutil

__all__ = ["Watchdog", "stop_children"]


def stop_children(grace: float = 3.0) -> int:
    """Terminate, then kill, every descendant of this process; returns how many there were."""
    try:
        children = psutil.Process().children(recursive=True)
    except psutil.Error:  # pragma: no cover - our own process always exists
        return 0
    for child in children:
        with suppress(psutil.Error):
            child.terminate()
    _, alive = psutil.wait_procs(children, timeout=grace)
    for child in alive:
        with suppress(psutil.Error):
            child.kill()
    return len(children)


class Watchdog:
    """Stops this process's children once ``timeout`` seconds have passed."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.expired = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="noxops-watchdog", daemon=True)
        self.started = 0.0

    def _watch(self) -> None:
        if not self._done.wait(self.timeout):
            self.expired.set()
            # Keep stopping children until the stage gives up, in case a new one starts.
            while not self._done.is_set():
                stop_children()
                self._done.wait(0.2)

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
