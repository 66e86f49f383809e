"""Leases: proof that the run owning a resource is alive, so only the dead are reaped.

Every resource a stage creates (a container, a network, a temporary folder, a credentials
file) is named with, or labelled with, the id of its owner's lease *before* it exists. A lease
is a file ``<lease folder>/<id>.lease`` on which the owning process holds an exclusive
``flock`` for as long as it lives. The kernel drops that lock the moment the process ends,
also on SIGKILL, whatever PID namespace or container it ran in; a PID says nothing across
namespaces, a lock does.

A reaper proves an owner dead by taking the lock itself. When it cannot (the file is locked:
the owner is alive), or when there is no such file (another machine, another container's
``/tmp``, a label someone wrote by hand), it has no proof and leaves the resource alone.

:func:`interrupting` turns SIGTERM (a cancelled CI job) and SIGHUP (a closed terminal) into
``KeyboardInterrupt`` so that every ``finally`` and ``__exit__`` on the way out runs and
removes what was made.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any, Optional

try:  # POSIX; elsewhere nothing can be proven dead, so nothing is reaped
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "DIR_PREFIXES",
    "Lease",
    "interrupting",
    "lease_dir",
    "make_dir",
    "owner_dead",
    "private_dir",
    "process_lease",
    "reap_dirs",
]

# The temporary folders noxops makes, all named <prefix><lease id>-<random>, that hold only
# files. A local service's folder (noxops-svc-<lease id>-...) may hold a running server: it
# is reaped by noxops.services.local.reap_dead_servers, which stops the server first.
DIR_PREFIXES = (
    "noxops-docker-", "noxops-kube-", "noxops-build-", "noxops-dist-", "noxops-wheelhouse-",
)  # fmt: skip
_ID = re.compile(r"^[0-9a-f]{16,32}$")
_KEEP_DEAD = 3600.0  # a dead owner's lease file is kept this long, for late leftovers


def lease_dir() -> Path:
    """Where leases live: ``$NOXOPS_LEASE_DIR``, else a per-user folder in the temp folder."""
    override = os.environ.get("NOXOPS_LEASE_DIR")
    if override:
        return Path(override)
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"noxops-leases-{uid}"


class Lease:
    """A lock held for the life of its owner; ``id`` goes on everything the owner makes."""

    def __init__(self) -> None:
        self.id = os.urandom(10).hex()  # 20 hex digits, as uuid4's were (uuid: 6 ms to import)
        self.path = lease_dir() / f"{self.id}.lease"
        self._fd: Optional[int] = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> Lease:
        """Create the lease file already locked (written under a temporary name, locked, then
        renamed into place, so a reaper never sees it unlocked while its owner lives)."""
        folder = self.path.parent
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        staging = folder / f".{self.id}.new"
        fd = os.open(staging, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            info = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
            os.write(fd, json.dumps(info).encode())
            staging.replace(self.path)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                staging.unlink()
            raise
        self._fd = fd
        return self

    def release(self) -> None:
        """Drop the lock; the file stays (unlocked: provably dead) so late leftovers can
        still be reaped, and :func:`reap_dirs` removes it after an hour."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __enter__(self) -> Lease:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


_process: dict[str, Lease] = {}
_process_lock = threading.Lock()


def process_lease() -> Lease:
    """This process's lease, taken on first use and held until the process ends."""
    with _process_lock:
        lease = _process.get("lease")
        if lease is None or not lease.held:
            lease = _process["lease"] = Lease().acquire()
        return lease


def owner_dead(lease_id: str) -> bool:
    """Whether the owner of ``lease_id`` is provably gone: its lease file is here and its lock
    can be taken. Anything else (no file, locked, not an id) is no proof: False."""
    if fcntl is None or not _ID.match(lease_id):
        return False
    path = lease_dir() / f"{lease_id}.lease"
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # locked: the owner lives
    finally:
        os.close(fd)  # closing drops the lock we may have taken
    return True


def _forget_dead_leases() -> None:
    """Remove lease files whose owners died more than an hour ago, unless a temporary folder
    still names the lease (it is the only proof that folder may be reaped)."""
    folder = lease_dir()
    if not folder.is_dir():
        return
    now = time.time()
    tmp = Path(tempfile.gettempdir())
    for path in folder.glob("*.lease"):
        with contextlib.suppress(OSError):
            if now - path.stat().st_mtime <= _KEEP_DEAD or not owner_dead(path.stem):
                continue
            if any(True for _ in tmp.glob(f"noxops-*-{path.stem}-*")):
                continue
            path.unlink()


def reap_dirs(prefixes: tuple[str, ...] = DIR_PREFIXES) -> int:
    """Remove the temporary folders of provably dead owners (a SIGKILLed run's credentials,
    packages and copy of the build context); returns how many."""
    removed = 0
    tmp = Path(tempfile.gettempdir())
    for prefix in prefixes:
        for folder in tmp.glob(prefix + "*"):
            lease_id = folder.name[len(prefix) :].split("-", 1)[0]
            if folder.is_dir() and not folder.is_symlink() and owner_dead(lease_id):
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
    _forget_dead_leases()
    return removed


def make_dir(prefix: str) -> Path:
    """A new temporary folder (mode 0700) named after this process's lease; the caller removes
    it, and the next run's :func:`reap_dirs` does if this process is killed first."""
    reap_dirs()
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{process_lease().id}-"))


@contextlib.contextmanager
def private_dir(prefix: str) -> Iterator[Path]:
    """:func:`make_dir`, removed on every way out."""
    folder = make_dir(prefix)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _raise_interrupt(signum: int, frame: Optional[FrameType]) -> None:
    raise KeyboardInterrupt(f"stopped by {signal.Signals(signum).name}")


@contextlib.contextmanager
def interrupting() -> Iterator[None]:
    """SIGTERM and SIGHUP raise ``KeyboardInterrupt`` in the main thread for the duration, so
    clean-up runs as on Ctrl-C (a no-op outside the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved: dict[int, Any] = {}
    for name in ("SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is not None:
            saved[signum] = signal.signal(signum, _raise_interrupt)
    try:
        yield
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
