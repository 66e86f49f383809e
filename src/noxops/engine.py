"""The Docker engine, as the build and smoke stages use it: its CLI, and its API for clean-up.

Everything goes through the ``docker`` command (argv lists, no shell). Removing containers
and networks also works over the engine's Unix socket without starting a process, because a
stage that timed out has its child processes stopped while it cleans up.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import quote

from noxops.errors import NoxopsError

__all__ = [
    "EngineError",
    "available",
    "docker",
    "docker_binary",
    "has_buildx",
    "remove_container",
    "remove_network",
]


class EngineError(NoxopsError):
    """A docker command failed; the message carries its output."""


def docker_binary() -> str:
    path = shutil.which("docker")
    if not path:
        raise NoxopsError(
            "the docker command was not found on PATH: install Docker (or a compatible CLI) "
            "and start its engine, or disable the stage with [tool.noxops.image] enabled = false"
        )
    return path


def docker(
    *args: str,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    timeout: float | None = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``docker *args`` and capture its output; :class:`EngineError` when it fails."""
    full_env = None if env is None else {**os.environ, **env}
    try:
        proc = subprocess.run(
            [docker_binary(), *args],
            input=input,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise EngineError(f"`docker {args[0]}` did not finish within {timeout:g}s") from None
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip()
        raise EngineError(f"`docker {' '.join(args[:2])}` failed: {detail}")
    return proc


def available() -> str | None:
    """The engine's version when one answers, else None."""
    if not shutil.which("docker"):
        return None
    try:
        proc = docker("version", "--format", "{{.Server.Version}}", check=False, timeout=15)
    except EngineError:
        return None
    if proc.returncode != 0:
        return None
    return proc.stdout.strip() or None


def has_buildx() -> bool:
    if not shutil.which("docker"):
        return False
    return docker("buildx", "version", check=False, timeout=15).returncode == 0


# -- clean-up over the API socket ---------------------------------------------------------


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


def _socket_path() -> str | None:
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not host.startswith("unix://"):
        return None
    path = host[len("unix://") :]
    return path if Path(path).exists() else None


def _api_delete(path: str) -> bool:
    """DELETE over the socket; True when done or already gone, False when not possible."""
    sock = _socket_path()
    if sock is None:
        return False
    conn = _UnixConnection(sock, timeout=30)
    try:
        conn.request("DELETE", path)
        status = conn.getresponse().status
    except OSError:
        return False
    finally:
        conn.close()
    return status in (200, 204, 404)


def remove_container(container: str) -> None:
    """Force-remove a container (and its anonymous volumes); quiet when it is already gone."""
    if _api_delete(f"/containers/{quote(container)}?force=1&v=1"):
        return
    docker("rm", "-f", "-v", container, check=False, timeout=60)


def remove_network(network: str) -> None:
    if _api_delete(f"/networks/{quote(network)}"):
        return
    docker("network", "rm", network, check=False, timeout=60)


def labels_args(labels: Mapping[str, str]) -> list[str]:
    return [arg for key, value in labels.items() for arg in ("--label", f"{key}={value}")]


def env_args(names: Sequence[str]) -> list[str]:
    """``-e NAME`` for each name: the values come from the CLI's environment, not argv."""
    return [arg for name in names for arg in ("-e", name)]
