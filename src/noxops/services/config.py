"""``[tool.noxops.integration]``: the integration session, its services and their providers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, Optional

from noxops.schema import image_ref, option, time_limit

__all__ = ["PROVIDERS", "IntegrationConfig", "ServiceEnvConfig", "known_services"]

PROVIDERS = ("auto", "url", "docker", "local")
KNOWN_SERVICES = ("postgres", "redis")


def known_services(value: Any) -> Optional[str]:
    values = value if isinstance(value, list) else [value]
    unknown = [v for v in values if v not in KNOWN_SERVICES]
    if unknown:
        return f"unknown service {unknown[0]!r}; known services: {', '.join(KNOWN_SERVICES)}"
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


@dataclass(frozen=True)
class ServiceEnvConfig:
    """``[tool.noxops.integration.env.<VARIABLE>]``: a service's URL under the project's name."""

    service: str = option(
        "postgres", check=known_services, doc="The service whose URL the variable holds."
    )
    scheme: Optional[str] = option(
        None,
        check=_scheme,
        doc="The URL's scheme, like 'postgres' (some drivers want it); unset keeps noxops's.",
    )


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
        factory=list, path=True, doc="Test folders for pytest; empty means tests/integration."
    )
    pytest_args: list[str] = option(factory=list, doc="Extra arguments for pytest.")
    groups: Optional[list[str]] = option(
        None, doc="Dependency groups installed for the tests; unset means those of [tests]."
    )
    extras: list[str] = option(factory=list, doc="Extras of the project installed for the tests.")
    env: dict[str, ServiceEnvConfig] = option(
        factory=dict,
        doc=(
            "More variables for the tests, each a service's URL under the name the project "
            "reads: env = { DATABASE_TEST_URL = { service = 'postgres', scheme = 'postgres' } }."
        ),
    )
