"""The ``local`` provider: real server processes on free ports in a temporary folder.

No Docker needed: PostgreSQL from ``initdb``/``postgres`` and Redis from ``redis-server``
(system packages, or the pip-installable ``local-servers`` extra). When running as root the
server runs as a dedicated account (PostgreSQL refuses root) that owns the folder. Each
server runs in its own session (process group); stopping it signals the group, waits, kills
what lingers, and removes the folder, so nothing is left behind.
"""

from __future__ import annotations

import contextlib
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

from noxops.services.base import Kind, LocalSpec, Running, Service, ServiceError, free_port, tail

__all__ = ["TEMP_PREFIX", "LocalRunning"]

TEMP_PREFIX = "noxops-svc-"


def _user_args(user: Optional[str]) -> dict[str, Any]:
    if user is None:
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _chown_tree(root: Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    for path in [root, *root.rglob("*")]:
        os.chown(path, entry.pw_uid, entry.pw_gid)


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
        self.workdir = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{self.kind.name}-"))
        password = secrets.token_urlsafe(12)
        spec = self.kind.local(self.workdir, free_port(), password)
        self.spec = spec
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
