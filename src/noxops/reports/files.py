"""Reading report files so that every way they can be wrong becomes one clear sentence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noxops.reports.model import ReadProblem

if TYPE_CHECKING:
    from xml.etree import ElementTree  # nosec B405

__all__ = ["display", "mtime", "read_json", "read_text", "read_xml", "relative"]


def display(path: Path, root: Path) -> str:
    """``path`` as the user knows it: relative to the project when it is inside it."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def relative(filename: str, root: Path) -> str:
    """A tool's file name (absolute, or relative to the project) as a project-relative path."""
    name = filename.replace("\\", "/")
    path = Path(name)
    if path.is_absolute():
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            try:
                return path.relative_to(root).as_posix()
            except ValueError:
                return name
    while name.startswith("./"):
        name = name[2:]
    return name


def read_text(path: Path, root: Path) -> str:
    shown = display(path, root)
    if not path.exists():
        raise ReadProblem(shown, "the file is missing")
    if path.is_dir():
        raise ReadProblem(shown, "it is a folder, not a file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReadProblem(shown, exc.strerror or str(exc)) from None
    if not data.strip():
        raise ReadProblem(shown, "the file is empty")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReadProblem(shown, f"not UTF-8 text (byte {exc.start})") from None


def read_json(path: Path, root: Path, expect: type = dict) -> Any:
    text = read_text(path, root)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ReadProblem(display(path, root), f"not valid JSON (truncated?): {exc}") from None
    if not isinstance(data, expect):
        raise ReadProblem(
            display(path, root),
            f"expected a JSON {'object' if expect is dict else 'list'}, "
            f"found {type(data).__name__}",
        )
    return data


def read_xml(path: Path, root: Path) -> ElementTree.Element:
    # Imported here: the session records read JSON only, in every nox process.
    from xml.etree import ElementTree  # nosec B405 - reports our own tools just wrote

    text = read_text(path, root)
    try:
        return ElementTree.fromstring(text)  # noqa: S314  # nosec B314 - our tools' output
    except ElementTree.ParseError as exc:
        raise ReadProblem(display(path, root), f"not valid XML (truncated?): {exc}") from None


def mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
