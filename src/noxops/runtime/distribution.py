"""This noxops itself: its version, and the requirement that installs the very same code.

Sessions that need noxops inside their environment (the integration tests' pytest plugin, the
smoke tests' plugin) install what runs nox, never a release picked from the package index:

1. ``$NOXOPS_REQUIREMENT`` when it is set: a requirement as pip takes it, or a folder of wheels
   (the newest ``noxops-*.whl`` in it);
2. the source checkout this module was imported from (a ``src/noxops`` beside a pyproject
   naming noxops);
3. where the installed distribution came from, as pip recorded it (PEP 610
   ``direct_url.json``): a local folder (editable or not) or a local wheel that still exists;
4. else ``noxops==<version>``, from the index.

It imports nothing else from noxops, so any module may use it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Optional
from urllib.parse import unquote, urlparse

from noxops.errors import NoxopsError

__all__ = ["ENV_VAR", "__version__", "requirement"]

__version__ = "0.1.0"
ENV_VAR = "NOXOPS_REQUIREMENT"
_PACKAGE = Path(__file__).resolve().parent


def _source_checkout() -> Optional[Path]:
    root = _PACKAGE.parent.parent
    pyproject = root / "pyproject.toml"
    if _PACKAGE.parent.name != "src" or not pyproject.is_file():
        return None
    try:
        from noxops.project.textfile import tomllib

        name = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {}).get("name")
    except (OSError, ValueError):
        return None
    return root if name == "noxops" else None


def _recorded_origin() -> Optional[str]:
    """The local folder or wheel pip installed this noxops from (PEP 610), if it still exists."""
    from importlib import metadata

    try:
        dist = metadata.distribution("noxops")
    except metadata.PackageNotFoundError:
        return None
    text = dist.read_text("direct_url.json")
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    url = urlparse(str(data.get("url", "")))
    if url.scheme != "file":
        return None
    path = Path(unquote(url.path))
    return str(path) if path.exists() else None


def requirement(environ: Mapping[str, str] | None = None) -> str:
    """The requirement (for ``pip install``/``session.install``) of the noxops running now."""
    env = os.environ if environ is None else environ
    override = env.get(ENV_VAR, "").strip()
    if override:
        folder = Path(override)
        if folder.is_dir() and not (folder / "pyproject.toml").exists():
            wheels = sorted(folder.glob("noxops-*.whl"), key=lambda p: p.stat().st_mtime)
            if not wheels:
                raise NoxopsError(
                    f"${ENV_VAR}={override} is a folder without noxops-*.whl; point it at a "
                    "wheel, a folder of wheels, a source checkout or a requirement"
                )
            return str(wheels[-1])
        return override
    checkout = _source_checkout()
    if checkout is not None:
        return str(checkout)
    return _recorded_origin() or f"noxops=={__version__}"
