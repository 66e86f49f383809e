"""The ``type`` stage: mypy over the sources, targeting the project's lowest Python."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from noxops import tools
from noxops.stages.base import CI, Install, Output, install_plan, project_install, stage
from noxops.stages.tests import default_groups

if TYPE_CHECKING:
    import nox

    from noxops.config import Config

__all__ = ["MYPY_JUNIT", "mypy_files", "mypy_requirement", "type_env", "type_paths", "typecheck"]

MYPY_JUNIT = Output("mypy-junit.xml", kind="mypy", check="type")


def mypy_requirement(target: str) -> str:
    """mypy 2.x can no longer target 3.9; pick the newest mypy that can check ``target``."""
    major, minor = (int(p) for p in target.split("."))
    return "mypy<2" if (major, minor) < (3, 10) else "mypy"


def type_env(config: Config, python: str | None) -> list[Install]:
    """The project with its type-checking groups, and mypy (the project's pin, if any)."""
    target = config.type.python_version or config.lowest_python
    groups = config.type.groups if config.type.groups is not None else default_groups(config)
    mypy = tools.pinned(config, "mypy") or mypy_requirement(target)
    return [project_install(config, mypy, groups=groups)]


def _ini_files(path: Path, section: str) -> list[str] | None:
    """``files`` of ``[section]`` in an ini file; None when the file has no such section."""
    import configparser

    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return []
    if not parser.has_section(section):
        return None
    value = parser.get(section, "files", fallback="")
    return [f.strip() for f in value.split(",") if f.strip()]


def mypy_files(config: Config) -> list[str]:
    """The ``files`` mypy's own configuration names, read where mypy reads it (mypy.ini,
    .mypy.ini, pyproject.toml, setup.cfg: the first that configures mypy), else empty."""
    for name in ("mypy.ini", ".mypy.ini"):
        if (config.root / name).is_file():
            return _ini_files(config.root / name, "mypy") or []
    if config.project.mypy:
        files = config.project.mypy.get("files")
        if isinstance(files, str):
            return [f.strip() for f in files.split(",") if f.strip()]
        return [str(f) for f in files] if isinstance(files, tuple) else []
    if (config.root / "setup.cfg").is_file():
        return _ini_files(config.root / "setup.cfg", "mypy") or []
    return []


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
    env=type_env,
    inputs=type_paths,
    outputs=[MYPY_JUNIT],
    ci=CI(stage="quality"),
)
def typecheck(session: nox.Session, config: Config) -> None:
    """Type-check with mypy, targeting the lowest supported Python."""
    target = config.type.python_version or config.lowest_python
    install_plan(session, config, type_env)
    paths = _path_args(config)
    if not paths:
        named = ", ".join(type_paths(config))
        session.log(f"mypy checks the files its own configuration names: {named}")
    junit = MYPY_JUNIT.path(config)
    session.run(
        "mypy", f"--python-version={target}", f"--junit-xml={junit}",
        *config.type.mypy_args, *session.posargs, *paths,
    )  # fmt: skip
