"""The build manifest: what ``build`` made, for ``smoke`` and the deploy stages to use.

It pins the exact image (its content-addressed id, and its registry digest once pushed), so
the image that was built is the one that is tested and deployed. It is a JSON file in the
reports folder (``[tool.noxops.image] manifest``); under GitHub Actions the same values are
also appended to ``$GITHUB_OUTPUT`` for later steps and jobs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

from noxops.ci import providers
from noxops.errors import NoxopsError
from noxops.reports.outputs import Output

if TYPE_CHECKING:
    from noxops.config import Config

__all__ = [
    "MANIFEST",
    "SCHEMA_VERSION",
    "Manifest",
    "ManifestError",
    "load",
    "manifest_path",
    "write",
    "write_github_output",
]

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Manifest:
    """One build: its packages, and its image when the project has a Dockerfile."""

    project: str = ""  # (a hand-written manifest may give only image, tags and digest)
    version: str = ""
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

    @property
    def deploy_ref(self) -> Optional[str]:
        """The reference to deploy: pinned by the registry digest once pushed (exactly the image
        that was tested), else ``image:<first tag>``; None when the build made no image."""
        if not self.image:
            return None
        last = self.image.rsplit("/", 1)[-1]
        if self.digest and "@" not in self.image:
            repository = self.image.rsplit(":", 1)[0] if ":" in last else self.image
            return f"{repository}@{self.digest}"
        if "@" in self.image or ":" in last:  # already a full reference
            return self.image
        return f"{self.image}:{self.tags[0]}" if self.tags else self.image

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ManifestError(NoxopsError):
    """A build manifest that is missing or cannot be used; ``why`` omits the path."""

    def __init__(self, message: str, why: str) -> None:
        super().__init__(message)
        self.why = why


# What each entry must hold: (check, description for the message).
_TEXT = (lambda v: isinstance(v, str), "a string")
_OPTIONAL_TEXT = (lambda v: v is None or isinstance(v, str), "a string or null")
_KINDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "project": _TEXT,
    "version": _TEXT,
    "wheel": _OPTIONAL_TEXT,
    "sdist": _OPTIONAL_TEXT,
    "dist_dir": _TEXT,
    "image": _OPTIONAL_TEXT,
    "tags": (lambda v: isinstance(v, list) and all(isinstance(t, str) for t in v), "strings"),
    "image_id": _OPTIONAL_TEXT,
    "digest": _OPTIONAL_TEXT,
    "pushed": (lambda v: isinstance(v, bool), "true or false"),
    "sbom": _OPTIONAL_TEXT,
    "labels": (
        lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
        "an object of strings",
    ),
    "revision": _TEXT,
    "ref": (lambda v: isinstance(v, dict), "an object"),
    "created": _TEXT,
    "schema_version": (lambda v: isinstance(v, int) and not isinstance(v, bool), "a number"),
}


def _file(config: Config) -> str:
    return str(config.image.manifest)


# The build manifest (its name is a setting of [tool.noxops.image]); the report's build check.
MANIFEST = Output(_file, kind="manifest", check="build")


def manifest_path(config: Config) -> Path:
    """Where the project's build manifest is written and read."""
    return config.reports / MANIFEST.name(config)


def write(path: Path, manifest: Manifest) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.urandom(16).hex()}")
    tmp.write_text(json.dumps(manifest.to_dict(), indent=2, sort_keys=True) + "\n", "utf-8")
    tmp.replace(path)


def load(path: Path) -> Manifest:
    """Read a manifest written by :func:`write` (or by hand: ``image``, ``tags``, ``digest``).

    Every way it can be wrong is a :class:`ManifestError` of one line saying what to do.
    """
    if not path.is_file():
        raise ManifestError(
            f"no build manifest at {path}: run `nox -s build` first, or give an image "
            "(`nox -s smoke -- --image NAME:TAG`) or a deployed service (`-- --base-url URL`)",
            "the file is missing; run `nox -s build`",
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # unreadable, not UTF-8, not JSON
        why = " ".join(str(getattr(exc, "strerror", None) or exc).split())
        raise ManifestError(
            f"{path} is not a valid build manifest ({why}); rebuild it",
            f"not a valid build manifest ({why}); rebuild it",
        ) from None
    if not isinstance(data, dict):
        why = f"expected a JSON object, found {type(data).__name__}"
        raise ManifestError(
            f"{path} is not a valid build manifest ({why}); rebuild it",
            f"not a valid build manifest ({why}); rebuild it",
        )
    version = data.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        why = (
            f"written by another noxops version (schema_version {version!r:.20}, expected "
            f"{SCHEMA_VERSION}); rebuild it with `nox -s build`"
        )
        raise ManifestError(f"{path} was {why}", f"it was {why}")
    if "image" not in data:
        why = "no 'image' entry; rerun the build session"
        raise ManifestError(f"{path} has {why}", f"it has {why}")
    for key, value in data.items():
        check, kind = _KINDS.get(key, (lambda v: True, ""))
        if not check(value):
            why = f"'{key}' must be {kind}, not {json.dumps(value)[:40]}"
            raise ManifestError(
                f"{path} is not a valid build manifest ({why}); rebuild it with `nox -s build`",
                f"not a valid build manifest ({why}); rebuild it with `nox -s build`",
            )
    known = set(Manifest.__dataclass_fields__)
    return Manifest(**{k: v for k, v in data.items() if k in known})


def write_github_output(manifest: Manifest, env: Mapping[str, str] | None = None) -> bool:
    """Append the manifest's values to the CI provider's step outputs (``$GITHUB_OUTPUT``);
    False when there are none (not under Actions)."""
    env = os.environ if env is None else env
    target = providers.output_file(env)
    if target is None:
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
    with target.open("a", encoding="utf-8") as fh:
        for key, value in values.items():
            if "\n" in value:
                delimiter = f"noxops_{os.urandom(16).hex()}"
                fh.write(f"{key}<<{delimiter}\n{value}\n{delimiter}\n")
            else:
                fh.write(f"{key}={value}\n")
    return True
