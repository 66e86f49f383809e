"""Services for a session: which to start, from where, under which names, and their set-up.

The ``integration`` stage always starts its services; ``tests-<python>`` starts the same
ones when the project's tests need them (:func:`tests_services`): a project that keeps its
database tests in ``tests/`` beside the others, with no ``tests/integration`` of their own,
gets them in every tests run, each with its own servers. Both sessions use :func:`provided`:
the provider choice, the start and clean-up of :class:`~noxops.services.select.Services`,
the variables (the services' own, ``[tool.noxops.integration.env]``, and those the project
reads that it does not map: :mod:`noxops.services.usage`) and the set-up commands.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

from noxops.errors import NoxopsError
from noxops.project import detect

if TYPE_CHECKING:
    import nox

    from noxops.config import Config
    from noxops.services.base import Service

__all__ = [
    "Provided",
    "integration_paths",
    "mapped_env",
    "part_value",
    "project_env",
    "provided",
    "services_for",
    "tests_services",
]


def services_for(config: Config) -> tuple[list[str], str]:
    """The services to start and why: ``[tool.noxops.integration] services``, else those the
    project's dependencies name (:mod:`noxops.project.detect`)."""
    if config.integration.services:
        return list(config.integration.services), "[tool.noxops.integration] services"
    found = detect.services(config.project)
    if not found:
        return [], (
            "[tool.noxops.integration] services is not set and no dependency of the project "
            "names PostgreSQL or Redis"
        )
    why = ", ".join(f"{name} ({source})" for name, source in found.items())
    return list(found), f"inferred from the project: {why}"


def integration_paths(config: Config) -> list[str]:
    """``[tool.noxops.integration] paths``, else tests/integration, else (no such folder: the
    project keeps its database tests with the others) the tests stage's paths."""
    if config.integration.paths:
        return list(config.integration.paths)
    if (config.root / "tests" / "integration").is_dir():
        return ["tests/integration"]
    return config.test_paths


def _test_code(config: Config) -> list[str]:
    """Where the project's tests are: the variables they read are the project's too."""
    return list(dict.fromkeys(["tests", *config.test_paths, *integration_paths(config)]))


def _service_names(config: Config, names: Sequence[str]) -> set[str]:
    """The variables that stand for ``names``: those noxops sets, those mapped, and those the
    project reads for them."""
    from noxops.services import usage

    read = usage.read_variables(config.root, config.sources, _test_code(config))
    return (
        usage.default_names(names)
        | set(config.integration.env)
        | {n for n in read if usage.service_of(n) in names}
    )


def tests_services(config: Config) -> tuple[list[str], str]:
    """The services ``tests-<python>`` starts, and why (or why none).

    ``[tool.noxops.tests] services`` true or false decides. Unset, the services the
    integration stage starts are started when its tests are the tests stage's (no
    tests/integration or integration paths of their own) and a test uses them
    (:func:`noxops.services.usage.tests_use`).
    """
    from noxops.services import usage

    setting = config.tests.services
    if setting is False:
        return [], "[tool.noxops.tests] services = false"
    names, why = services_for(config)
    if not names:
        return [], why
    if setting:
        return names, "[tool.noxops.tests] services = true"
    own = {(config.root / p).resolve() for p in config.test_paths}
    split = [p for p in integration_paths(config) if (config.root / p).resolve() not in own]
    if split:
        return [], f"the integration tests are in {', '.join(split)}: nox -s integration runs them"
    evidence = usage.tests_use(config.root, config.test_paths, _service_names(config, names))
    if evidence is None:
        return [], (
            f"no test in {', '.join(config.test_paths)} uses a database or Redis client or "
            "their variables ([tool.noxops.tests] services = true starts them)"
        )
    return names, evidence


def part_value(service: str, url: str, part: str, scheme: Optional[str] = None) -> str:
    """The ``part`` of the service at ``url`` (its URL, in ``scheme`` if given)."""
    from noxops.services.base import kind

    if part == "url":
        return f"{scheme}://{url.split('://', 1)[-1]}" if scheme else url
    endpoint = kind(service).parse(url)
    if part == "port":
        return str(endpoint.port)
    value = str(getattr(endpoint, part))
    if part == "database" and not value and service == "redis":
        return "0"  # Redis's default database
    return value


def mapped_env(config: Config, env: Mapping[str, str]) -> dict[str, str]:
    """``[tool.noxops.integration] env``: parts of the services under the project's names."""
    from noxops.services.base import kind

    mapped: dict[str, str] = {}
    for variable, spec in config.integration.env.items():
        url = env.get(kind(spec.service).url_env)
        if url is None:
            raise NoxopsError(
                f"{config.file}: tool.noxops.integration.env.{variable}: service "
                f"{spec.service!r} is not started; add it to [tool.noxops.integration] services"
            )
        mapped[variable] = part_value(spec.service, url, spec.part, spec.scheme)
    return mapped


def project_env(
    config: Config, env: Mapping[str, str]
) -> tuple[dict[str, str], list[str], dict[str, tuple[str, ...]]]:
    """The variables the project reads for the started services that ``env`` leaves unset,
    set from them (no ``.env`` or settings default may point the tests elsewhere); those it
    reads that name a started service but no part of it; and where each of both was found.
    """
    from noxops.services import usage
    from noxops.services.base import kind

    added: dict[str, str] = {}
    unmapped: list[str] = []
    where: dict[str, tuple[str, ...]] = {}
    read = usage.read_variables(config.root, config.sources, _test_code(config))
    for name, variable in read.items():
        service = usage.service_of(name)
        url = env.get(kind(service).url_env) if service else None
        if url is None or name in env:
            continue
        part = usage.part_of(name)
        where[name] = variable.where
        if part is None:
            unmapped.append(name)
            continue
        scheme = usage.url_scheme(variable, read) if part == "url" else None
        added[name] = part_value(service or "", url, part, scheme)
    return added, unmapped, where


def _found(names: Iterable[str], where: Mapping[str, tuple[str, ...]]) -> str:
    return ", ".join(dict.fromkeys(p for n in names for p in where[n]))


@dataclass
class Provided:
    """The services a session runs with: by name, their variables, when they were ready."""

    running: dict[str, Service] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    provider: str = ""
    ready_seconds: float = 0.0


@contextmanager
def provided(
    session: nox.Session,
    config: Config,
    names: Sequence[str],
    *,
    forced: Optional[str] = None,
) -> Iterator[Provided]:
    """Start ``names`` (none: nothing happens) for the ``with`` block, stopped on leaving it
    whatever happens; set them up (``[tool.noxops.integration] setup``). A service that
    cannot be provided, or a set-up command that fails, ends the session with one message."""
    if not names:
        yield Provided(provider="none")
        return
    from noxops.runtime.noxapi import CommandFailed
    from noxops.services.base import ServiceError
    from noxops.services.select import (
        Services,
        Settings,
        describe,
        plan,
        requested_provider,
        services_env,
    )

    section = config.integration
    started = time.monotonic()
    with ExitStack() as stack:
        try:
            provider = requested_provider(section.provider, override=forced)
            choices = plan(names, provider, engine_timeout=section.engine_timeout)
            for choice in choices:
                session.log(f"{choice.kind.name}: {choice.provider} provider ({choice.why})")
            running = stack.enter_context(Services(choices, Settings.from_config(section)))
            ready = time.monotonic() - started
            for service in running.values():
                session.log(describe(service))
            session.log(f"services ready {ready:.2f}s after the session started them")
            env = services_env(running)
            env.update(mapped_env(config, env))
        except (ServiceError, NoxopsError) as exc:
            session.error(str(exc))
        added, unmapped, where = project_env(config, env)
        if added:
            session.log(
                f"set from the services too: {', '.join(added)} (the project reads them: "
                f"{_found(added, where)}; [tool.noxops.integration.env] can map them otherwise)"
            )
            env.update(added)
        if unmapped:
            session.warn(
                f"the project reads {', '.join(unmapped)} ({_found(unmapped, where)}), which "
                "name a service but no part of it noxops can set: their own values stay"
            )
        for command in section.setup:
            try:
                session.run(*shlex.split(command), env=env)
            except CommandFailed as exc:
                session.error(
                    f"set-up command {command!r} ([tool.noxops.integration] setup) failed "
                    f"({exc.reason or 'no reason given'}); its output is above; the tests "
                    "did not run"
                )
        yield Provided(dict(running), env, provider, ready)
