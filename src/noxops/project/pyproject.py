"""The project as its ``pyproject.toml`` describes it: read once, with the configuration.

:func:`noxops.config.load` reads ``pyproject.toml`` once and keeps what the stages need here,
as ``config.project``: the ``[project]`` metadata, ``[dependency-groups]`` (raw, resolved on
request with ``include-group`` as PEP 735 says), ``[build-system]`` and the ``[tool.*]``
tables of other tools, every table a read-only mapping and every array a tuple. A project
without ``[project]`` (requirements files only, or Poetry 1's ``[tool.poetry]``) is a model
with fewer facts, not an error; a value of the wrong type in a table noxops reads is a
:class:`~noxops.errors.ConfigError` naming the file and the key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Optional

from noxops.errors import ConfigError
from noxops.project.textfile import NotText, read_utf8, tomllib

__all__ = ["BuildSystem", "Project", "freeze", "normalize_group", "read_toml", "thaw"]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _empty() -> Mapping[str, Any]:
    return _EMPTY


def freeze(value: Any) -> Any:
    """TOML data made read-only: tables become mappings that refuse writes, arrays tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """A mutable copy of frozen data (dicts and lists), for code that wants plain TOML data."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


def normalize_group(name: str) -> str:
    """A dependency group's name as PEP 735 compares it (like a distribution name)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class BuildSystem:
    """``[build-system]``: what builds the project."""

    requires: tuple[str, ...] = ()
    backend: Optional[str] = None  # None: the setuptools legacy backend (PEP 517)
    backend_path: tuple[str, ...] = ()


@dataclass(frozen=True)
class Project:
    """What ``pyproject.toml`` says about the project (see the module's documentation)."""

    path: Path = Path("pyproject.toml")  # the file, whether it exists or not
    exists: bool = False
    name: Optional[str] = None  # [project] name, else [tool.poetry] name
    version: Optional[str] = None  # likewise; None when dynamic or absent
    description: Optional[str] = None
    dynamic: tuple[str, ...] = ()
    requires_python: Optional[str] = None
    dependencies: tuple[str, ...] = ()
    optional_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=_empty)
    classifiers: tuple[str, ...] = ()
    dependency_groups: Mapping[str, Any] = field(default_factory=_empty)  # raw [dependency-groups]
    build_system: Optional[BuildSystem] = None  # None: no [build-system] table
    metadata: Mapping[str, Any] = field(default_factory=_empty)  # the whole [project] table
    tool: Mapping[str, Any] = field(default_factory=_empty)  # every [tool.*] table, noxops's too

    # -- reading ---------------------------------------------------------------------------

    @classmethod
    def read(cls, path: Path | str) -> Project:
        """Read ``path`` (a missing file is a project with no facts)."""
        path = Path(path)
        if not path.is_file():
            return cls(path=path)
        return cls.from_data(path, read_toml(path))

    @classmethod
    def from_data(cls, path: Path, data: Mapping[str, Any]) -> Project:
        """The model of ``data``, the parsed contents of the file at ``path``."""
        reader = _Reader(str(path))
        project = reader.table(data, "project")
        tool = reader.table(data, "tool")
        poetry = reader.table(tool, "poetry", prefix="tool")
        groups = reader.table(data, "dependency-groups")
        optional = reader.table(project, "optional-dependencies", prefix="project")
        build_system: Optional[BuildSystem] = None
        if "build-system" in data:
            table = reader.table(data, "build-system")
            build_system = BuildSystem(
                requires=reader.strings(table, "requires", "build-system"),
                backend=reader.string(table, "build-backend", "build-system"),
                backend_path=reader.strings(table, "backend-path", "build-system"),
            )
        return cls(
            path=path,
            exists=True,
            name=reader.string(project, "name", "project")
            or reader.string(poetry, "name", "tool.poetry"),
            version=reader.string(project, "version", "project")
            or reader.string(poetry, "version", "tool.poetry"),
            description=reader.string(project, "description", "project")
            or reader.string(poetry, "description", "tool.poetry"),
            dynamic=reader.strings(project, "dynamic", "project"),
            requires_python=reader.string(project, "requires-python", "project"),
            dependencies=reader.strings(project, "dependencies", "project"),
            optional_dependencies=MappingProxyType(
                {
                    extra: reader.strings(optional, extra, "project.optional-dependencies")
                    for extra in optional
                }
            ),
            classifiers=reader.strings(project, "classifiers", "project"),
            dependency_groups=freeze(groups),
            build_system=build_system,
            metadata=freeze(project),
            tool=freeze(tool),
        )

    # -- derived values --------------------------------------------------------------------

    @property
    def root(self) -> Path:
        """The project folder (where the file is)."""
        return self.path.parent

    def tool_table(self, *keys: str) -> Mapping[str, Any]:
        """``[tool.<keys...>]`` read-only, empty when absent or not a table.

        ``tool_table("coverage", "run")`` is ``[tool.coverage.run]``.
        """
        table: Any = self.tool
        for key in keys:
            table = table.get(key) if isinstance(table, Mapping) else None
        return table if isinstance(table, Mapping) else _EMPTY

    @property
    def coverage(self) -> Mapping[str, Any]:
        return self.tool_table("coverage")

    @property
    def pytest(self) -> Mapping[str, Any]:
        """``[tool.pytest.ini_options]``."""
        return self.tool_table("pytest", "ini_options")

    @property
    def mypy(self) -> Mapping[str, Any]:
        return self.tool_table("mypy")

    @property
    def ruff(self) -> Mapping[str, Any]:
        return self.tool_table("ruff")

    @property
    def black(self) -> Mapping[str, Any]:
        return self.tool_table("black")

    @property
    def isort(self) -> Mapping[str, Any]:
        return self.tool_table("isort")

    @property
    def bandit(self) -> Mapping[str, Any]:
        return self.tool_table("bandit")

    # -- dependency groups -----------------------------------------------------------------

    def has_group(self, name: str) -> bool:
        wanted = normalize_group(name)
        return any(normalize_group(g) == wanted for g in self.dependency_groups)

    def group_requirements(self, *groups: str) -> tuple[str, ...]:
        """The requirements of ``groups``, in order, their ``include-group`` entries resolved.

        Raises :class:`~noxops.errors.ConfigError` naming the key for an undefined or
        duplicated group, an include cycle or an entry that is not a requirement.
        """
        file = str(self.path)
        table: dict[str, tuple[str, Any]] = {}
        for original, entries in self.dependency_groups.items():
            norm = normalize_group(original)
            if norm in table:
                raise ConfigError(
                    file,
                    "dependency-groups",
                    f"groups {table[norm][0]!r} and {original!r} have the same normalized name",
                )
            table[norm] = (original, entries)
        found: list[str] = []

        def visit(name: str, chain: tuple[str, ...], key: str) -> None:
            norm = normalize_group(name)
            if norm not in table:
                raise ConfigError(file, key, f"dependency group {name!r} is not defined")
            original, entries = table[norm]
            if norm in chain:
                cycle = " -> ".join([*(table[c][0] for c in chain), original])
                raise ConfigError(file, key, f"dependency groups include each other: {cycle}")
            group_key = f"dependency-groups.{original}"
            if not isinstance(entries, tuple):
                raise ConfigError(file, group_key, "expected a list of requirements")
            for i, entry in enumerate(entries):
                entry_key = f"{group_key}[{i}]"
                include = entry.get("include-group") if isinstance(entry, Mapping) else None
                if isinstance(entry, str):
                    found.append(_requirement(entry, file, entry_key))
                elif isinstance(include, str) and len(entry) == 1:
                    visit(include, (*chain, norm), entry_key)
                else:
                    raise ConfigError(
                        file,
                        entry_key,
                        'expected a requirement string or {include-group = "<group>"}',
                    )

        for group in groups:
            visit(group, (), "dependency-groups")
        return tuple(found)


def read_toml(path: Path) -> dict[str, Any]:
    """The TOML file at ``path``, parsed; whatever keeps it from being read is a
    :class:`~noxops.errors.ConfigError` of one line naming the file (and the line and byte
    for text that is not UTF-8), never a traceback."""

    def fail(problem: str) -> ConfigError:
        return ConfigError(str(path), "(file)", problem)

    try:
        text = read_utf8(path)
    except NotText as exc:
        fix = "; save it as UTF-8, as TOML requires" if exc.decoding else ""
        raise fail(f"{exc.problem}{fix}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise fail(f"is not valid TOML: {exc}") from None
    except RecursionError:
        raise fail(
            "is nested too deeply to read (arrays or tables hundreds of levels inside each "
            "other); remove the deeply nested value"
        ) from None


def _requirement(text: str, file: str, key: str) -> str:
    """``text`` as a requirement, spelled the way nox and pip spell it."""
    try:
        from packaging.requirements import InvalidRequirement, Requirement
    except ImportError:  # pragma: no cover - packaging comes with nox
        return text.strip()
    try:
        return str(Requirement(text))
    except InvalidRequirement as exc:
        raise ConfigError(file, key, f"{text!r} is not a valid requirement: {exc}") from None


class _Reader:
    """Typed access to the tables noxops reads, with errors naming the file and the key."""

    def __init__(self, file: str) -> None:
        self.file = file

    def _fail(self, key: str, expected: str, value: Any) -> ConfigError:
        text = repr(value)
        text = text if len(text) <= 60 else text[:57] + "..."
        return ConfigError(
            self.file, key, f"expected {expected}, found {text} ({type(value).__name__})"
        )

    def table(self, data: Mapping[str, Any], name: str, prefix: str = "") -> Mapping[str, Any]:
        value = data.get(name, {})
        if not isinstance(value, Mapping):
            raise self._fail(f"{prefix}.{name}" if prefix else name, "a table", value)
        return value

    def string(self, data: Mapping[str, Any], name: str, prefix: str) -> Optional[str]:
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            raise self._fail(f"{prefix}.{name}", "a string", value)
        return value

    def strings(self, data: Mapping[str, Any], name: str, prefix: str) -> tuple[str, ...]:
        value = data.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._fail(f"{prefix}.{name}", "a list of strings", value)
        return tuple(value)
