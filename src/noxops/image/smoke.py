"""Running an image for smoke tests: start it (and its helper containers), wait, clean up.

:class:`RunningService` is a context manager: on entry it starts the helper containers on a
private network, starts the image with its port published on 127.0.0.1, and waits until the
health path answers HTTP 200 (a TCP connect is not enough: a published port accepts
connections before the service listens). Where that port is not this process's to reach:

- a remote or docker-in-docker engine (``DOCKER_HOST=tcp://docker:2376``) publishes on every
  interface of its machine, reached at :func:`noxops.containers.engine.published_host` (``docker``);
- when noxops itself runs in a container of the engine it talks to (a CI job container with
  the host's socket mounted, :func:`noxops.containers.engine.reach_through_network`), its own
  container joins the run's network and reaches the service by its alias and container port,
  nothing is published; the container leaves the network on every way out.

If anything fails on the way, or the service never becomes healthy within the timeout, or
exits, it prints the containers' logs, removes everything it started and raises. On exit
(including Ctrl-C, SIGTERM and SIGHUP) it removes them too.

Every container and network is named before it is created and registered under that name,
so one whose ``docker create`` was interrupted half way is still removed; each carries this
process's lease id (:mod:`noxops.containers.leases`), and :func:`reap_stale` removes only what a
provably dead run left (SIGKILL, a lost CI runner), never a live neighbour's.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Callable, Optional

from noxops.containers import engine, leases
from noxops.errors import NoxopsError

__all__ = [
    "LABEL",
    "RunningService",
    "SidecarSpec",
    "SmokeError",
    "http_status",
    "is_http_url",
    "reap_stale",
]

LABEL = engine.SMOKE_LABEL  # every container and network a smoke run starts carries it
_CLI_VARS = {"PATH", "HOME", "USER", "TMPDIR"}  # the docker CLI reads these itself


class SmokeError(NoxopsError):
    """The service could not be started or never became healthy; logs were printed."""


@dataclass(frozen=True)
class SidecarSpec:
    alias: str
    image: str
    env: Mapping[str, str] = field(default_factory=dict)
    command: tuple[str, ...] = ()


def http_status(url: str, timeout: float = 3.0) -> int | None:
    """The HTTP status of GET ``url`` (no proxies), or None when nothing answered."""
    import urllib.error  # here: every nox process loads this module, few send requests
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, ValueError):
        return None


def is_http_url(url: str) -> bool:
    """Whether ``url`` can be a service's address: http(s), a host, a numeric port if any.

    Checked before waiting for a health answer, which anything else would never give (or
    would fail on with a traceback: a port that is not a number)."""
    import urllib.parse

    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _env_split(env: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
    """``docker run`` arguments and CLI environment for ``env``, values kept out of argv."""
    args: list[str] = []
    cli_env: dict[str, str] = {}
    for key, value in env.items():
        if key in _CLI_VARS or key.startswith("DOCKER_"):
            args += ["-e", f"{key}={value}"]  # would change the CLI itself
        else:
            args += ["-e", key]
            cli_env[key] = value
    return args, cli_env


class RunningService:
    """The image running and healthy, reachable at :attr:`base_url`; see the module docstring."""

    def __init__(
        self,
        image: str,
        *,
        port: int,
        health_path: str = "/health",
        ready_path: str | None = None,
        timeout: float = 60.0,
        env: Mapping[str, str] | None = None,
        sidecars: tuple[SidecarSpec, ...] = (),
        log: Callable[[str], None] = print,
        command: Sequence[str] = (),
    ) -> None:
        self.image = image
        self.command = tuple(command)  # arguments replacing the image's CMD
        self.port = port
        self.health_path = health_path
        self.ready_path = ready_path
        self.timeout = timeout
        self.env = dict(env or {})
        self.sidecars = sidecars
        self.log = log
        self.run_id = os.urandom(6).hex()
        self.container: Optional[str] = None
        self.network: Optional[str] = None
        self.helpers: dict[str, str] = {}  # alias -> container name
        self.base_url = ""
        # Registered before they exist: what close() removes, created or not.
        self._containers: list[str] = []
        self._networks: list[str] = []
        self._connections: list[tuple[str, str]] = []  # (network, own container) joined
        self._signals: Optional[contextlib.ExitStack] = None

    # -- lifecycle --------------------------------------------------------------------------

    def __enter__(self) -> RunningService:
        self._signals = contextlib.ExitStack()
        self._signals.enter_context(leases.interrupting())
        try:
            self._start()
            self._wait()
        except BaseException as exc:
            if not isinstance(exc, KeyboardInterrupt):
                self.print_logs()
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Remove everything this run registered, whether or not its creation finished (an
        interrupted ``docker create`` may still finish in the engine: swept again by label);
        safe to call twice."""
        try:
            for name in self._containers:
                engine.remove_container(name)
            if self._containers:
                self._sweep()
            for network, container in self._connections:
                engine.disconnect_network(network, container)
            for name in self._networks:
                engine.remove_network(name)
            self._containers, self._networks, self._connections = [], [], []
            self.container, self.helpers, self.network = None, {}, None
        finally:
            if self._signals is not None:
                self._signals.close()
                self._signals = None

    def _sweep(self) -> None:
        """Remove containers with this run's label that removal by name missed."""
        for _ in range(3):
            listing = engine.docker(
                "ps", "-aq", "--filter", f"label={LABEL}={self.run_id}", check=False, timeout=60
            ).stdout.split()
            if not listing:
                return
            for ident in listing:
                engine.remove_container(ident)
            time.sleep(0.3)

    # -- start ----------------------------------------------------------------------------

    def _labels(self) -> list[str]:
        return engine.labels_args(
            {
                LABEL: self.run_id,
                engine.LEASE_LABEL: leases.process_lease().id,
                **engine.owner_labels(LABEL),
            }
        )

    def _run(self, name: str, *args: str, env: Mapping[str, str]) -> str:
        """``docker create`` (named, registered first) then ``docker start``; the name."""
        self._containers.append(name)
        engine.docker("create", "--name", name, *self._labels(), *args, env=env, complete=True)
        engine.docker("start", name)
        return name

    def _start(self) -> None:
        reaped = reap_stale()
        if reaped:
            self.log(f"removed {reaped} container(s)/network(s) left by an earlier killed run")
        name = f"noxops-smoke-{self.run_id}"
        joiner = engine.reach_through_network()  # this job's own container, or None
        if self.sidecars or joiner:
            self._networks.append(name)
            engine.docker("network", "create", *self._labels(), name, complete=True)
            self.network = name
        if joiner and self.network:
            self.log(f"joining this job's container {joiner[:12]} to {self.network}")
            self._connections.append((self.network, joiner))
            try:
                engine.connect_network(self.network, joiner)
            except engine.EngineError as exc:  # e.g. a job container on the host's network
                self.log(f"{exc}; reaching the service on a published port instead")
                self._connections.pop()
                joiner = None
        if self.network:
            for spec in self.sidecars:
                args, cli_env = _env_split(spec.env)
                self.log(f"starting helper {spec.alias} ({spec.image})")
                self.helpers[spec.alias] = self._run(
                    f"{name}-{spec.alias}", "--network", self.network, "--network-alias",
                    spec.alias, *args, spec.image, *spec.command, env=cli_env,
                )  # fmt: skip
        args, cli_env = _env_split(self.env)
        network = ["--network", self.network, "--network-alias", name] if self.network else []
        if joiner and self.network:
            self.log(f"starting {self.image} (port {self.port} on network {self.network})")
            self.container = self._run(
                name, *network, *args, self.image, *self.command, env=cli_env
            )
            self.base_url = f"http://{name}:{self.port}"
            return
        address = engine.publish_address()
        where = address or "every interface"
        self.log(f"starting {self.image} (port {self.port} published on {where})")
        publish = ["-p", f"{address}::{self.port}" if address else str(self.port)]
        self.container = self._run(
            name, *network, *publish, *args, self.image, *self.command, env=cli_env
        )
        port = engine.docker("port", self.container, f"{self.port}/tcp", check=False)
        mapped = str(port.stdout).strip()
        host_port = mapped.splitlines()[0].rsplit(":", 1)[-1] if mapped else ""
        if not host_port.isdigit():
            status, code = self._state()
            if status in {"exited", "dead"}:  # ended before its port could be read
                raise self._ended(code, self.health_path)
            raise SmokeError(f"the engine did not publish port {self.port} ({mapped!r})")
        self.base_url = f"http://{engine.published_host()}:{host_port}"

    # -- wait -----------------------------------------------------------------------------

    def _state(self) -> tuple[str, int]:
        out = engine.docker(
            "inspect",
            "-f",
            "{{.State.Status}} {{.State.ExitCode}}",
            str(self.container),
            check=False,
        ).stdout.split()
        return (out[0], int(out[1])) if len(out) == 2 and out[1].lstrip("-").isdigit() else ("", 0)

    def _ended(self, code: int, path: str) -> SmokeError:
        return SmokeError(
            f"{self.image} exited with code {code} before {path} answered HTTP 200 "
            "(its logs are above)"
        )

    def _wait(self) -> None:
        started = time.monotonic()
        deadline = started + self.timeout
        paths = [self.health_path, *([self.ready_path] if self.ready_path else [])]
        for path in paths:
            url = self.base_url + path
            last: int | None = None
            while True:
                status, code = self._state()
                if status in {"exited", "dead"}:
                    raise self._ended(code, path)
                last = http_status(url, timeout=min(3.0, max(0.5, deadline - time.monotonic())))
                if last == 200:
                    break
                if time.monotonic() >= deadline:
                    seen = f"last answer HTTP {last}" if last else "no HTTP answer"
                    raise SmokeError(
                        f"{self.image} did not answer HTTP 200 on {path} within "
                        f"{self.timeout:g}s ({seen}); its logs are above. Raise "
                        "[tool.noxops.image.smoke] timeout if it needs longer to start"
                    )
                time.sleep(0.3)
            self.log(f"{url} answered HTTP 200 after {time.monotonic() - started:.1f}s")

    # -- logs -----------------------------------------------------------------------------

    def logs(self, container: str | None = None, tail: int = 200) -> str:
        target = container or self.container
        if not target:
            return ""
        proc = engine.docker("logs", "--tail", str(tail), target, check=False)
        return (proc.stdout + proc.stderr).strip()

    def print_logs(self) -> None:
        for alias, container in self.helpers.items():
            self.log(f"---- logs of helper {alias} ----\n{self.logs(container, tail=40)}")
        if self.container:
            self.log(f"---- logs of {self.image} ----\n{self.logs() or '(no output)'}")


def reap_stale() -> int:
    """Remove what smoke runs left behind when they were killed (SIGKILL, a lost CI runner):
    only containers and networks whose owner's lease proves it dead, never a live run's,
    whatever machine, container or PID namespace it runs in."""
    return engine.reap_dead(LABEL)
