"""noxops's pytest plugin outside a nox session: for the tests that run a project's pytest
with it, as the tests session does."""

from __future__ import annotations

from pathlib import Path

from noxops.incremental import affected

__all__ = ["write_plugin"]


def write_plugin(folder: Path) -> Path:
    """The plugin (``-p noxops_pytest_plugin``) and the coverage module it calls, copied into
    ``folder`` (made here when missing) as the session copies them into its environment; put
    the folder, returned, on PYTHONPATH."""
    folder.mkdir(parents=True, exist_ok=True)
    affected.write_plugin(folder)
    return folder
