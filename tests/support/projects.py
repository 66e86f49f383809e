"""Small projects written on the spot, for the tests that load their configuration."""

from __future__ import annotations

from pathlib import Path

__all__ = ["write_project"]


def write_project(root: Path, pyproject: str = "", **files: str) -> Path:
    """``root`` with ``pyproject.toml`` and ``files`` (a name's ``__`` is a folder: ``src__a.py``
    is ``src/a.py``); returned."""
    (root / "pyproject.toml").write_text(pyproject)
    for name, text in files.items():
        path = root / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root
