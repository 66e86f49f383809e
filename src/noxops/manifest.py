"""The build manifest: what ``build`` made, for ``smoke`` and the deploy stages to use.

It pins the exact image (its content-addressed id, and its registry digest once pushed), so
the image that was built is the one that is tested and deployed. It is a JSON file in the
reports folder (``[tool.noxops.image] manifest``); under GitHub Actions the same values are
also appended to ``$GITHUB_OUTPUT`` for later steps and jobs.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from noxops.errors import NoxopsError

if TYPE_CHECKING:
    from noxops.config import Config

__all__ = ["SCHEMA_VERSION", "Manifest", "load", "manifest_path", "write", "write_github_output"]

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Manifest:
    """One build: its packages, and its image when the project has a Dockerfile."""

    project: str
    version: str
    wheel: Optional[str] = None  # file names in dist_dir
    sdist: Optional[str] = None
    dist_dir: str = "dist"
    image: Optional[str] = None  # repository, like ghcr.io/acme/notes
    tags: list[str] = field(default_factory=list)
    image_id: Optional[str] = None  # sha256:... of the local image (what smoke runs)
    digest: Optional[str] = None  # sha256:... in the registry, once pushed
    pushed: bool = False
    sbom: Optional[str] = None  # path relative to the project
    labels: dict[str, str] = field(default_factory=dict)
    revision: str = ""
    ref: dict[str, Any] = field(default_factory=dict)  # event, name, pr, provider
    created: str = ""
    schema_version: int = SCHEMA_VERSION

    @property
    def references(self) -> list[str]:
        """``image:tag`` for every tag."""
        return [f"{self.image}:{tag}" for tag in self.tags] if self.image else []

    @property
    def pinned(self) -> Optional[str]:
        """The registry reference by digest (``image@sha256:...``) once pushed."""
        return f"{self.image}@{self.digest}" if self.image and self.digest else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def manifest_path(config: Config) -> Path:
    """Where the project's build manifest is written and read."""
    return config.reports / config.image.manifest


def write(path: Path, manifest: Manifest) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    tmp.write_text(json.dumps(manifest.to_dict(), indent=2, sort_keys=True) + "\n", "utf-8")
    tmp.replace(path)


def load(path: Path) -> Manifest:
    """Read a manifest written by :func:`write`; a clear error when missing or unreadable."""
    if not path.is_file():
        raise NoxopsError(
            f"no build manifest at {path}: run `nox -s build` first, or give an image "
            "(`nox -s smoke -- --image NAME:TAG`) or a deployed service (`-- --base-url URL`)"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise NoxopsError(f"{path} is not a valid build manifest ({exc}); rebuild it") from None
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        raise NoxopsError(
            f"{path} was written by another noxops version (schema_version "
            f"{data.get('schema_version') if isinstance(data, dict) else '?'}, expected "
            f"{SCHEMA_VERSION}); rebuild it with `nox -s build`"
        )
    known = set(Manifest.__dataclass_fields__)
    return Manifest(**{k: v for k, v in data.items() if k in known})


def write_github_output(manifest: Manifest, env: Mapping[str, str] | None = None) -> bool:
    """Append the manifest's values to ``$GITHUB_OUTPUT``; False when not under Actions."""
    env = os.environ if env is None else env
    target = env.get("GITHUB_OUTPUT")
    if not target:
        return False
    values = {
        "image": manifest.image or "",
        "tags": "\n".join(manifest.references),
        "version": manifest.version,
        "image-id": manifest.image_id or "",
        "digest": manifest.digest or "",
        "sbom": manifest.sbom or "",
        "wheel": manifest.wheel or "",
        "sdist": manifest.sdist or "",
        "manifest": json.dumps(manifest.to_dict(), sort_keys=True),
    }
    with Path(target).open("a", encoding="utf-8") as fh:
        for key, value in values.items():
            if "\n" in value:
                delimiter = f"noxops_{uuid.uuid4().hex}"
                fh.write(f"{key}<<{delimiter}\n{value}\n{delimiter}\n")
            else:
                fh.write(f"{key}={value}\n")
    return True
