"""``[tool.noxops.integration]``: the integration session, its services and their providers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Optional

from noxops.schema import option, positive

__all__ = ["PROVIDERS", "IntegrationConfig", "known_services"]

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
    return known_services(list(value)) if value else None


@dataclass(frozen=True)
class IntegrationConfig:
    """``[tool.noxops.integration]``: the ``integration`` session and its services."""

    enabled: bool = option(
        True,
        doc="Register the integration session (when tests/integration exists or services are set).",
    )
    timeout: float = option(1800.0, check=positive, doc="Seconds before the stage is stopped.")
    services: list[str] = option(
        factory=list,
        check=known_services,
        doc="Services the integration tests need, started for the session: 'postgres', 'redis'.",
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
        60.0, check=positive, doc="Seconds a started service may take to answer its first query."
    )
    url_timeout: float = option(
        10.0, check=positive, doc="Seconds to wait for a service given by URL before failing."
    )
    engine_timeout: float = option(
        3.0, check=positive, doc="Seconds to wait for a Docker engine to answer before moving on."
    )
    paths: list[str] = option(
        factory=list, path=True, doc="Test folders for pytest; empty means tests/integration."
    )
    pytest_args: list[str] = option(factory=list, doc="Extra arguments for pytest.")
    groups: Optional[list[str]] = option(
        None, doc="Dependency groups installed for the tests; unset means those of [tests]."
    )
    extras: list[str] = option(factory=list, doc="Extras of the project installed for the tests.")
