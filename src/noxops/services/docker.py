"""The ``docker`` provider: the service in a container started with testcontainers.

The engine is whatever the docker SDK finds (``DOCKER_HOST`` or the local socket; remote
engines included). Ports are published on 127.0.0.1 when the engine is local. noxops never
relies on testcontainers' reaper container (Ryuk): every container carries a label unique to
this run and :meth:`DockerRunning.stop` removes whatever carries it, also when start-up was
interrupted half way. Each also carries this process's lease id (:mod:`noxops.containers.leases`):
the next run removes what a SIGKILLed run left, and only that (never a live neighbour's).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import threading
import time
import uuid
from typing import Any, Optional

from noxops.containers import leases
from noxops.containers.engine import (
    LEASE_LABEL,
    LEGACY_SERVICE_LABEL,
    OWNER_ENV,
    SERVICE_LABEL,
    engine_url,
    is_local,
    owner_labels,
    published_host,
    reap_dead,
    unix_socket_problem,
)
from noxops.services.base import Endpoint, Kind, Running, Service, ServiceError, indent_tail

__all__ = ["LABEL", "OWNER_ENV", "DockerRunning", "engine_problem", "engine_url"]

LABEL = SERVICE_LABEL  # every container noxops starts carries it: value = one id per service


def _quiet_clients() -> None:
    """Keep the HTTP chatter of the docker SDK out of nox's (debug-level) log."""
    for name in ("urllib3", "docker", "testcontainers"):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)


def _wrapped(container: Any) -> Any:
    """The docker SDK's container behind a testcontainers one; None before it was created."""
    if container is None:
        return None
    try:
        return container.get_wrapped_container()
    except Exception:  # testcontainers 4.14+ raises when the container was never created
        return None


def _published(wrapped: Any, port: int) -> tuple[str, int]:
    """Host and host port where the container's ``port`` is published."""
    for _ in range(50):
        wrapped.reload()
        bindings = (wrapped.attrs.get("NetworkSettings", {}).get("Ports") or {}).get(f"{port}/tcp")
        if bindings:
            return published_host(), int(bindings[0]["HostPort"])
        if wrapped.status in ("exited", "dead"):
            break
        time.sleep(0.05)
    raise ServiceError(f"the container {wrapped.short_id} published no port for {port}/tcp")


def engine_problem(timeout: float = 3.0) -> Optional[str]:
    """``None`` when a Docker engine answers a ping within ``timeout`` seconds, else why not.

    The ping runs in a daemon thread so that no transport (ssh, a black-holed TCP address)
    can keep the caller waiting longer than ``timeout``.
    """
    _quiet_clients()
    refused = unix_socket_problem(timeout)
    if refused:
        return f"no Docker engine answered at {engine_url()}: {refused}"
    try:
        import docker
    except ImportError:
        return "the docker SDK is not installed where noxops runs; install noxops[docker]"
    result: list[Optional[str]] = []

    def ping() -> None:
        try:
            client = docker.from_env(timeout=max(1, int(timeout)))
            try:
                client.ping()
            finally:
                client.close()
            result.append(None)
        except Exception as exc:  # any failure means "no usable engine"
            result.append(f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}")

    thread = threading.Thread(target=ping, name="noxops-docker-ping", daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    if not result:
        return f"no Docker engine answered at {engine_url()} within {timeout:g}s"
    if result[0] is not None:
        return f"no Docker engine answered at {engine_url()}: {result[0]}"
    return None


def reap_leftovers() -> None:
    """Remove what provably dead (SIGKILLed) runs left: their service containers, also those
    labelled the way releases before 2026-12 did, and their local servers, had they used the
    local provider."""
    for label in (SERVICE_LABEL, LEGACY_SERVICE_LABEL):
        reap_dead(label)
    from noxops.services.local import reap_dead_servers

    reap_dead_servers()


class DockerRunning(Running):
    """One container, removed on stop whatever happened."""

    provider = "docker"

    def __init__(
        self, kind: Kind, ready_timeout: float, image: str = "", engine_timeout: float = 3.0
    ) -> None:
        super().__init__(kind, ready_timeout)
        self.image = image or kind.default_image
        self.engine_timeout = engine_timeout
        self.run_id = f"{kind.name}-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.container: Any = None
        self._lock = threading.Lock()

    def log_tail(self) -> str:
        wrapped = _wrapped(self.container)
        if wrapped is None:
            return ""
        try:
            return indent_tail(wrapped.logs(tail=20).decode("utf-8", errors="replace"))
        except Exception:  # the container may be gone already
            return ""

    def gone(self) -> Optional[str]:
        wrapped = _wrapped(self.container)
        if wrapped is not None:
            with contextlib.suppress(Exception):
                wrapped.reload()
                if wrapped.status in ("exited", "dead"):
                    return f"the container {wrapped.short_id} exited"
        return super().gone()

    def start(self) -> Service:
        problem = engine_problem(self.engine_timeout)
        if problem:
            raise ServiceError(
                f"docker provider cannot start {self.kind.title}: {problem}; start the engine, "
                "point DOCKER_HOST at one, or choose the local provider"
            )
        from testcontainers.core.config import testcontainers_config
        from testcontainers.core.container import DockerContainer

        testcontainers_config.ryuk_disabled = True  # we remove our containers ourselves
        reap_leftovers()
        password = secrets.token_urlsafe(12)
        spec = self.kind.container(password)
        container = DockerContainer(self.image, docker_client_kw={"timeout": 60})
        for key, value in spec.env.items():
            container.with_env(key, value)
        if spec.command:
            container.with_command(list(spec.command))
        extra: dict[str, Any] = {}
        if spec.tmpfs and hasattr(container, "with_tmpfs_mount"):
            for folder in spec.tmpfs:
                container.with_tmpfs_mount(folder)
        elif spec.tmpfs:  # testcontainers before 4.13
            extra["tmpfs"] = {folder: "" for folder in spec.tmpfs}
        # Published on 127.0.0.1 only when the engine runs here; a remote engine's port is
        # reached on its own address (DOCKER_HOST / TC_HOST).
        binding: Any = ("127.0.0.1", None) if is_local() else None
        container.ports[f"{spec.port}/tcp"] = binding
        # An explicit network keeps testcontainers from guessing one when it runs in a container.
        container.with_kwargs(
            labels={
                LABEL: self.run_id,
                "noxops.service": self.kind.name,
                **owner_labels(LABEL),
                LEASE_LABEL: leases.process_lease().id,
            },
            network="bridge",
            **extra,
        )
        with self._lock:
            self.check_cancelled()
            self.container = container
        try:
            container.start()
        except Exception as exc:
            raise ServiceError(
                f"docker provider could not start {self.kind.title} from image {self.image!r} "
                f"on {engine_url()}: {' '.join(str(exc).split())[:400]}; check the image exists "
                f"(`docker pull {self.image}`) or set [tool.noxops.integration] images"
            ) from None
        host, port = _published(container.get_wrapped_container(), spec.port)
        template = spec.endpoint
        endpoint = Endpoint(
            template.scheme, host, port, template.user, template.password, template.database
        )
        return self.ready(
            endpoint, f"{self.image} (container {container.get_wrapped_container().short_id})"
        )

    def stop(self) -> None:
        with self._lock:
            container, self.container = self.container, None
        if container is None:
            return
        client = None
        with contextlib.suppress(Exception):
            client = container.get_docker_client().client
        if client is None:  # pragma: no cover - testcontainers made its client in __init__
            return
        wrapped = _wrapped(container)
        if wrapped is not None:
            with contextlib.suppress(Exception):
                wrapped.remove(force=True, v=True)
        try:
            # Everything with this run's label: also a container whose creation was
            # interrupted before testcontainers recorded it.
            leftovers = client.containers.list(
                all=True, filters={"label": f"{LABEL}={self.run_id}"}
            )
            for found in leftovers:
                with contextlib.suppress(Exception):
                    found.remove(force=True, v=True)
        finally:
            with contextlib.suppress(Exception):
                client.close()
