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
import functools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Protocol
from urllib.parse import quote, urlsplit

from noxops.containers import leases
from noxops.errors import NoxopsError
from noxops.masking import mask

if TYPE_CHECKING:
    import http.client

__all__ = [
    "LEASE_LABEL",
    "LEGACY_SERVICE_LABEL",
    "OWNER_ENV",
    "SERVICE_LABEL",
    "SMOKE_LABEL",
    "CommandTimeout",
    "Docker",
    "EngineError",
    "available",
    "connect_network",
    "disconnect_network",
    "docker",
    "docker_binary",
    "engine_url",
    "env_args",
    "has_buildx",
    "is_local",
    "labels_args",
    "own_container",
    "owner_labels",
    "publish_address",
    "published_host",
    "reach_through_network",
    "reap_dead",
    "remove_container",
    "remove_network",
    "socket_path",
    "unix_socket_problem",
]

# Every container and network a smoke run starts carries SMOKE_LABEL (value: the run's id).
SMOKE_LABEL = "org.noxops.smoke"
# Every integration-service container carries SERVICE_LABEL (value: one id per service). All of
# noxops's labels live under org.noxops; LEGACY_SERVICE_LABEL is the name releases before
# 2026-12 gave it, still reaped so their dead runs' containers are not left behind.
SERVICE_LABEL = "org.noxops.service"
LEGACY_SERVICE_LABEL = "noxops.run"
# When $NOXOPS_OWNER is set (by a CI job or a test run), what noxops starts also carries
# <label>.owner=<it>, so whoever set it can tell its own containers on a shared engine.
OWNER_ENV = "NOXOPS_OWNER"


def owner_labels(label: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{<label>.owner: $NOXOPS_OWNER}``, or nothing when it is unset."""
    owner = (os.environ if environ is None else environ).get(OWNER_ENV)
    return {f"{label}.owner": owner} if owner else {}


# Every container and network noxops starts carries LEASE_LABEL: the id of its owner's lease
# (noxops.containers.leases), the only proof a reaper accepts that the owner is gone.
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


def publish_address() -> str:
    """The host address ``docker run -p`` binds published ports to: 127.0.0.1 for a local
    engine (nothing is exposed beyond this machine), every interface ("") for a remote or
    docker-in-docker engine, whose ports are reached on its own address (:func:`published_host`)."""
    return "127.0.0.1" if is_local() else ""


# -- when noxops itself runs in a container of the engine ----------------------------------
#
# A CI job container that talks to the host's engine through a mounted socket (GitLab's
# docker executor with /var/run/docker.sock, a Jenkins agent container, gitlab-ci-local) is a
# sibling of the containers it starts: a port they publish on the host's 127.0.0.1 is not the
# job's 127.0.0.1. As testcontainers does for docker-in-docker, noxops then joins its own
# container to the containers' network and reaches them by alias and container port.

_CONTAINER_ID_RE = re.compile(
    r"(?:/docker/|/docker-|/containers/|/libpod-|/cri-containerd-)([0-9a-f]{64})"
)


def _container_id_candidates() -> list[str]:
    """Container ids this process's cgroups (v1) and mounts (v2: /etc/hostname comes from
    /var/lib/docker/containers/<id>/) name, most reliable first, then the hostname (Docker
    sets it to the short id)."""
    found: list[str] = []
    for source in ("/proc/self/cgroup", "/proc/self/mountinfo"):
        with contextlib.suppress(OSError):
            text = Path(source).read_text(encoding="utf-8", errors="replace")
            found += [m for m in _CONTAINER_ID_RE.findall(text) if m not in found]
    host = socket.gethostname()
    if host and host not in found:
        found.append(host)
    return found


def _in_container() -> bool:
    return (
        Path("/.dockerenv").exists()
        or Path("/run/.containerenv").exists()
        or len(_container_id_candidates()) > 1
    )


def own_container(run: Docker | None = None) -> Optional[str]:
    """The id of the container this process runs in, when the engine noxops talks to runs
    it (a job container with the host's socket mounted), else None (the normal host case, a
    remote engine, or a container the engine does not know, such as a VM-like sandbox).

    The engine must confirm it: a container whose full id is one the cgroups or mounts name,
    or whose hostname is this process's hostname."""
    if not is_local() or not _in_container():
        return None
    if run is None:
        if not shutil.which("docker"):
            return None
        run = docker
    host = socket.gethostname()
    for candidate in _container_id_candidates():
        try:
            proc = run(
                "inspect", "--type", "container",
                "--format", "{{json .Id}} {{json .Config.Hostname}}",
                candidate, check=False, timeout=15,
            )  # fmt: skip
        except EngineError:
            return None
        if proc.returncode != 0:
            continue
        try:
            ident, hostname = (json.loads(part) for part in proc.stdout.split())
        except ValueError:
            continue
        if not isinstance(ident, str) or not isinstance(hostname, str):
            continue
        if ident == candidate or (candidate == host and hostname == host):
            return ident
    return None


@functools.cache
def _own_container_cached() -> Optional[str]:
    return own_container()


def reach_through_network() -> Optional[str]:
    """The container to join to a network of started containers, so it reaches them by
    alias and container port (:func:`own_container`), or None: reach them on their published
    port at :func:`published_host`. ``$TC_HOST`` (or ``$TESTCONTAINERS_HOST_OVERRIDE``), when
    set, says where published ports are reached and so keeps the published way."""
    if os.environ.get("TC_HOST") or os.environ.get("TESTCONTAINERS_HOST_OVERRIDE"):
        return None
    return _own_container_cached()


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


class CommandTimeout(EngineError):
    """A docker command did not finish within its timeout and was stopped."""


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
    complete: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run ``docker *args`` and capture its output; :class:`EngineError` when it fails.

    The command runs in its own process group, stopped with everything it started on every
    way out (Ctrl-C, SIGTERM, a timeout), so no ``docker push`` outlives its run.

    ``complete=True`` is for commands that create something (``create``, ``network
    create``): the engine goes on creating it even when the CLI is stopped half-way, and it
    would then appear after the run's clean-up looked for it. A Ctrl-C or SIGTERM is
    therefore raised only once the command has finished (within ``timeout``), so the clean-up
    finds what it made. One that arrives before the command's process is started is raised
    at once and nothing is run: nothing can be half-made. One that arrives while the process
    is being started counts as arriving during the command (held until it exists, never
    raised inside ``subprocess.Popen``, which would leave it running unwatched).
    """
    full_env = None if env is None else {**os.environ, **env}
    argv = [docker_binary(), *args]
    deliver = _hold_signals()
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
    except BaseException as exc:
        deliver()  # nothing started: a held Ctrl-C is raised now
        if isinstance(exc, OSError):
            raise EngineError(f"could not run docker: {exc.strerror or exc}") from None
        raise
    try:
        deliver()  # a Ctrl-C that came while the child was made is raised here, handled below
        out, err = child.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop_group(child)
        raise CommandTimeout(f"`docker {args[0]}` did not finish within {timeout:g}s") from None
    except BaseException:
        if complete:
            with contextlib.suppress(BaseException):  # a second Ctrl-C: stop waiting
                child.wait(timeout)
        _stop_group(child)
        raise
    proc = subprocess.CompletedProcess(argv, child.returncode, out, err)
    if check and proc.returncode != 0:
        detail = mask((proc.stderr or proc.stdout).strip())
        raise EngineError(f"`docker {' '.join(args[:2])}` failed: {detail}")
    return proc


def _hold_signals() -> Callable[[], None]:
    """Hold SIGINT, SIGTERM and SIGHUP until the returned function is called: it puts their
    handlers back and sends again what came meanwhile.

    Python raises a handler's exception (Ctrl-C's ``KeyboardInterrupt``) wherever the main
    thread is; inside ``subprocess.Popen``, once the child is forked, the child is then
    nobody's to stop or wait for. Only the main thread runs handlers: elsewhere nothing is
    held.
    """
    saved: dict[int, Any] = {}
    pending: list[int] = []

    def deliver() -> None:
        while saved:
            signum, handler = saved.popitem()
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        held = list(dict.fromkeys(pending))
        pending.clear()
        for signum in held:
            signal.raise_signal(signum)

    if threading.current_thread() is threading.main_thread():
        try:
            for name in ("SIGINT", "SIGTERM", "SIGHUP"):
                signum = getattr(signal, name, None)
                if signum is not None:
                    saved[signum] = signal.signal(signum, lambda got, _: pending.append(got))
        except BaseException:  # one came before all were held: raised as it was
            deliver()
            raise
    return deliver


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


def _unix_connection(path: str, timeout: float) -> http.client.HTTPConnection:
    """An HTTP connection over the engine's socket (http.client is imported only here: every
    nox process loads this module, few talk to the engine)."""
    import http.client

    class UnixConnection(http.client.HTTPConnection):
        def connect(self) -> None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            sock.connect(path)
            self.sock = sock

    return UnixConnection("localhost", timeout=timeout)


def _api_delete(path: str) -> bool:
    """DELETE over the socket; True when done or already gone, False when not possible."""
    sock = socket_path()
    if sock is None:
        return False
    conn = _unix_connection(sock, timeout=30)
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


def _api_post(path: str, body: Mapping[str, object]) -> bool:
    """POST JSON over the socket; True when done (2xx), False when not possible."""
    sock = socket_path()
    if sock is None:
        return False
    conn = _unix_connection(sock, timeout=30)
    try:
        conn.request(
            "POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"}
        )
        status = conn.getresponse().status
    except OSError:
        return False
    finally:
        conn.close()
    return 200 <= status < 300


def connect_network(network: str, container: str) -> None:
    """Join ``container`` to ``network`` (:class:`EngineError` when the engine refuses)."""
    docker("network", "connect", network, container, timeout=60)


def disconnect_network(network: str, container: str) -> None:
    """Force ``container`` off ``network``; quiet when either is already gone."""
    if _api_post(f"/networks/{quote(network)}/disconnect", {"Container": container, "Force": True}):
        return
    docker("network", "disconnect", "--force", network, container, check=False, timeout=60)


def reap_dead(kind_label: str) -> int:
    """Remove the containers and networks carrying ``kind_label`` whose owner is provably
    dead (:func:`noxops.containers.leases.owner_dead`); anything else, a live run's or one whose
    owner cannot be proven gone, stays. Returns how many were removed."""
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
