"""The ``integration`` stage: tests/integration against real PostgreSQL and Redis.

(Or the tests stage's paths, where the project keeps its database tests with the others; the
tests-<python> sessions then get the services too: :mod:`noxops.stages.provision`.)

The services are started in the nox process (so they outlive no session and are stopped in
a ``finally``, also on Ctrl-C and SIGTERM), and their URLs and parts are exported into the
pytest run. It runs on the tools Python, once: the unit matrix already covers every Python,
and starting servers once per matrix entry would multiply the slowest part of the pipeline
for no extra coverage of the services themselves.

The provider is forced with ``nox -s integration -- --provider=local`` (docker, url, auto),
``NOXOPS_PROVIDER=local``, or ``[tool.noxops.integration] provider``, in that order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Optional

from noxops.runtime.distribution import requirement
from noxops.services.settings import IntegrationConfig
from noxops.stages.base import (
    CI,
    Install,
    Output,
    ignore_others,
    install_plan,
    stage,
    write_json,
)
from noxops.stages.provision import integration_paths, mapped_env, provided, services_for

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
    settings=IntegrationConfig,
    enabled=wanted,
    allow_parallel=False,
    env=integration_env,
    outputs=[JUNIT, SERVICES_RECORD],
    # The clients of the services (psycopg, redis) run in the nox process, as do
    # testcontainers where a Docker engine provides them.
    ci=CI(stage="integration", services=True, extras=("services", "docker")),
    test_paths=integration_paths,
)
def integration(session: nox.Session, config: Config) -> None:
    """Run the integration tests against real services (PostgreSQL, Redis)."""
    section = config.integration
    names, why = services_for(config)
    session.log(f"services: {', '.join(names) or 'none'} ({why})")
    forced, pytest_posargs = split_provider(session.posargs)
    install_plan(session, config, integration_env)
    from noxops.stages.tests import note_partial

    own = integration_paths(config)
    paths = [*ignore_others(config, "integration", own), *own]
    note_partial(session, config, pytest_posargs, coverage=False)
    junit = JUNIT.path(config)
    with provided(session, config, names, forced=forced) as services:
        record = {
            "provider": services.provider,
            "ready_seconds": round(services.ready_seconds, 3),
            "services": {
                name: {
                    "provider": s.provider,
                    "ready_seconds": round(s.ready_seconds, 3),
                    "url": s.masked_url,
                }
                for name, s in services.running.items()
            },
        }
        write_json(SERVICES_RECORD.path(config), record)
        session.run(
            "python", "-m", "pytest", f"--junitxml={junit}",
            "-o", "junit_suite_name=integration",
            *section.pytest_args, *paths, *pytest_posargs,
            env=services.env,
        )  # fmt: skip
