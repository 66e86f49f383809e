"""Choosing a provider for each service, and running a group of services safely.

Automatic choice, per service: ``url`` when its URL variable (``DATABASE_URL``,
``REDIS_URL``) is set, else ``docker`` when an engine answers within ``engine_timeout``
seconds, else ``local``. A forced provider that cannot work fails at once with what was tried
and how to fix it.

:class:`Services` starts the chosen services in parallel and, while they run, turns SIGTERM
and SIGHUP into :class:`Terminated` (a ``KeyboardInterrupt``, so nox stops the command it is
running just as for Ctrl-C) and makes sure SIGINT raises ``KeyboardInterrupt``. Whatever
happens, leaving the ``with`` block stops every service, with further signals held off until
the clean-up is done; the previous handlers are restored afterwards. The clean-up first
cancels the starts still running and waits for their threads: a thread left running could
create its container after the clean-up had looked for it.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import FrameType, TracebackType
from typing import Any, Callable, Optional, Union

from noxops.services.base import Kind, Running, Service, ServiceError, kind
from noxops.services.settings import PROVIDERS

__all__ = [
    "PROVIDER_ENV",
    "Choice",
    "InterruptSignals",
    "Services",
    "Settings",
    "Terminated",
    "describe",
    "plan",
    "requested_provider",
    "services_env",
]

PROVIDER_ENV = "NOXOPS_PROVIDER"


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived while services were running."""


@dataclass(frozen=True)
class Settings:
    """How services are started (``[tool.noxops.integration]`` holds the same keys)."""

    images: Mapping[str, str] = field(default_factory=dict)
    ready_timeout: float = 60.0
    url_timeout: float = 10.0
    engine_timeout: float = 3.0

    @classmethod
    def from_config(cls, config: Any) -> Settings:
        return cls(
            images=dict(config.images),
            ready_timeout=config.ready_timeout,
            url_timeout=config.url_timeout,
            engine_timeout=config.engine_timeout,
        )


@dataclass(frozen=True)
class Choice:
    """Which provider serves one service, and why."""

    kind: Kind
    provider: str
    why: str
    url: str = ""


def requested_provider(
    configured: str = "auto",
    env: Optional[Mapping[str, str]] = None,
    override: Optional[str] = None,
) -> str:
    """The provider to use: ``override`` (the command line), else ``NOXOPS_PROVIDER``, else
    ``configured``."""
    env = os.environ if env is None else env
    if override:
        source, value = "--provider", override
    elif env.get(PROVIDER_ENV):
        source, value = PROVIDER_ENV, env[PROVIDER_ENV]
    else:
        source, value = "provider", configured or "auto"
    value = value.strip().lower()
    if value not in PROVIDERS:
        raise ServiceError(
            f"{source}={value!r} is not a provider; use one of {', '.join(PROVIDERS)}"
        )
    return value


def plan(  # noqa: PLR0912 - one branch per provider and fallback
    names: Sequence[str],
    provider: str = "auto",
    *,
    env: Optional[Mapping[str, str]] = None,
    engine_timeout: float = 3.0,
    engine_problem: Optional[Callable[[float], Optional[str]]] = None,
) -> list[Choice]:
    """Choose a provider for each service in ``names``; :class:`ServiceError` if one cannot."""
    env = os.environ if env is None else env
    if provider not in PROVIDERS:
        raise ServiceError(f"unknown provider {provider!r}; use one of {', '.join(PROVIDERS)}")
    if engine_problem is None:
        from noxops.services.docker import engine_problem as default_probe

        engine_problem = default_probe
    docker_checked: list[Optional[str]] = []

    def docker_problem() -> Optional[str]:
        if not docker_checked:
            docker_checked.append(engine_problem(engine_timeout))
        return docker_checked[0]

    choices: list[Choice] = []
    for name in names:
        k = kind(name)
        url = env.get(k.url_env, "").strip()
        if provider == "url":
            if not url:
                raise ServiceError(
                    f"provider 'url' needs {k.url_env} for {k.title} (like "
                    f"{k.schemes[0]}://USER:PASSWORD@HOST:{k.default_port}/...); set it, or "
                    "choose another provider"
                )
            choices.append(Choice(k, "url", f"{k.url_env} is set (forced)", url))
        elif provider == "docker":
            problem = docker_problem()
            if problem:
                raise ServiceError(
                    f"provider 'docker' cannot run {k.title}: {problem}; start the engine, "
                    "set DOCKER_HOST, or choose another provider (local needs no Docker)"
                )
            choices.append(Choice(k, "docker", "forced"))
        elif provider == "local":
            reason = k.local_available()
            if reason:
                raise ServiceError(f"provider 'local' cannot run {k.title}: {reason}")
            choices.append(Choice(k, "local", "forced"))
        elif url:
            choices.append(Choice(k, "url", f"{k.url_env} is set", url))
        else:
            problem = docker_problem()
            if problem is None:
                choices.append(Choice(k, "docker", f"{k.url_env} unset, a Docker engine answered"))
                continue
            reason = k.local_available()
            if reason is None:
                choices.append(
                    Choice(k, "local", f"{k.url_env} unset, no Docker engine ({problem})")
                )
                continue
            raise ServiceError(
                f"no provider can run {k.title}: url: {k.url_env} is not set; docker: {problem}; "
                f"local: {reason}"
            )
    return choices


def _running(choice: Choice, settings: Settings) -> Running:
    if choice.provider == "url":
        from noxops.services.url import UrlRunning

        return UrlRunning(choice.kind, choice.url, settings.url_timeout)
    if choice.provider == "docker":
        from noxops.services.docker import DockerRunning

        image = settings.images.get(choice.kind.name, "")
        return DockerRunning(choice.kind, settings.ready_timeout, image, settings.engine_timeout)
    from noxops.services.local import LocalRunning

    return LocalRunning(choice.kind, settings.ready_timeout)


_Handler = Union[Callable[[int, Optional[FrameType]], Any], int, None]


class InterruptSignals:
    """Signal handlers that turn termination into exceptions, then hold them off for clean-up."""

    SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")

    def __init__(self) -> None:
        self._saved: dict[int, _Handler] = {}
        self.pending: list[int] = []
        self.active = threading.current_thread() is threading.main_thread()

    def _raise(self, signum: int, frame: Optional[FrameType]) -> None:
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise Terminated(signal.Signals(signum).name)

    def _hold(self, signum: int, frame: Optional[FrameType]) -> None:
        self.pending.append(signum)

    def _set(self, handler: _Handler) -> None:
        for name in self.SIGNALS:
            signum = getattr(signal, name, None)
            if signum is None:  # pragma: no cover - not on this platform
                continue
            previous = signal.signal(signum, handler)
            self._saved.setdefault(signum, previous)

    def install(self) -> None:
        if self.active:
            self._set(self._raise)

    def hold(self) -> None:
        if self.active:
            self._set(self._hold)

    def deliver(self) -> None:
        """Handle signals again (:meth:`install`), and raise now for one held meanwhile."""
        pending, self.pending = self.pending, []
        self.install()
        if pending:
            self._raise(pending[0], None)

    def restore(self) -> None:
        for signum, handler in self._saved.items():
            signal.signal(signum, handler)
        self._saved.clear()


class Services:
    """Start services in parallel; stop them all on exit, whatever happened.

    ``with Services(choices, settings) as running:`` gives ``{name: Service}``.
    """

    def __init__(self, choices: Sequence[Choice], settings: Optional[Settings] = None) -> None:
        self.choices = list(choices)
        self.settings = settings or Settings()
        self.runnings: list[Running] = []
        self.threads: list[threading.Thread] = []  # one per start, joined before any stop
        self.signals = InterruptSignals()

    def __enter__(self) -> dict[str, Service]:
        self.signals.install()
        try:
            return self._start()
        except BaseException:
            self._stop_all()
            raise

    def _start(self) -> dict[str, Service]:
        self.runnings = [_running(c, self.settings) for c in self.choices]
        results: list[Optional[BaseException]] = [None] * len(self.runnings)
        # Waited for through these, not Thread.join(): a signal raised inside join() makes
        # Python before 3.13 take the thread for ended while it runs on (CPython issue
        # 90882), and the clean-up would not wait for it.
        done = [threading.Event() for _ in self.runnings]

        def run(index: int, running: Running) -> None:
            try:
                running.__enter__()
            except BaseException as exc:  # reported by the main thread
                results[index] = exc
            finally:
                done[index].set()

        self.threads = [
            threading.Thread(target=run, args=(i, r), name=f"noxops-start-{r.kind.name}")
            for i, r in enumerate(self.runnings)
        ]
        # A signal raised inside Thread.start() can leave a thread running that cannot be
        # joined yet: held until every thread has started, then raised.
        self.signals.hold()
        try:
            for thread in self.threads:
                thread.start()
        finally:
            self.signals.deliver()
        first_failure: Optional[int] = None
        for event in done:
            while not event.wait(0.05):  # short waits: the first failure cancels the rest
                if first_failure is None:
                    first_failure = next(
                        (i for i, exc in enumerate(results) if exc is not None), None
                    )
                    if first_failure is not None:  # one failed: the others need not wait
                        for running in self.runnings:
                            running.cancel()
        failures = [exc for exc in results if exc is not None]
        if first_failure is not None:  # what the cancelled ones said is only an echo
            failures = [exc for exc in failures if exc is results[first_failure]] + [
                exc for exc in failures if "was cancelled" not in str(exc)
            ]
            failures = list(dict.fromkeys(failures))
        if failures:
            unexpected = [f for f in failures if not isinstance(f, ServiceError)]
            if unexpected:
                raise unexpected[0]
            raise ServiceError("\n".join(str(f) for f in failures))
        return {r.kind.name: r.service for r in self.runnings if r.service is not None}

    def _stop_all(self) -> None:
        self.signals.hold()
        try:
            # The starts still running give up, and end, before anything is looked for
            # (joined with signals held: nothing interrupts the join).
            starting = [(r, t) for r, t in zip(self.runnings, self.threads) if t.is_alive()]
            for running, _ in starting:
                running.cancel()
            for _, thread in starting:
                thread.join()
            threads = [
                threading.Thread(target=r.stop, name=f"noxops-stop-{r.kind.name}")
                for r in self.runnings
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            self.signals.restore()

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self._stop_all()


def describe(service: Service) -> str:
    """One line for the session log: which provider, how fast, where (password masked)."""
    return (
        f"{service.kind}: {service.provider} provider, ready in {service.ready_seconds:.2f}s "
        f"at {service.masked_url} [{service.detail}]"
    )


def services_env(services: Mapping[str, Service]) -> dict[str, str]:
    """The environment a test run gets: every service's URL and parts, and the providers."""
    env: dict[str, str] = {}
    for service in services.values():
        env.update(service.env)
    env["NOXOPS_SERVICES"] = ",".join(f"{s.kind}:{s.provider}" for s in services.values())
    return env
