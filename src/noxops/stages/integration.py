"""The ``integration`` stage: tests/integration against real PostgreSQL and Redis.

The services are started in the nox process (so they outlive no session and are stopped in
a ``finally``, also on Ctrl-C and SIGTERM), and their URLs and parts are exported into the
pytest run. It runs on the tools Python, once: the unit matrix already covers every Python,
and starting servers once per matrix entry would multiply the slowest part of the pipeline
for no extra coverage of the services themselves.

The provider is forced with ``nox -s integration -- --provider=local`` (docker, url, auto),
``NOXOPS_PROVIDER=local``, or ``[tool.noxops.integration] provider``, in that order.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Optional

from noxops import detect
from noxops.distribution import requirement
from noxops.errors import NoxopsError
from noxops.stages.base import (
    CI,
    Install,
    Output,
    install_plan,
    stage,
    write_json,
)

if TYPE_CHECKING:
    import nox

    from noxops.config import Config

__all__ = [
    "integration",
    "integration_env",
    "mapped_env",
    "plugin_requirements",
    "services_for",
    "split_provider",
    "wanted",
]

_PLUGIN_DEPS = ("psycopg[binary]>=3.1", "redis>=5")


def services_for(config: Config) -> tuple[list[str], str]:
    """The services to start and why: ``[tool.noxops.integration] services``, else those the
    project's dependencies name (:mod:`noxops.detect`)."""
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


def mapped_env(config: Config, env: Mapping[str, str]) -> dict[str, str]:
    """``[tool.noxops.integration] env``: the services' URLs under the project's own names."""
    from noxops.services.base import kind

    mapped: dict[str, str] = {}
    for variable, spec in config.integration.env.items():
        source = kind(spec.service).url_env
        url = env.get(source)
        if url is None:
            raise NoxopsError(
                f"{config.file}: tool.noxops.integration.env.{variable}: service "
                f"{spec.service!r} is not started; add it to [tool.noxops.integration] services"
            )
        if spec.scheme:
            url = f"{spec.scheme}://{url.split('://', 1)[-1]}"
        mapped[variable] = url
    return mapped


def wanted(config: Config) -> bool:
    """The stage exists when enabled and the project has integration tests or services."""
    section = config.integration
    return section.enabled and bool(
        section.services or section.paths or (config.root / "tests" / "integration").is_dir()
    )


def split_provider(posargs: Sequence[str]) -> tuple[Optional[str], list[str]]:
    """Take ``--provider=X`` / ``--provider X`` out of the arguments meant for pytest."""
    provider: Optional[str] = None
    rest: list[str] = []
    args = list(posargs)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("--provider="):
            provider = arg.split("=", 1)[1]
        elif arg == "--provider" and i + 1 < len(args):
            provider = args[i + 1]
            i += 1
        else:
            rest.append(arg)
        i += 1
    return provider, rest


def plugin_requirements(config: Config) -> list[str]:
    """noxops itself (for its pytest plugin) and the plugin's clients, for the test env."""
    if config.project_name == "noxops":  # this repository: the project install is noxops
        return list(_PLUGIN_DEPS)
    return [requirement(), *_PLUGIN_DEPS]  # the very noxops that runs nox


def integration_env(config: Config, python: str | None) -> list[Install]:
    """The project with its integration groups and extras, pytest and the noxops plugin."""
    from noxops.stages.tests import test_install

    section = config.integration
    return [
        test_install(
            config, "pytest", *plugin_requirements(config), groups=section.groups,
            extras=section.extras,
        )
    ]  # fmt: skip


JUNIT = Output("junit-integration.xml", kind="junit", check="integration")
SERVICES_RECORD = Output("integration-services.json", kind="file")


@stage(
    "integration",
    python="tools",
    section="integration",
    enabled=wanted,
    allow_parallel=False,
    env=integration_env,
    outputs=[JUNIT, SERVICES_RECORD],
    # The clients of the services (psycopg, redis) run in the nox process, as do
    # testcontainers where a Docker engine provides them.
    ci=CI(stage="integration", services=True, extras=("services", "docker")),
)
def integration(session: nox.Session, config: Config) -> None:
    """Run the integration tests against real services (PostgreSQL, Redis)."""
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
    names, why = services_for(config)
    session.log(f"services: {', '.join(names) or 'none'} ({why})")
    forced, pytest_posargs = split_provider(session.posargs)
    install_plan(session, config, integration_env)
    paths = list(section.paths) or (
        ["tests/integration"] if (config.root / "tests" / "integration").is_dir() else ["tests"]
    )
    junit = JUNIT.path(config)
    started = time.monotonic()
    try:
        provider = requested_provider(section.provider, override=forced)
        choices = plan(names, provider, engine_timeout=section.engine_timeout)
        for choice in choices:
            session.log(f"{choice.kind.name}: {choice.provider} provider ({choice.why})")
        with Services(choices, Settings.from_config(section)) as running:
            ready = time.monotonic() - started
            for service in running.values():
                session.log(describe(service))
            if running:
                session.log(f"services ready {ready:.2f}s after the session started them")
            record = {
                "provider": provider,
                "ready_seconds": round(ready, 3),
                "services": {
                    name: {
                        "provider": s.provider,
                        "ready_seconds": round(s.ready_seconds, 3),
                        "url": s.masked_url,
                    }
                    for name, s in running.items()
                },
            }
            write_json(SERVICES_RECORD.path(config), record)
            env = services_env(running)
            env.update(mapped_env(config, env))
            session.run(
                "python", "-m", "pytest", f"--junitxml={junit}",
                "-o", "junit_suite_name=integration",
                *section.pytest_args, *paths, *pytest_posargs,
                env=env,
            )  # fmt: skip
    except (ServiceError, NoxopsError) as exc:
        session.error(str(exc))
