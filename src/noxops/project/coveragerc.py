"""The project's own coverage.py settings, looked up where and as coverage.py looks them up.

noxops runs coverage.py in the project's folder, so coverage reads the project's settings
itself; noxops reads them too only to decide alike (which measurement core fits, how many
digits the coverage threshold is judged to).
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noxops.errors import ConfigError
from noxops.project.pyproject import read_toml

if TYPE_CHECKING:
    from noxops.config import Config

__all__ = ["CoverageFile", "coverage_files", "report_precision"]


@dataclass(frozen=True)
class CoverageFile:
    """One file holding coverage.py settings: its sections by coverage's own names."""

    name: str  # as the user names it
    sections: Mapping[str, Mapping[str, Any]]  # "run" -> {"branch": "true"}, ...
    titles: Mapping[str, str]  # "report" -> "coverage:report", as the file spells it
    readable: bool = True


def _ini(path: Path, name: str, own: bool) -> CoverageFile:
    """``[coverage:<section>]`` (and ``[<section>]`` in coverage's own file), preferred in
    that order as coverage.py does."""
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return CoverageFile(name, {}, {}, readable=False)
    prefixes = ("coverage:", "") if own else ("coverage:",)
    titled = [t for t in parser.sections() if own or t.startswith("coverage:")]
    names = {t.removeprefix("coverage:") for t in titled}
    titles = {n: next(p + n for p in prefixes if parser.has_section(p + n)) for n in names}
    sections = {n: dict(parser.items(title)) for n, title in titles.items()}
    return CoverageFile(name, sections, titles)


def _toml(table: Mapping[str, Any], name: str, own: bool) -> CoverageFile:
    """``[tool.coverage.<section>]`` (and ``[<section>]`` in coverage's own file)."""
    tool = table.get("tool")
    found = tool.get("coverage") if isinstance(tool, Mapping) else None
    sections: dict[str, Mapping[str, Any]] = {}
    titles: dict[str, str] = {}
    for prefix, tables in (("", table if own else {}), ("tool.coverage.", found or {})):
        for key, value in tables.items():
            if isinstance(value, Mapping) and not (prefix == "" and key == "tool"):
                sections[key], titles[key] = value, prefix + key
    return CoverageFile(name, sections, titles)


def coverage_files(config: Config) -> list[CoverageFile]:
    """The files that hold coverage.py settings, in the order coverage.py tries them:
    ``$COVERAGE_RCFILE`` or ``.coveragerc``, ``.coveragerc.toml``, ``setup.cfg``, ``tox.ini``,
    ``pyproject.toml``. coverage.py uses the first one (its own files even when empty); a file
    that cannot be read is listed (``readable`` False) where coverage.py would stop on it."""
    root = config.root
    own = os.environ.get("COVERAGE_RCFILE") or ".coveragerc"
    found: list[CoverageFile] = []
    for name, is_own in (
        (own, True),
        (".coveragerc.toml", True),
        ("setup.cfg", False),
        ("tox.ini", False),
    ):
        path = root / name
        if not path.is_file():
            continue
        if path.suffix == ".toml":
            try:
                read = _toml(read_toml(path), name, is_own)
            except ConfigError:
                read = CoverageFile(name, {}, {}, readable=False)
        else:
            read = _ini(path, name, is_own)
        if read.sections or is_own or not read.readable:  # coverage's own file counts even empty
            found.append(read)
    pyproject = _toml({"tool": {"coverage": config.project.coverage}}, "pyproject.toml", False)
    if pyproject.sections:
        found.append(pyproject)
    return found


def report_precision(config: Config) -> int:
    """coverage.py's ``[report] precision`` for the project: the digits after the point it
    shows totals with and rounds them to for ``fail_under`` (0 unless set).

    Raises :class:`~noxops.errors.ConfigError` for a value coverage.py would refuse."""
    for settings in coverage_files(config):
        if not settings.readable:
            continue  # coverage.py itself says what is wrong with it
        value = settings.sections.get("report", {}).get("precision")
        if value is None:
            return 0
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        raise ConfigError(
            settings.name,
            f"[{settings.titles['report']}] precision",
            f"{value!r} is not a number of digits after the point; write one, e.g. precision = 2",
        )
    return 0
