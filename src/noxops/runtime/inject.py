"""The Python files noxops runs in another interpreter: its pytest plugin and the coverage
module the plugin calls (in a tests session's environment, noxops.incremental.affected), and the
dependency lister of the audit (noxops.stages.security).

They are real modules in ``noxops/_inject/``, read by the linters and the type checker as the
rest of noxops is, shipped in the wheel as package data, and copied where they run: there they
import nothing of noxops (which may not be installed), on the project's Python (3.9 on). The
folder has no ``__init__.py``: its files are never imported as part of noxops (nor counted in
its coverage), and import each other by their bare names, as they do where they run."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["copy"]


def copy(name: str, folder: Path) -> Path:
    """``noxops/_inject/<name>`` copied into ``folder`` under the same name (read through
    importlib.resources, so from an installed wheel too); the copy's path."""
    target = folder / name
    target.write_bytes((resources.files("noxops") / "_inject" / name).read_bytes())
    return target
