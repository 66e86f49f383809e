"""The services a project depends on, read from what declares its dependencies.

``noxops init`` writes them into ``[tool.noxops.integration] services``, and the
``integration`` stage starts them when that key is not set: a client library among the
project's dependencies (``[project]``, its extras and dependency groups, Poetry's tables,
requirements files) or an image in its ``docker-compose.yml`` names the service.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from noxops.project import install

if TYPE_CHECKING:
    from noxops.project.pyproject import Project

__all__ = ["CLIENTS", "COMPOSE_FILES", "dependency_names", "services"]

# Client libraries (distribution names, normalized) that mean the project talks to a service.
CLIENTS = {
    "postgres": ("psycopg", "psycopg2", "psycopg2-binary", "psycopg-binary", "asyncpg", "pg8000"),
    "redis": ("redis", "aioredis", "valkey", "hiredis"),
}
_IMAGES = {
    "postgres": re.compile(r"^\s*image:\s*['\"]?(?:\S+/)?(postgres|postgresql|postgis)\b", re.M),
    "redis": re.compile(r"^\s*image:\s*['\"]?(?:\S+/)?(redis|valkey)\b", re.M),
}
COMPOSE_FILES = ("docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _name(requirement: str) -> str:
    match = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return _norm(match[1]) if match else ""


def dependency_names(project: Project) -> set[str]:
    """Every distribution the project declares, wherever it declares it (normalized)."""
    found = [*project.dependencies]
    for extra in project.optional_dependencies.values():
        found += list(extra)
    for entries in project.dependency_groups.values():
        if isinstance(entries, tuple):
            found += [e for e in entries if isinstance(e, str)]
    poetry = project.tool.get("poetry")
    if isinstance(poetry, Mapping):
        tables = [poetry.get("dependencies"), poetry.get("dev-dependencies")]
        groups = poetry.get("group")
        if isinstance(groups, Mapping):
            tables += [g.get("dependencies") for g in groups.values() if isinstance(g, Mapping)]
        found += [str(n) for t in tables if isinstance(t, Mapping) for n in t]
    names = {_name(r) for r in found}
    files = [*install.RUNTIME_REQUIREMENTS, *install.TEST_REQUIREMENTS]
    names |= {_norm(n) for n in install.requirement_names(project.root, files)}
    return names - {""}


def _compose_text(root: Path) -> str:
    texts = []
    for name in COMPOSE_FILES:
        try:
            texts.append((root / name).read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
    return "\n".join(texts)


def services(project: Project) -> dict[str, str]:
    """``{service: where it was found}`` for the services the project depends on."""
    names = dependency_names(project)
    compose = _compose_text(project.root)
    found: dict[str, str] = {}
    for service, clients in CLIENTS.items():
        client = next((c for c in clients if c in names), None)
        if client:
            found[service] = f"the dependency {client}"
        elif _IMAGES[service].search(compose):
            found[service] = "an image in docker-compose.yml"
    return found
