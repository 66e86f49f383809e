"""Choosing providers, the provider override, and the signal handlers' life cycle."""

from __future__ import annotations

import importlib.util
import os
import signal
from typing import Optional

import pytest

from noxops.services import postgres as postgres_module
from noxops.services.base import ServiceError
from noxops.services.select import (
    InterruptSignals,
    Services,
    Settings,
    Terminated,
    plan,
    requested_provider,
    services_env,
)


def engine_ok(timeout: float) -> Optional[str]:
    return None


def engine_down(timeout: float) -> Optional[str]:
    return "no Docker engine answered at unix:///var/run/docker.sock: refused"


URLS = {"DATABASE_URL": "postgresql://u:pw@db:5432/app", "REDIS_URL": "redis://cache:6379/0"}


def _providers(names: list[str], provider: str, env: dict[str, str], probe: object) -> list[str]:
    choices = plan(names, provider, env=env, engine_problem=probe)  # type: ignore[arg-type]
    return [c.provider for c in choices]


def test_auto_prefers_urls_then_docker_then_local() -> None:
    both = ["postgres", "redis"]
    assert _providers(both, "auto", URLS, engine_down) == ["url", "url"]
    only_db = {"DATABASE_URL": URLS["DATABASE_URL"]}
    assert _providers(both, "auto", only_db, engine_ok) == ["url", "docker"]
    assert _providers(both, "auto", {}, engine_ok) == ["docker", "docker"]
    if postgres_module.KIND.local_available() is None:
        assert _providers(["postgres"], "auto", {}, engine_down) == ["local"]


def test_the_engine_is_asked_once_per_plan() -> None:
    asked: list[float] = []

    def probe(timeout: float) -> Optional[str]:
        asked.append(timeout)
        return None

    plan(["postgres", "redis"], "auto", env={}, engine_timeout=2.5, engine_problem=probe)
    assert asked == [2.5]


def test_forced_providers_ignore_what_auto_would_pick() -> None:
    assert _providers(["postgres"], "docker", URLS, engine_ok) == ["docker"]
    assert _providers(["redis"], "url", URLS, engine_ok) == ["url"]
    if postgres_module.KIND.local_available() is None:
        assert _providers(["postgres"], "local", URLS, engine_ok) == ["local"]


def test_forced_url_without_a_url_says_which_variable() -> None:
    with pytest.raises(
        ServiceError, match=r"provider 'url' needs REDIS_URL for Redis \(like redis://"
    ):
        plan(["redis"], "url", env={}, engine_problem=engine_ok)


def test_forced_docker_without_an_engine_says_what_was_tried() -> None:
    with pytest.raises(ServiceError) as info:
        plan(["postgres"], "docker", env=URLS, engine_problem=engine_down)
    assert "unix:///var/run/docker.sock" in str(info.value)
    assert "choose another provider" in str(info.value)


def test_no_provider_at_all_lists_every_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        postgres_module.PostgresKind, "local_available", lambda self: "no initdb found"
    )
    with pytest.raises(ServiceError) as info:
        plan(["postgres"], "auto", env={}, engine_problem=engine_down)
    message = str(info.value)
    assert "url: DATABASE_URL is not set" in message
    assert "docker: no Docker engine answered" in message
    assert "local: no initdb found" in message


def test_forced_local_without_binaries_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("NOXOPS_PG_BIN", raising=False)
    monkeypatch.setattr(postgres_module, "_LOCATIONS", ())
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ServiceError) as info:
        plan(["postgres"], "local", env={}, engine_problem=engine_ok)
    message = str(info.value)
    assert "no PostgreSQL server binaries" in message
    assert "apt-get install postgresql" in message
    assert "noxops[local-servers]" in message


def test_unknown_services_and_providers_are_rejected() -> None:
    with pytest.raises(ServiceError, match="unknown service 'mongo'"):
        plan(["mongo"], "auto", env={}, engine_problem=engine_ok)
    with pytest.raises(ServiceError, match="unknown provider 'kubernetes'"):
        plan(["redis"], "kubernetes", env={}, engine_problem=engine_ok)


def test_requested_provider_reads_the_environment_first() -> None:
    assert requested_provider("docker", {}) == "docker"
    assert requested_provider("docker", {"NOXOPS_PROVIDER": "Local"}) == "local"
    assert requested_provider("", {}) == "auto"
    with pytest.raises(ServiceError, match="NOXOPS_PROVIDER='podman' is not a provider"):
        requested_provider("auto", {"NOXOPS_PROVIDER": "podman"})
    # The command line wins over the environment, which wins over the configuration.
    assert requested_provider("docker", {"NOXOPS_PROVIDER": "local"}, override="url") == "url"
    with pytest.raises(ServiceError, match="--provider='k8s' is not a provider"):
        requested_provider("auto", {}, override="k8s")


def test_signals_raise_while_installed_and_are_restored_after() -> None:
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    handlers = InterruptSignals()
    handlers.install()
    try:
        with pytest.raises(Terminated):
            os.kill(os.getpid(), signal.SIGTERM)
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
        handlers.hold()  # during clean-up: noted, not raised
        os.kill(os.getpid(), signal.SIGTERM)
        assert handlers.pending == [signal.SIGTERM]
    finally:
        handlers.restore()
    assert {s: signal.getsignal(s) for s in before} == before


def test_an_empty_group_starts_nothing_and_restores_handlers() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with Services([], Settings()) as running:
        assert running == {}
        assert signal.getsignal(signal.SIGTERM) != before
    assert signal.getsignal(signal.SIGTERM) == before
    assert services_env(running) == {"NOXOPS_SERVICES": ""}
