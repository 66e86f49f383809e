"""The ``local`` provider: real server processes on free ports in a temporary folder.

No Docker needed: PostgreSQL from ``initdb``/``postgres`` and Redis from ``redis-server``
(system packages, or the pip-installable ``local-servers`` extra). When running as root the
server runs as a dedicated account (PostgreSQL refuses root) that owns the folder. Each
server runs in its own session (process group); stopping it signals the group, waits, kills
what lingers, and removes the folder, so nothing is left behind.

A SIGKILLed run cannot do that, so every server is registered under the run's lease
(:mod:`noxops.containers.leases`) before it exists: its folder is named ``noxops-svc-<lease
id>-<kind>-*`` and holds ``noxops-service.json`` (lease, kind, port, binary), written before
anything is
spawned; the server writes its pid file inside the folder. :func:`reap_dead_servers` (run
before every start) stops the servers of provably dead owners and removes their folders: the
kind's own gentle stop for a process tied to the folder (``pg_ctl stop -m immediate``,
Redis ``SHUTDOWN NOSAVE``), then SIGTERM and SIGKILL to whatever still runs *in* the folder
(its working folder is inside it: initdb, a postmaster, its backends). A process that cannot
be tied to the folder is never signalled; a live owner's folder is never touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import IO, Any, Optional

import psutil

from noxops.containers import leases
from noxops.runtime.watchdog import wait_gone
from noxops.services.base import (
    Kind,
    LocalSpec,
    Running,
    Service,
    ServiceError,
    free_port,
    kind,
    tail,
)

try:  # POSIX; elsewhere no second reaper is kept out, and nothing is reaped anyway
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "MARKER",
    "TEMP_PREFIX",
    "LocalRunning",
    "processes_in",
    "reap_dead_servers",
    "tied_process",
]

TEMP_PREFIX = "noxops-svc-"
MARKER = "noxops-service.json"  # in each folder: who owns it, which server, which port
_reap_lock = threading.Lock()
_GRACE = 5.0  # seconds a leftover gets to stop after each signal


def _user_args(user: Optional[str]) -> dict[str, Any]:
    if user is None:
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _chown_tree(root: Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    for path in [root, *root.rglob("*")]:
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def processes_in(folder: Path) -> list[psutil.Process]:
    """The processes (visible here) whose working folder is ``folder`` or inside it."""
    root = folder.resolve()
    found = []
    for proc in psutil.process_iter():
        if proc.pid == os.getpid():
            continue
        with contextlib.suppress(psutil.Error, OSError):
            if _inside(Path(proc.cwd()).resolve(), root):
                found.append(proc)
    return found


def tied_process(pidfile: Path, cwd: Path, name: str) -> Optional[psutil.Process]:
    """The process whose pid ``pidfile`` names, only if it runs in ``cwd`` and its name has
    ``name`` in it (a pid read from a file says nothing by itself: it may belong to another
    PID namespace or have been reused); else ``None``."""
    try:
        pid = int(pidfile.read_text(encoding="utf-8").split()[0])
        proc = psutil.Process(pid)
        if name in proc.name() and Path(proc.cwd()).resolve() == cwd.resolve():
            return proc
    except (OSError, ValueError, IndexError, psutil.Error):
        pass
    return None


def _signal_all(procs: list[psutil.Process], sig: int) -> None:
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.send_signal(sig)


def _read_marker(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _reap_one(folder: Path, lease_id: str) -> bool:
    """Stop what runs in ``folder`` (its owner is provably dead) and remove it; whether done."""
    marker = _read_marker(folder)
    if marker and marker.get("lease") != lease_id:
        return False  # a folder that contradicts its own name: no proof of anything
    name, port = marker.get("kind"), marker.get("port")
    if isinstance(name, str) and isinstance(port, int):
        with contextlib.suppress(ServiceError, OSError, subprocess.SubprocessError):
            kind(name).stop_leftover(folder, port, str(marker.get("binary") or ""))
    left = processes_in(folder)  # initdb, a server that would not stop, its children
    if left:
        _signal_all(left, signal.SIGTERM)
        left = wait_gone(left, _GRACE)
        _signal_all(left, signal.SIGKILL)
        if wait_gone(left, _GRACE):
            return False  # something tied to it refuses to die: keep the folder, try again later
    shutil.rmtree(folder, ignore_errors=True)
    return not folder.exists()


def reap_dead_servers() -> int:
    """Stop the local servers of provably dead (SIGKILLed) runs and remove their folders;
    returns how many folders. A folder whose owner's lease is held (a live run, whatever PID
    namespace it is in) or absent (no proof) is left alone, and so is anything running in it.
    Two reapers at once take turns per folder (a ``flock`` on the folder)."""
    removed = 0
    tmp = Path(tempfile.gettempdir())
    with _reap_lock:
        for folder in sorted(tmp.glob(f"{TEMP_PREFIX}*")):
            lease_id = folder.name[len(TEMP_PREFIX) :].split("-", 1)[0]
            if folder.is_symlink() or not folder.is_dir() or not leases.owner_dead(lease_id):
                continue
            try:
                fd = os.open(folder, os.O_RDONLY)
            except OSError:
                continue  # removed meanwhile
            try:
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                if _reap_one(folder, lease_id):
                    removed += 1
            except OSError:
                continue  # another reaper has it
            finally:
                os.close(fd)
    return removed


class LocalRunning(Running):
    """One server process in its own temporary folder."""

    provider = "local"

    def __init__(self, kind: Kind, ready_timeout: float, stop_timeout: float = 5.0) -> None:
        super().__init__(kind, ready_timeout)
        self.stop_timeout = stop_timeout
        self.workdir: Optional[Path] = None
        self.spec: Optional[LocalSpec] = None
        self.proc: Optional[subprocess.Popen[bytes]] = None
        self._log: Optional[IO[bytes]] = None
        self._lock = threading.Lock()

    def log_tail(self) -> str:
        return tail(self.spec.log if self.spec else None)

    def gone(self) -> Optional[str]:
        if self.proc is not None and self.proc.poll() is not None:
            return f"the server exited with code {self.proc.returncode}"
        return super().gone()

    def _spawn(self, argv: list[str], spec: LocalSpec) -> subprocess.Popen[bytes]:
        with self._lock:
            self.check_cancelled()
            return subprocess.Popen(
                argv,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=self._log or subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped as one
                **_user_args(spec.as_user),
            )

    def start(self) -> Service:
        reason = self.kind.local_available()
        if reason:
            raise ServiceError(f"local provider cannot start {self.kind.title}: {reason}")
        reap_dead_servers()
        lease = leases.process_lease()  # registered before anything exists
        self.workdir = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{lease.id}-{self.kind.name}-"))
        password = secrets.token_urlsafe(12)
        spec = self.kind.local(self.workdir, free_port(), password)
        self.spec = spec
        marker = {
            "lease": lease.id,
            "kind": self.kind.name,
            "port": spec.endpoint.port,
            "binary": spec.binary,
            "pidfile": str(spec.pidfile or ""),
        }
        (self.workdir / MARKER).write_text(json.dumps(marker), encoding="utf-8")
        self._log = spec.log.open("ab")
        if spec.as_user:
            _chown_tree(self.workdir, spec.as_user)
        for argv in spec.prepare:
            proc = self._spawn(list(argv), spec)
            with self._lock:
                self.proc = proc
            code = proc.wait()
            with self._lock:
                self.proc = None
            self.check_cancelled()
            if code != 0:
                raise ServiceError(
                    f"local provider: {Path(argv[0]).name} for {self.kind.title} failed "
                    f"(exit {code}){' as user ' + spec.as_user if spec.as_user else ''}:\n"
                    f"{self.log_tail()}"
                )
        proc = self._spawn(list(spec.command), spec)
        with self._lock:
            self.proc = proc
        return self.ready(spec.endpoint, f"{spec.binary} (pid {proc.pid}, in {self.workdir})")

    def cancel(self) -> None:
        super().cancel()
        with self._lock:
            if self.proc is not None:
                self._signal(self.proc, signal.SIGKILL)

    @staticmethod
    def _signal(proc: subprocess.Popen[bytes], sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)  # the server and its children (PostgreSQL backends)

    def stop(self) -> None:
        with self._lock:
            proc, self.proc = self.proc, None
        if proc is not None:
            sig = self.spec.stop_signal if self.spec else signal.SIGTERM
            if proc.poll() is None:
                self._signal(proc, sig)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(self.stop_timeout)
            # Whatever is left in its group (also when the leader already exited).
            self._signal(proc, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(self.stop_timeout)
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
