"""The ``type`` stage: mypy over the sources, targeting the project's lowest Python."""

from __future__ import annotations

from typing import TYPE_CHECKING

from noxops.stages.base import CI, Install, Output, install_plan, project_install, stage
from noxops.stages.tests import default_groups

if TYPE_CHECKING:
    import nox

    from noxops.config import Config

__all__ = ["MYPY_JUNIT", "mypy_requirement", "type_env", "type_paths", "typecheck"]

MYPY_JUNIT = Output("mypy-junit.xml", kind="mypy", check="type")


def mypy_requirement(target: str) -> str:
    """mypy 2.x can no longer target 3.9; pick the newest mypy that can check ``target``."""
    major, minor = (int(p) for p in target.split("."))
    return "mypy<2" if (major, minor) < (3, 10) else "mypy"


def type_env(config: Config, python: str | None) -> list[Install]:
    """The project with its type-checking groups, and mypy."""
    target = config.type.python_version or config.lowest_python
    groups = config.type.groups if config.type.groups is not None else default_groups(config)
    return [project_install(config, mypy_requirement(target), groups=groups)]


def type_paths(config: Config) -> list[str]:
    """What mypy checks: ``[tool.noxops.type] paths``, else the sources."""
    return list(config.type.paths) or config.sources


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
    paths = type_paths(config)
    junit = MYPY_JUNIT.path(config)
    session.run(
        "mypy", f"--python-version={target}", f"--junit-xml={junit}",
        *config.type.mypy_args, *session.posargs, *paths,
    )  # fmt: skip
