"""A lean image build context when the project has no ``.dockerignore``.

Without one, ``docker build .`` sends everything: the nox environments (``.nox/``, hundreds of
megabytes), ``reports/``, ``.git/``, virtualenvs and caches; and ``COPY . .`` puts them in the
image. noxops does not write an ignore file into the project: it copies the context, without
:data:`IGNORED`, into a temporary folder and builds from that. A project with its own
``.dockerignore`` (or a ``<Dockerfile>.dockerignore``) keeps full control: its context is used
as it is.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Optional

__all__ = ["IGNORED", "IGNORED_ANYWHERE", "has_ignore_file", "lean_context"]

# Left out at the top of the context.
IGNORED = (".nox", "reports", ".git", ".venv", "venv", "build", "dist", ".tox", "htmlcov")
# Left out wherever they are.
IGNORED_ANYWHERE = (
    "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".coverage", "*.pyc",
)  # fmt: skip


def has_ignore_file(context: Path, dockerfile: Path) -> bool:
    """Whether the project says what to leave out itself."""
    return (context / ".dockerignore").is_file() or dockerfile.with_name(
        dockerfile.name + ".dockerignore"
    ).is_file()


def lean_context(context: Path, dockerfile: Path, work: Path) -> Optional[Path]:
    """A copy of ``context`` in ``work`` without what no image wants, when the project has no
    ignore file of its own; None means build from ``context`` itself."""
    if has_ignore_file(context, dockerfile):
        return None
    target = work / "context"
    top = shutil.ignore_patterns(*IGNORED, *IGNORED_ANYWHERE)
    anywhere = shutil.ignore_patterns(*IGNORED_ANYWHERE)

    def ignore(folder: str, names: list[str]) -> set[str]:
        chosen = top if Path(folder) == context else anywhere
        return set(chosen(folder, names))

    shutil.copytree(context, target, symlinks=True, ignore=ignore)
    return target
