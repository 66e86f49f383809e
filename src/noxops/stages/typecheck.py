"""The ``type`` stage: mypy as the project runs it.

It checks what the project checks, with what the project installs for it, at the Python
version the project targets:

* the environment is the project with its test groups and its typing groups (``typing``,
  ``types``, ``mypy``, ... or any group that requires mypy or stub packages), else its test
  requirements file, and mypy at the project's own version (its lock, its pin, its pre-commit
  hook, whose ``additional_dependencies`` come too: :mod:`noxops.project.tools`);
* the target is mypy's own ``python_version`` setting, read by mypy itself; else mypy's
  default, the Python it runs on, whose environment was resolved for that very Python
  (``[tool.noxops.type] python_version`` makes the session run on that Python). A target
  forced over an environment made for another Python had mypy report syntax errors inside
  installed packages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from noxops.config import TypeConfig
from noxops.project import install, interpreters, tools
from noxops.project.pyproject import normalize_group
from noxops.stages.base import CI, Install, Output, install_plan, stage
from noxops.stages.tests import default_groups, test_install

if TYPE_CHECKING:
    import nox

    from noxops.config import Config

__all__ = [
    "MYPY_JUNIT",
    "mypy_files",
    "mypy_requirement",
    "mypy_target",
    "type_env",
    "type_groups",
    "type_paths",
    "typecheck",
]

MYPY_JUNIT = Output("mypy-junit.xml", kind="mypy", check="type")
# Dependency groups that are the project's typing environment by their name alone.
_TYPING_GROUPS = frozenset({"typing", "types", "type", "mypy", "typecheck", "type-check"})
_STUBS = re.compile(r"^(types-.+|.+-stubs|mypy)$")


def mypy_requirement(target: str) -> str:
    """mypy 2.x can no longer target 3.9; pick the newest mypy that can check ``target``."""
    major, minor = (int(p) for p in target.split("."))
    return "mypy<2" if (major, minor) < (3, 10) else "mypy"


def _group_names(config: Config, group: str) -> list[str]:
    """The normalized distribution names a dependency group (PEP 735 or Poetry's) requires."""
    project = config.project
    if project.has_group(group):
        requirements = list(project.group_requirements(group))
    else:
        requirements = install.poetry_group_requirements(project, [group])
    names = [re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)", r) for r in requirements]
    return [normalize_group(m[1]) for m in names if m]


def type_groups(config: Config) -> list[str]:
    """The groups mypy's environment gets: ``[tool.noxops.type] groups``, else the test
    groups plus the project's typing groups (named ``typing``, ``types``, ``mypy``, ..., or
    requiring mypy or stub packages: what the project installs to run mypy)."""
    if config.type.groups is not None:
        return list(config.type.groups)
    chosen = default_groups(config)
    typing = {n for g in chosen for n in _group_names(config, g) if _STUBS.match(n)}
    every = [*config.project.dependency_groups, *install.poetry_groups(config.project)]
    # Named typing groups first; then a group bringing stubs (or mypy) not yet brought (a
    # catch-all dev group that only includes the typing group adds nothing of its own).
    every.sort(key=lambda group: normalize_group(group) not in _TYPING_GROUPS)
    for group in dict.fromkeys(every):
        stubs = {n for n in _group_names(config, group) if _STUBS.match(n)}
        if group not in chosen and (normalize_group(group) in _TYPING_GROUPS or stubs - typing):
            chosen.append(group)
            typing |= stubs
    return chosen


def _session_python(config: Config, python: Optional[str]) -> str:
    """The Python the type session runs on (major.minor)."""
    return python or config.type.python_version or config.tools_python or interpreters.current()


def mypy_target(config: Config, python: Optional[str]) -> tuple[str, str]:
    """``(version, why)``: the Python version mypy checks the code for. The project's own
    ``python_version`` (mypy reads it itself), else the Python mypy runs on."""
    where, settings = _mypy_settings(config)
    own = settings.get("python_version")
    if own is not None and str(own).strip():
        return str(own).strip(), f"{where} python_version"
    if config.type.python_version:
        return config.type.python_version, "[tool.noxops.type] python_version, the session's Python"
    return _session_python(config, python), "the Python mypy runs on, as mypy does by default"


def _mypy(config: Config, python: Optional[str]) -> tuple[str, str, list[str]]:
    """``(requirement, where, extra)``: mypy at the project's version, where that version
    comes from, and the stub packages its pre-commit hook adds when mypy comes from it."""
    found = tools.pin(config, "mypy", python)
    if found is None:
        target, _why = mypy_target(config, python)
        requirement = mypy_requirement(target)
        return requirement, "newest: the project pins none", []
    requirement, where = found
    extra = tools.hook_dependencies(config.root, "mypy") if "pre-commit" in where else []
    return requirement, where, extra


def type_env(config: Config, python: Optional[str]) -> list[Install]:
    """The project with its test and typing groups (else its test requirements file), and
    mypy (the project's version) with the stubs its pre-commit hook installs, if from there."""
    requirement, _where, extra = _mypy(config, python)
    return [test_install(config, requirement, *extra, groups=type_groups(config), extras=[])]


def _mypy_settings(config: Config) -> tuple[str, Mapping[str, Any]]:
    """``(where, settings)``: mypy's global settings where mypy reads them (mypy.ini,
    .mypy.ini, pyproject.toml, setup.cfg: the first that configures mypy), else empty."""
    for name in ("mypy.ini", ".mypy.ini"):
        if (config.root / name).is_file():
            return f"{name} [mypy]", _ini_section(config.root / name, "mypy") or {}
    if config.project.mypy:
        return "[tool.mypy]", config.project.mypy
    section = _ini_section(config.root / "setup.cfg", "mypy")
    if section is not None:
        return "setup.cfg [mypy]", section
    return "", {}


def _ini_section(path: Path, section: str) -> Optional[dict[str, str]]:
    """``[section]`` of an ini file; None when the file has no such section."""
    import configparser

    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return {}
    return dict(parser[section]) if parser.has_section(section) else None


def mypy_files(config: Config) -> list[str]:
    """The ``files`` mypy's own configuration names, read where mypy reads it, else empty."""
    files = _mypy_settings(config)[1].get("files", "")
    if isinstance(files, str):
        return [f.strip() for f in files.split(",") if f.strip()]
    return [str(f) for f in files] if isinstance(files, tuple) else []


def type_paths(config: Config) -> list[str]:
    """What mypy checks: ``[tool.noxops.type] paths``, else mypy's own ``files``, else the
    sources."""
    return list(config.type.paths) or mypy_files(config) or config.sources


def _path_args(config: Config) -> list[str]:
    """The paths on mypy's command line: none when mypy's own ``files`` say what to check."""
    if not config.type.paths and mypy_files(config):
        return []
    return type_paths(config)


@stage(
    "type",
    section="type",
    settings=TypeConfig,
    env=type_env,
    inputs=type_paths,
    outputs=[MYPY_JUNIT],
    ci=CI(stage="quality"),
)
def typecheck(session: nox.Session, config: Config) -> None:
    """Type-check with mypy, as the project runs it."""
    python = None if session.python is None else str(session.python)
    requirement, where, extra = _mypy(config, python)
    version = re.sub(r"^mypy(\[[^\]]*\])?(==)?", "", requirement)
    target, why = mypy_target(config, python)
    hook = f", with its hook's {', '.join(extra)}" if extra else ""
    session.log(
        f"type: mypy{' ' + version if version else ''} ({where}{hook}), target Python {target} "
        f"({why}); groups: {', '.join(type_groups(config)) or 'none'}"
    )
    install_plan(session, config, type_env)
    paths = _path_args(config)
    if not paths:
        named = ", ".join(type_paths(config))
        session.log(f"mypy checks the files its own configuration names: {named}")
    junit = MYPY_JUNIT.path(config)
    session.run("mypy", f"--junit-xml={junit}", *config.type.mypy_args, *session.posargs, *paths)
