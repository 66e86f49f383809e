"""How a project's code and dependencies get into a session's environment, whatever describes
them: ``[project]`` with a build system, ``setup.py``, Poetry, or requirements files only.

* With a build system (``[build-system]``, ``setup.py``, or ``[project]``, which pip builds
  with setuptools) the project is installed
  (``pip install -e .``; Poetry projects through their ``poetry-core`` backend).
* Without one it is not installed (``pip install .`` would run setuptools' automatic
  discovery over the project folder, and fail on folders like ``reports/``); its code is
  imported from the working directory as its tests do, and its dependencies come from its
  requirements files (``requirements.txt``).
* The test dependencies come from ``[dependency-groups]``, else Poetry's groups
  (``[tool.poetry.group.<name>.dependencies]``), else requirements files such as
  ``requirements-test.txt`` or ``requirements-dev.txt``.

:func:`describe` says which of these applies, for ``noxops init`` and ``noxops doctor``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from noxops.project.pyproject import Project

__all__ = [
    "TEST_REQUIREMENTS",
    "describe",
    "has_build_system",
    "is_poetry",
    "poetry_group_requirements",
    "requirement_lines",
    "requirement_names",
    "runtime_requirement_files",
    "test_requirement_files",
]

RUNTIME_REQUIREMENTS = ("requirements.txt", "requirements/base.txt", "requirements/main.txt")
TEST_REQUIREMENTS = (
    "requirements-test.txt",
    "requirements_test.txt",
    "requirements-tests.txt",
    "test-requirements.txt",
    "requirements/test.txt",
    "requirements/tests.txt",
    "requirements-dev.txt",
    "requirements_dev.txt",
    "dev-requirements.txt",
    "requirements/dev.txt",
)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")  # a requirement's distribution name


def has_build_system(project: Project) -> bool:
    """Whether the project can be installed: a ``[build-system]`` table, a setup.py, or a
    ``[project]`` table (which pip builds with setuptools when no backend is named)."""
    return (
        project.build_system is not None
        or bool(project.metadata)
        or (project.root / "setup.py").is_file()
    )


def is_poetry(project: Project) -> bool:
    """Whether Poetry describes the project (``[tool.poetry]``)."""
    return isinstance(project.tool.get("poetry"), Mapping)


def _describes_dependencies(project: Project) -> bool:
    if "dependencies" in project.metadata or "dependencies" in project.dynamic:
        return True
    poetry = project.tool.get("poetry")
    return isinstance(poetry, Mapping) and "dependencies" in poetry


def runtime_requirement_files(project: Project) -> list[str]:
    """The requirements files that carry the dependencies, when nothing else declares them
    (no ``[project] dependencies``, no Poetry dependencies), relative to the project."""
    if _describes_dependencies(project) and has_build_system(project):
        return []
    return [name for name in RUNTIME_REQUIREMENTS if (project.root / name).is_file()][:1]


def test_requirement_files(project: Project) -> list[str]:
    """The first requirements file for tests and development the project has."""
    return [name for name in TEST_REQUIREMENTS if (project.root / name).is_file()][:1]


def _poetry_constraint(value: Any) -> Optional[str]:
    """A Poetry version constraint as a PEP 440 specifier (None: not a registry package)."""
    if isinstance(value, Mapping):
        if any(k in value for k in ("path", "git", "url")):
            return None
        value = value.get("version", "*")
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text in {"", "*"}:
        return ""
    parts: list[str] = []
    for raw in text.split(","):
        piece = raw.strip()
        match = re.fullmatch(r"([\^~])\s*(\d+(?:\.\d+)*)", piece)
        if match:
            numbers = [int(n) for n in match[2].split(".")]
            if match[1] == "^":
                first = next((i for i, n in enumerate(numbers) if n), len(numbers) - 1)
                upper = [*numbers[:first], numbers[first] + 1]
            else:
                upper = [numbers[0] + 1] if len(numbers) == 1 else [numbers[0], numbers[1] + 1]
            parts += [f">={match[2]}", f"<{'.'.join(map(str, upper))}"]
        elif re.fullmatch(r"\d+(\.\d+)*", piece):
            parts.append(f"=={piece}")
        else:
            parts.append(piece.replace(" ", ""))
    return ",".join(parts)


def poetry_group_requirements(project: Project, groups: Sequence[str]) -> list[str]:
    """The requirements of Poetry's ``groups`` (and the old ``dev-dependencies`` for 'dev')."""
    poetry = project.tool.get("poetry")
    if not isinstance(poetry, Mapping):
        return []
    found: list[str] = []
    tables: list[Any] = []
    group_tables = poetry.get("group")
    for group in groups:
        if isinstance(group_tables, Mapping) and isinstance(group_tables.get(group), Mapping):
            tables.append(group_tables[group].get("dependencies"))
        if group == "dev":
            tables.append(poetry.get("dev-dependencies"))
    for table in tables:
        if not isinstance(table, Mapping):
            continue
        for name, value in table.items():
            if name.lower() == "python":
                continue
            constraint = _poetry_constraint(value)
            if constraint is not None:
                found.append(f"{name}{constraint}")
    return found


def poetry_groups(project: Project) -> list[str]:
    """The names of Poetry's dependency groups (with 'dev' for the old dev-dependencies)."""
    poetry = project.tool.get("poetry")
    if not isinstance(poetry, Mapping):
        return []
    groups = poetry.get("group")
    names = list(groups) if isinstance(groups, Mapping) else []
    if "dev-dependencies" in poetry and "dev" not in names:
        names.append("dev")
    return names


def _requirements(root: Path, names: Sequence[str]) -> list[tuple[str, str]]:
    """(distribution name, line) of each requirement in requirements files (``-r`` includes
    followed, each file once); the line without comment and line continuation, but with its
    options (``--hash``)."""
    found: list[tuple[str, str]] = []
    seen: set[Path] = set()

    def read(path: Path) -> None:
        try:
            path = path.resolve()  # a/../b.txt is b.txt: each file once, or an include loops
        except (OSError, RuntimeError):  # a symlink loop (RuntimeError before Python 3.13)
            return
        if path in seen or not path.is_file():
            return
        seen.add(path)
        for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
            line = raw.split(" #")[0].strip().rstrip("\\").strip()
            include = re.match(r"^(?:-r|--requirement)\s*=?\s*(\S+)", line)
            if include:
                read(path.parent / include[1])
            elif name := _NAME.match(line):
                found.append((name[0], line))

    for name in names:
        read(root / name)
    return found


def requirement_lines(root: Path, names: Sequence[str]) -> list[str]:
    """The requirements in requirements files (``-r`` includes followed), as written but
    without comments, options (``--hash``) and line continuations: ``flake8==7.1.1``."""
    return [re.split(r"\s+--?[a-z]", line)[0].strip() for _, line in _requirements(root, names)]


def requirement_names(root: Path, names: Sequence[str]) -> list[str]:
    """The distribution names in requirements files (``-r`` includes followed), lowercased."""
    return [name.lower() for name, _ in _requirements(root, names)]


def describe(project: Project) -> tuple[bool, str]:
    """``(ok, how)``: how noxops installs the project; not ok when nothing describes it."""
    root = project.root
    runtime = runtime_requirement_files(project)
    if has_build_system(project):
        how = "Poetry's build backend" if is_poetry(project) else "its build system"
        if (root / "setup.py").is_file() and project.build_system is None:
            how = "setup.py"
        extra = f", plus {runtime[0]}" if runtime else ""
        return True, f"installed with `pip install -e .` ({how}){extra}"
    if runtime:
        return True, (
            f"no build system: its dependencies come from {runtime[0]}, its code from the "
            "project folder (not installed)"
        )
    return False, (
        "neither a build system ([build-system] or setup.py) nor a requirements.txt: the "
        "sessions cannot install the project's dependencies. Add a [project] table with a "
        "[build-system], or a requirements.txt"
    )
