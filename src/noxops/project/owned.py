"""Where noxops may delete and overwrite: inside the project, in places of its own.

A setting that names where noxops writes (``reports_dir``, ``[tool.noxops.image] wheelhouse``
and ``manifest``) is checked when the configuration loads, so ``nox -l`` already refuses, in
one line, a value that leads out of the project (also through a symlink), names the project
folder itself or ``.git``, or holds files git tracks: noxops would delete or overwrite what
is not its own there. A folder noxops empties (the wheelhouse) must moreover carry
:data:`MARKER`, written when noxops made it: a folder without it that holds anything is
someone else's, whatever its name, and nothing in it is deleted.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Optional

from noxops.errors import ConfigError

__all__ = ["MARKER", "check_setting", "empty_folder", "problem"]

MARKER = ".noxops-owned"
_MARKER_TEXT = (
    "noxops made this folder and empties it on every build; it deletes nothing in a folder "
    "without this file.\n"
)


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _tracked(root: Path, path: Path) -> Optional[str]:
    """A file git tracks at or under ``path``, when ``root`` is in a git work tree; None when
    there is none, or no git to ask (then a folder's marker is the only proof left)."""
    if not any((folder / ".git").exists() for folder in (root, *root.parents)):
        return None
    try:
        proc = subprocess.run(
            ["git", "--literal-pathspecs", "-C", str(root), "ls-files", "-z", "--", str(path)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    first = proc.stdout.split("\0", 1)[0]
    return first if proc.returncode == 0 and first else None


def problem(  # noqa: PLR0911 - one return per refusal
    root: Path, path: Path, *, inside: Optional[Path] = None
) -> Optional[str]:
    """Why noxops may not delete or overwrite at ``path`` (None: it may): it must stay inside
    ``inside`` (default: the project ``root``), also once symlinks are followed, and be neither
    that folder itself, nor in ``.git``, nor hold files git tracks."""
    root = root.resolve()
    inside = inside or root
    where = "the project" if inside == root else f"the folder {os.path.relpath(inside, root)}"
    literal = Path(os.path.normpath(path))
    if not _within(literal, Path(os.path.normpath(inside))):
        return f"is outside {where} ({literal})"
    try:
        real = path.resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # a symlink loop, a NUL byte
        return f"is not a usable path ({exc})"
    if not (_within(real, root) and _within(real, inside.resolve())):
        return f"leads out of {where} through a symlink (to {real})"
    if real == inside.resolve():
        return f"is {where} folder itself" if inside == root else f"is {where} itself"
    if ".git" in real.relative_to(root).parts:
        return "is inside .git"
    # git is asked only about what is there; os.path.exists: no OSError for a name too long
    tracked = _tracked(root, real) if os.path.exists(real) else None  # noqa: PTH110
    if tracked is not None:
        is_it = Path(root, tracked) == real
        return "is a file git tracks" if is_it else f"holds files git tracks (like {tracked!r})"
    return None


def check_setting(
    root: Path, key: str, value: str, *, file: str, example: str, inside: Optional[Path] = None
) -> Path:
    """The path setting ``key`` = ``value`` names, relative to ``inside`` (default the project
    ``root``); a :class:`ConfigError` of one line when noxops may not write there."""
    path = (inside or root) / value
    why = problem(root, path, inside=inside)
    if why is not None:
        raise ConfigError(
            file,
            key,
            f"{value!r} {why}: noxops deletes and overwrites files there; name a place of its "
            f"own, like {example!r}",
        )
    return path


def _not_own(folder: Path) -> Optional[str]:
    """Why ``folder`` is not noxops's to empty (None: absent, empty, or marked)."""
    if folder.is_symlink():
        return "is a symlink"
    if not folder.exists():
        return None
    if not folder.is_dir():
        return "is a file, not a folder"
    marker = folder / MARKER
    if marker.is_file() and not marker.is_symlink():
        return None
    if any(folder.iterdir()):
        return f"holds files noxops did not put there (no {MARKER} in it: move them away)"
    return None


def empty_folder(root: Path, folder: Path, *, file: str, key: str) -> None:
    """Make ``folder`` an empty folder of noxops's own: made (with :data:`MARKER`) when absent,
    taken when empty, emptied when it carries the marker. Anything else is refused with one
    line, and nothing is deleted."""
    value = os.path.relpath(folder, root)
    try:
        why = problem(root, folder) or _not_own(folder)
        if why is None:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / MARKER).write_text(_MARKER_TEXT, encoding="utf-8")
    except OSError as exc:
        why = f"cannot be used ({exc.strerror})"
    if why is not None:
        raise ConfigError(
            file,
            key,
            f"{value!r} {why}: noxops empties this folder on every build; name a new or empty "
            "folder inside the project, like 'build/wheelhouse'",
        )
    for child in folder.iterdir():
        if child.name == MARKER:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
