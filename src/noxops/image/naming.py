"""The image's name and labels, from the configuration and the project's ``[project]`` table."""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Any, Optional

from noxops.ci import providers
from noxops.image.settings import ImageConfig
from noxops.project.pyproject import Project, thaw

__all__ = ["ci_source", "created", "image_name", "oci_labels", "project_metadata"]


def project_metadata(project: Project) -> dict[str, Any]:
    """The project's ``[project]`` table, as plain TOML data (empty when there is none)."""
    metadata: dict[str, Any] = thaw(project.metadata)
    return metadata


def image_name(config: ImageConfig, project_name: str) -> str:
    """The full image repository: ``<registry>/<name>``, the name defaulting to the project's."""
    name = config.name or re.sub(r"[^a-z0-9._-]+", "-", project_name.lower()).strip(".-_")
    name = name or "app"
    return f"{config.registry.rstrip('/')}/{name}" if config.registry else name


def _license(project: dict[str, Any]) -> str | None:
    value = project.get("license")
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        text = value["text"].strip()
        return text if text and "\n" not in text else None
    return None


def _source(project: dict[str, Any]) -> str | None:
    urls = project.get("urls", {})
    if isinstance(urls, dict):
        for key, url in urls.items():
            if key.lower() in {"source", "repository", "source code", "code"}:
                return str(url)
    return None


def oci_labels(
    config: ImageConfig,
    project: dict[str, Any],
    *,
    revision: str,
    version: str,
    created: str,
    source: str | None,
) -> dict[str, str]:
    """The ``org.opencontainers.image.*`` labels, with the configured labels over them."""
    prefix = "org.opencontainers.image."
    labels = {
        f"{prefix}title": str(project.get("name", "")),
        f"{prefix}description": str(project.get("description", "")),
        f"{prefix}source": config.source or _source(project) or source or "",
        f"{prefix}revision": revision,
        f"{prefix}version": version,
        f"{prefix}created": created,
        f"{prefix}licenses": _license(project) or "",
    }
    labels = {k: v for k, v in labels.items() if v}
    labels.update(config.labels)
    return labels


def created(environ: Mapping[str, str]) -> str:
    """The build time, UTC: ``$SOURCE_DATE_EPOCH`` when set (reproducible builds), else now."""
    epoch = environ.get("SOURCE_DATE_EPOCH")
    when = (
        datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc)
        if epoch and epoch.isdigit()
        else datetime.datetime.now(datetime.timezone.utc)
    )
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def ci_source(environ: Mapping[str, str]) -> Optional[str]:
    """The repository URL the CI provider names, for the ``source`` label."""
    return providers.repository_url(environ) or None
