"""The Docker engine: where it is, its CLI, its API for clean-up, and noxops's labels.

The one place that knows where the engine is (``$DOCKER_HOST`` or the local socket, and the
address published ports are reached on) and which labels mark the containers noxops starts:
the build and smoke stages use it, and so do the ``docker`` integration services
(:mod:`noxops.services.docker`).

Everything goes through the ``docker`` command (argv lists, no shell). Removing containers
and networks also works over the engine's Unix socket without starting a process, because a
stage that timed out has its child processes stopped while it cleans up.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import shutil
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Optional, Protocol
from urllib.parse import quote, urlsplit

from noxops import leases
from noxops.errors import NoxopsError
from noxops.masking import mask

__all__ = [
    "LEASE_LABEL",
    "OWNER_ENV",
    "SERVICE_LABEL",
    "SMOKE_LABEL",
    "Docker",
    "EngineError",
    "available",
    "docker",
    "docker_binary",
    "engine_url",
    "env_args",
    "has_buildx",
    "is_local",
    "labels_args",
    "owner_labels",
    "published_host",
    "reap_dead",
    "remove_container",
    "remove_network",
    "socket_path",
    "unix_socket_problem",
]

# Every container and network a smoke run starts carries SMOKE_LABEL (value: the run's id).
SMOKE_LABEL = "org.noxops.smoke"
# Every integration-service container carries SERVICE_LABEL (value: one id per service).
SERVICE_LABEL = "noxops.run"
# When $NOXOPS_OWNER is set (by a CI job or a test run), what noxops starts also carries
# <label>.owner=<it>, so whoever set it can tell its own containers on a shared engine.
OWNER_ENV = "NOXOPS_OWNER"


def owner_labels(label: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{<label>.owner: $NOXOPS_OWNER}``, or nothing when it is unset."""
    owner = (os.environ if environ is None else environ).get(OWNER_ENV)
    return {f"{label}.owner": owner} if owner else {}
# Every container and network noxops starts carries LEASE_LABEL: the id of its owner's lease
# (noxops.leases), the only proof a reaper accepts that the owner is gone.
LEASE_LABEL = "org.noxops.lease"


class Docker(Protocol):
    """How a ``docker`` command is run and its output captured (:func:`docker`, or a fake)."""

    def __call__(
        self,
        *args: str,
        input: str | None = None,
        env: Mapping[str, str] | None = None,
        check: bool = True,
        timeout: float | None = 120,
    ) -> subprocess.CompletedProcess[str]: ...


# -- where the engine is ------------------------------------------------------------------


def engine_url() -> str:
    """Where the engine is (``$DOCKER_HOST``, else the local socket), for clients and messages."""
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def is_local() -> bool:
    """Whether the engine runs on this machine (its published ports are on 127.0.0.1)."""
    url = engine_url()
    if url.startswith(("unix://", "npipe://")):
        return True
    host = urlsplit(url).hostname or ""
    return host in ("localhost", "127.0.0.1", "::1")


def published_host() -> str:
    """The address published ports are reached on: ``$TC_HOST``, else the engine's host."""
    override = os.environ.get("TC_HOST") or os.environ.get("TESTCONTAINERS_HOST_OVERRIDE")
    if override:
        return override
    if is_local():
        return "127.0.0.1"
    return urlsplit(engine_url()).hostname or "127.0.0.1"


def socket_path() -> Optional[str]:
    """The engine's Unix socket when it is reached through one that exists, else None."""
    url = engine_url()
    if not url.startswith("unix://"):
        return None
    path = url[len("unix://") :]
    return path if Path(path).exists() else None


def unix_socket_problem(timeout: float) -> Optional[str]:
    """Why a ``unix://`` engine socket cannot be connected to (None: it can, or not unix)."""
    url = engine_url()
    if not url.startswith("unix://") or not hasattr(socket, "AF_UNIX"):
        return None
    path = url[len("unix://") :]
    if not os.path.exists(path):  # noqa: PTH110 - a socket path, not a project file
        return f"{path} does not exist (is the engine running?)"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(path)
        except OSError as exc:
            return f"cannot connect to {path}: {exc.strerror or exc}"
    return None


# -- the CLI ------------------------------------------------------------------------------


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
    """Run ``docker *args`` and capture its output; :class:`EngineError` when it fails.

    The command runs in its own process group, stopped with everything it started on every
    way out (Ctrl-C, SIGTERM, a timeout), so no ``docker push`` outlives its run.
    """
    full_env = None if env is None else {**os.environ, **env}
    argv = [docker_binary(), *args]
    try:
        child = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=full_env,
            text=True,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - only a prctl call
        )
    except OSError as exc:
        raise EngineError(f"could not run docker: {exc.strerror or exc}") from None
    try:
        out, err = child.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop_group(child)
        raise EngineError(f"`docker {args[0]}` did not finish within {timeout:g}s") from None
    except BaseException:
        _stop_group(child)
        raise
    proc = subprocess.CompletedProcess(argv, child.returncode, out, err)
    if check and proc.returncode != 0:
        detail = mask((proc.stderr or proc.stdout).strip())
        raise EngineError(f"`docker {' '.join(args[:2])}` failed: {detail}")
    return proc


def _die_with_parent() -> None:
    """In the child, before exec: on Linux, be killed when this process dies (SIGKILL too),
    so no ``docker push`` outlives a killed run."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _stop_group(child: subprocess.Popen[str]) -> None:
    """Terminate ``child``'s process group, then kill it; reap ``child``."""
    for signum, wait in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(OSError):
            os.killpg(child.pid, signum)
        try:
            child.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(OSError):
        os.killpg(child.pid, signal.SIGKILL)  # what the leader left behind
    with contextlib.suppress(Exception):
        child.communicate(timeout=1)


def available(run: Docker | None = None) -> str | None:
    """The engine's version when one answers, else None."""
    if run is None:
        if not shutil.which("docker"):
            return None
        run = docker
    try:
        proc = run("version", "--format", "{{.Server.Version}}", check=False, timeout=15)
    except EngineError:
        return None
    if proc.returncode != 0:
        return None
    return proc.stdout.strip() or None


def has_buildx(run: Docker | None = None) -> bool:
    if run is None:
        if not shutil.which("docker"):
            return False
        run = docker
    return run("buildx", "version", check=False, timeout=15).returncode == 0


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


def _api_delete(path: str) -> bool:
    """DELETE over the socket; True when done or already gone, False when not possible."""
    sock = socket_path()
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


def reap_dead(kind_label: str) -> int:
    """Remove the containers and networks carrying ``kind_label`` whose owner is provably
    dead (:func:`noxops.leases.owner_dead`); anything else, a live run's or one whose owner
    cannot be proven gone, stays. Returns how many were removed."""
    if shutil.which("docker") is None:
        return 0
    fmt = f'{{{{.ID}}}} {{{{.Label "{LEASE_LABEL}"}}}}'
    removed = 0
    for what, remove in (("container", remove_container), ("network", remove_network)):
        listing = ["ps", "-a"] if what == "container" else ["network", "ls"]
        try:
            proc = docker(
                *listing, "--filter", f"label={kind_label}", "--filter", f"label={LEASE_LABEL}",
                "--format", fmt, check=False, timeout=60,
            )  # fmt: skip
        except EngineError:
            continue
        for line in proc.stdout.splitlines():
            ident, _, owner = line.partition(" ")
            if ident and leases.owner_dead(owner.strip()):
                remove(ident)
                removed += 1
    return removed


def labels_args(labels: Mapping[str, str]) -> list[str]:
    """``--label KEY=VALUE`` for each label."""
    return [arg for key, value in labels.items() for arg in ("--label", f"{key}={value}")]


def env_args(names: Sequence[str]) -> list[str]:
    """``-e NAME`` for each name: the values come from the CLI's environment, not argv."""
    return [arg for name in names for arg in ("-e", name)]
