"""``[tool.noxops.integration]``: the integration session, its services and their providers."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any, Literal, Optional

from noxops.schema import image_ref, option, time_limit

__all__ = [
    "PARTS",
    "PROVIDERS",
    "IntegrationConfig",
    "ServiceEnvConfig",
    "known_services",
    "setup_commands",
]

PROVIDERS = ("auto", "url", "docker", "local")
KNOWN_SERVICES = ("postgres", "redis")
# The parts of a service a variable can hold (see noxops.services.base.Endpoint).
PARTS = ("url", "host", "port", "user", "password", "database")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _did_you_mean(value: str, known: tuple[str, ...]) -> str:
    import difflib  # only for a mistake (noxops.config.closest says why)

    match = difflib.get_close_matches(value, known, n=1, cutoff=0.6)
    return f"did you mean {match[0]!r}? " if match else ""


def known_services(value: Any) -> Optional[str]:
    values = value if isinstance(value, list) else [value]
    unknown = [v for v in values if v not in KNOWN_SERVICES]
    if unknown:
        hint = _did_you_mean(unknown[0], KNOWN_SERVICES)
        return f"unknown service {unknown[0]!r}; {hint}known services: {', '.join(KNOWN_SERVICES)}"
    if len(set(values)) != len(values):
        return "names a service twice"
    return None


def _images(value: Any) -> Optional[str]:
    unknown = known_services(list(value)) if value else None
    if unknown:
        return unknown
    for service, image in value.items():
        problem = image_ref(image)
        if problem:
            return f"the image of {service!r} {problem}"
    return None


def _scheme(value: Any) -> Optional[str]:
    if value is None or re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", value):
        return None
    return "must be a URL scheme without '://', like 'postgres' or 'postgresql+psycopg'"


def _part(value: Any) -> Optional[str]:
    if value in PARTS:
        return None
    return f"unknown part {value!r}; {_did_you_mean(value, PARTS)}parts: {', '.join(PARTS)}"


_SHORT_FORM = "write 'SERVICE.PART' or 'SERVICE.url:SCHEME', like 'postgres.host'"


@dataclass(frozen=True)
class ServiceEnvConfig:
    """``[tool.noxops.integration.env.<VARIABLE>]``: a part of a service, under the project's name.

    Written as this table, or as the text ``"SERVICE.PART"`` (``"SERVICE.url:SCHEME"``)."""

    service: str = option(
        "postgres",
        check=known_services,
        doc=(
            "The service whose part the variable holds. The text 'postgres.host' (or "
            "'postgres.url:postgresql+asyncpg') stands for the table."
        ),
    )
    part: str = option(
        "url",
        check=_part,
        doc=(
            "What the variable holds: 'url', 'host', 'port', 'user', 'password' or 'database' "
            "(a database name; Redis's number)."
        ),
    )
    scheme: Optional[str] = option(
        None,
        check=_scheme,
        doc="The URL's scheme, like 'postgres' (some drivers want it); unset keeps noxops's.",
    )

    @classmethod
    def from_text(cls, text: str) -> dict[str, str]:
        """The table the short form ``"SERVICE.PART[:SCHEME]"`` stands for (the loader then
        checks it as written in full); :class:`ValueError` when it has not that shape."""
        target, _, scheme = text.partition(":")
        service, dot, part = target.partition(".")
        if not service or (dot and not part) or (":" in text and not scheme):
            raise ValueError(f"{text!r} is not a service part; {_SHORT_FORM}")
        table = {"service": service, "part": part or "url"}
        if scheme:
            table["scheme"] = scheme
        return table


def _env(value: Any) -> Optional[str]:
    for variable, spec in value.items():
        if not _VARIABLE.fullmatch(variable):
            return f"{variable!r} is not an environment variable name (letters, digits, '_')"
        if spec.scheme and spec.part != "url":
            return (
                f"{variable}: a scheme is for part 'url' only, not {spec.part!r}; "
                f"drop it or write '{spec.service}.url:{spec.scheme}'"
            )
    return None


def setup_commands(value: Any) -> Optional[str]:
    """Each set-up command is a non-empty command line that ``shlex`` can split."""
    for command in value:
        try:
            words = shlex.split(command)
        except ValueError as exc:
            return f"{command!r} cannot be split into words ({exc})"
        if not words:
            return "holds an empty command"
    return None


@dataclass(frozen=True)
class IntegrationConfig:
    """``[tool.noxops.integration]``: the ``integration`` session and its services."""

    enabled: bool = option(
        True,
        doc="Register the integration session (when tests/integration exists or services are set).",
    )
    timeout: float = option(1800.0, check=time_limit, doc="Seconds before the stage is stopped.")
    services: list[str] = option(
        factory=list,
        check=known_services,
        doc=(
            "Services the integration tests need, started for the session: 'postgres', "
            "'redis'. Empty means those the project's dependencies name (a PostgreSQL or Redis "
            "client in [project], dependency groups, Poetry or requirements files, or an image "
            "in docker-compose.yml), as `noxops init` detects them."
        ),
    )
    provider: Literal["auto", "url", "docker", "local"] = option(
        "auto",
        doc=(
            "Where services come from: 'url' (DATABASE_URL/REDIS_URL given by CI), 'docker' "
            "(testcontainers), 'local' (server processes), or 'auto': url if set, else docker "
            "if an engine answers, else local. NOXOPS_PROVIDER or `-- --provider=X` override it."
        ),
    )
    images: dict[str, str] = option(
        factory=dict,
        check=_images,
        doc="Container image per service for the docker provider (default postgres:15, redis:7).",
    )
    ready_timeout: float = option(
        60.0,
        check=time_limit,
        doc="Seconds a started service may take to answer its first query.",
    )
    url_timeout: float = option(
        10.0,
        check=time_limit,
        doc="Seconds to wait for a service given by URL before failing.",
    )
    engine_timeout: float = option(
        3.0,
        check=time_limit,
        doc="Seconds to wait for a Docker engine to answer before moving on.",
    )
    paths: list[str] = option(
        factory=list,
        path=True,
        doc=(
            "Test folders for pytest; empty means tests/integration, or the tests stage's paths "
            "where the project has no tests/integration (its database tests live with the rest)."
        ),
    )
    pytest_args: list[str] = option(factory=list, doc="Extra arguments for pytest.")
    groups: Optional[list[str]] = option(
        None, doc="Dependency groups installed for the tests; unset means those of [tests]."
    )
    extras: list[str] = option(factory=list, doc="Extras of the project installed for the tests.")
    setup: list[str] = option(
        factory=list,
        check=setup_commands,
        doc=(
            "Commands run once the services are ready, before the tests, in the session's "
            "environment with the services' variables (like 'alembic upgrade head'); one that "
            "fails fails the session. Also before tests-<python> when those get the services."
        ),
    )
    env: dict[str, ServiceEnvConfig] = option(
        factory=dict,
        check=_env,
        doc=(
            "More variables for the tests, each a part of a service under the name the project "
            "reads: POSTGRES_SERVER = 'postgres.host', DATABASE_TEST_URL = "
            "'postgres.url:postgresql+asyncpg', or a table { service, part, scheme }. Parts: "
            "url, host, port, user, password, database."
        ),
    )
