"""What every service and provider shares: the service handle, URLs, waiting and clean-up.

A *kind* (``postgres``, ``redis``, one module each) knows how to talk to a server: its URL
scheme, its readiness query, the environment variables a test run gets, and how to run the
server in a container or as a local process. A *provider* (``url``, ``docker``, ``local``)
knows where the server comes from. Each provider hands back a :class:`Running` context
manager whose ``__enter__`` stops whatever it started when start-up fails, and which yields
the one handle type, :class:`Service`.

This module must import quickly and run on Python 3.9: the pytest plugin uses it.
"""

from __future__ import annotations

import importlib
import signal
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import Callable, Optional
from urllib.parse import quote, unquote, urlsplit

from noxops.errors import NoxopsError
from noxops.masking import USERINFO_SAFE, mask, register_password, register_url, split_url

__all__ = [
    "ContainerSpec",
    "Endpoint",
    "Kind",
    "LocalSpec",
    "NotReady",
    "Running",
    "Service",
    "ServiceError",
    "free_port",
    "kind",
    "mask_url",
    "tail",
    "wait_until_ready",
]


class ServiceError(NoxopsError):
    """A service could not be provided: what was tried, why it failed, how to fix it."""


class NotReady(Exception):
    """A readiness probe's answer: not yet (retry) unless ``fatal`` (give up at once)."""

    def __init__(self, message: str, *, fatal: bool = False) -> None:
        super().__init__(message)
        self.fatal = fatal


def mask_url(text: str) -> str:
    """``text`` with the password of every URL in it (and every registered secret) masked."""
    return mask(text)


@dataclass(frozen=True)
class Endpoint:
    """Where a server answers and with which credentials."""

    scheme: str
    host: str
    port: int
    user: str = ""
    password: str = ""
    database: str = ""  # the database name (PostgreSQL) or number (Redis)

    @property
    def url(self) -> str:
        auth = ""
        if self.user or self.password:
            auth = quote(self.user, safe="")
            if self.password:
                auth += ":" + quote(self.password, safe="")
            auth += "@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        path = f"/{quote(self.database, safe='')}" if self.database else ""
        return f"{self.scheme}://{auth}{host}:{self.port}{path}"

    @property
    def masked_url(self) -> str:
        return mask_url(self.url)

    @classmethod
    def parse(cls, url: str, *, schemes: Sequence[str], default_port: int, what: str) -> Endpoint:
        """Parse ``url``; a :class:`ServiceError` naming ``what`` (masked) when it is malformed.

        The password is read leniently (up to the last ``@`` before the host, so it may hold
        ``@ / # ?``, spaces and quotes unencoded) and registered with the masker."""
        shown = mask_url(url)
        userinfo = split_url(url)
        if userinfo is not None:  # encode what the password holds unencoded
            head, user, password, rest = userinfo
            register_url(url)
            user, password = (quote(p, safe=USERINFO_SAFE) for p in (user, password))
            url = f"{head}{user}:{password}@{rest}"
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise ServiceError(f"{what} {shown!r} is not a valid URL: {mask(str(exc))}") from None
        if parts.scheme not in schemes:
            raise ServiceError(
                f"{what} {shown!r} has scheme {parts.scheme or '(none)'!r}; expected "
                f"{' or '.join(repr(s + '://') for s in schemes)}"
            )
        if not parts.hostname:
            raise ServiceError(
                f"{what} {shown!r} names no host; write {schemes[0]}://HOST:PORT/..."
            )
        return cls(
            scheme=parts.scheme,
            host=parts.hostname,
            port=port or default_port,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            database=unquote(parts.path.lstrip("/")),
        )


@dataclass(frozen=True)
class ContainerSpec:
    """How to run a kind's server in a container."""

    port: int  # inside the container; published on a free host port
    endpoint: Endpoint  # host and port are filled in once the container runs
    env: Mapping[str, str] = field(default_factory=dict)
    command: Sequence[str] = ()
    tmpfs: Sequence[str] = ()  # folders mounted in memory (world-writable)


@dataclass(frozen=True)
class LocalSpec:
    """How to run a kind's server as a local process in ``workdir`` on ``port``."""

    prepare: Sequence[Sequence[str]]  # commands run (and waited for) first, e.g. initdb
    command: Sequence[str]  # the server, in the foreground
    endpoint: Endpoint
    log: Path  # where the server writes its log (its stdout/stderr go there too)
    as_user: Optional[str] = None  # run as this user (PostgreSQL refuses to run as root)
    stop_signal: int = signal.SIGTERM
    binary: str = ""  # which server binary runs, for the report
    pidfile: Optional[Path] = None  # where the server writes its pid (inside ``workdir``)


class Kind:
    """A kind of service. Subclasses live in one module each and are found by name."""

    name = ""  # the name in [tool.noxops.integration] services
    title = ""  # for messages
    url_env = ""  # the variable holding its URL, like DATABASE_URL
    schemes: tuple[str, ...] = ()
    default_port = 0
    default_image = ""

    def parse(self, url: str, what: Optional[str] = None) -> Endpoint:
        return Endpoint.parse(
            url, schemes=self.schemes, default_port=self.default_port, what=what or self.url_env
        )

    def probe(self, endpoint: Endpoint, timeout: float) -> None:
        """One real query; raises :class:`NotReady` until the server answers it."""
        raise NotImplementedError

    def env(self, endpoint: Endpoint) -> dict[str, str]:
        """The variables a test run gets: the URL and its parts."""
        raise NotImplementedError

    def container(self, password: str) -> ContainerSpec:
        raise NotImplementedError

    def local(self, workdir: Path, port: int, password: str) -> LocalSpec:
        """The local server's commands; :class:`ServiceError` when it is not installed."""
        raise NotImplementedError

    def local_available(self) -> Optional[str]:
        """``None`` when a local server can run here, else why not and how to fix it."""
        raise NotImplementedError

    def stop_leftover(self, workdir: Path, port: int, binary: str) -> None:
        """Stop, gently, a local server a provably dead run left in ``workdir`` (on ``port``,
        run from ``binary``), but only a process tied to ``workdir`` (its pid file and working
        folder, or its own answer naming the folder). Whatever this leaves, the caller stops
        by working folder. The default does nothing."""


_KIND_MODULES = {"postgres": "noxops.services.postgres", "redis": "noxops.services.redis"}


def kind(name: str) -> Kind:
    """The kind called ``name``: the ``KIND`` of module ``noxops.services.<name>``."""
    module_name = _KIND_MODULES.get(name, f"noxops.services.{name}")
    try:
        module = importlib.import_module(module_name)
        found = getattr(module, "KIND")  # noqa: B009 - a module attribute by convention
    except (ImportError, AttributeError):
        raise ServiceError(
            f"unknown service {name!r}; known services: {', '.join(sorted(_KIND_MODULES))}"
        ) from None
    if not isinstance(found, Kind):  # pragma: no cover - a broken service module
        raise ServiceError(f"{module_name}.KIND is not a service kind")
    return found


@dataclass(frozen=True)
class Service:
    """A running service, whichever provider runs it: the one handle type."""

    kind: str  # "postgres", "redis", ...
    provider: str  # "url", "docker", "local"
    endpoint: Endpoint
    env: Mapping[str, str]  # what a test run gets: URL and parts
    ready_seconds: float = 0.0
    detail: str = ""  # e.g. the container id or the server binary

    @property
    def url(self) -> str:
        return self.endpoint.url

    @property
    def masked_url(self) -> str:
        return self.endpoint.masked_url

    @property
    def host(self) -> str:
        return self.endpoint.host

    @property
    def port(self) -> int:
        return self.endpoint.port

    @property
    def user(self) -> str:
        return self.endpoint.user

    @property
    def password(self) -> str:
        return self.endpoint.password

    @property
    def database(self) -> str:
        return self.endpoint.database

    def with_ready_seconds(self, seconds: float) -> Service:
        return replace(self, ready_seconds=seconds)

    def __repr__(self) -> str:  # never show the password
        return f"Service({self.kind} via {self.provider} at {self.masked_url})"


def tail(path: Optional[Path], lines: int = 20) -> str:
    """The last ``lines`` lines of a log file, indented, or an empty string."""
    if path is None or not path.is_file():
        return ""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:  # pragma: no cover - unreadable log
        return ""
    return indent_tail(text, lines)


def indent_tail(text: str, lines: int = 20) -> str:
    kept = [line for line in text.splitlines() if line.strip()][-lines:]
    return "\n".join(f"    | {mask_url(line)}" for line in kept)


def wait_until_ready(
    probe: Callable[[float], None],
    *,
    timeout: float,
    what: str,
    log: Callable[[], str] = lambda: "",
    alive: Callable[[], Optional[str]] = lambda: None,
    interval: float = 0.05,
    max_interval: float = 0.5,
) -> float:
    """Call ``probe(seconds_left)`` until it returns; the seconds it took.

    ``alive`` returns why the server is gone (it exited) to stop waiting early. On timeout
    or a fatal :class:`NotReady` the :class:`ServiceError` names ``what`` and carries the
    last error and the tail of ``log()``.
    """
    start = time.monotonic()
    deadline = start + timeout
    last = "no answer yet"
    while True:
        left = deadline - time.monotonic()
        try:
            probe(max(0.5, min(left, 5.0)))
            return time.monotonic() - start
        except NotReady as exc:
            last = str(exc)
            if exc.fatal:
                raise ServiceError(
                    _explain(f"{what} failed its readiness check: {last}", log)
                ) from None
        gone = alive()
        if gone:
            raise ServiceError(_explain(f"{what} stopped before it was ready: {gone}", log))
        if time.monotonic() + interval > deadline:
            raise ServiceError(
                _explain(f"{what} was not ready after {timeout:g}s (last error: {last})", log)
            )
        time.sleep(interval)
        interval = min(interval * 1.5, max_interval)


def _explain(message: str, log: Callable[[], str]) -> str:
    text = log()
    message = mask_url(message)
    return f"{message}\n  last lines of its log:\n{text}" if text else message


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class Running:
    """A started service as a context manager: ``__enter__`` starts and waits until ready.

    If anything in start-up fails (or is interrupted), ``__enter__`` calls :meth:`stop`
    before the error propagates, so nothing is left behind. ``stop`` must be idempotent.
    """

    provider = ""

    def __init__(self, kind: Kind, ready_timeout: float) -> None:
        self.kind = kind
        self.ready_timeout = ready_timeout
        self.service: Optional[Service] = None
        self.cancelled = threading.Event()

    def start(self) -> Service:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def cancel(self) -> None:
        """Ask a start-up running in another thread to give up soon (then call stop)."""
        self.cancelled.set()

    def check_cancelled(self) -> None:
        if self.cancelled.is_set():
            raise ServiceError(f"starting {self.kind.title} ({self.provider}) was cancelled")

    def gone(self) -> Optional[str]:
        """Why the server cannot become ready any more (it exited), else ``None``."""
        return "start-up was cancelled" if self.cancelled.is_set() else None

    def log_tail(self) -> str:
        return ""

    def wait(self, endpoint: Endpoint, timeout: Optional[float] = None) -> float:
        """Wait until the kind's readiness query answers on ``endpoint``."""
        return wait_until_ready(
            lambda left: self.kind.probe(endpoint, left),
            timeout=self.ready_timeout if timeout is None else timeout,
            what=f"{self.kind.title} ({self.provider} provider, {endpoint.masked_url})",
            log=self.log_tail,
            alive=self.gone,
        )

    def ready(self, endpoint: Endpoint, detail: str) -> Service:
        """Wait for ``endpoint`` (see :meth:`wait`), then describe it as this provider's service
        (its password registered with the masker: the tests get it in their environment)."""
        register_password(endpoint.password)
        self.wait(endpoint)
        return Service(
            kind=self.kind.name,
            provider=self.provider,
            endpoint=endpoint,
            env=self.kind.env(endpoint),
            detail=detail,
        )

    def __enter__(self) -> Service:
        started = time.monotonic()
        try:
            service = self.start()
        except BaseException:
            self.stop()
            raise
        self.service = service.with_ready_seconds(time.monotonic() - started)
        return self.service

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.stop()
