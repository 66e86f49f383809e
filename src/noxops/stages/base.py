"""What a stage is, the registry of stages, and the helpers every stage shares."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Literal, Optional

if TYPE_CHECKING:
    import nox

    from noxops.config import Config

__all__ = [
    "STAGES",
    "EnvPlan",
    "Install",
    "Stage",
    "StageFunc",
    "install_plan",
    "project_install",
    "report_path",
    "run_tool",
    "stage",
    "write_json",
]

StageFunc = Callable[["nox.Session", "Config"], None]
Install = tuple[str, ...]  # the arguments of one ``session.install(...)`` call
# The install calls, in order, that make a stage's environment, given the configuration and
# the session's Python. Known before the session starts, so noxops.prepare can build it ahead.
EnvPlan = Callable[["Config", Optional[str]], list[Install]]
PythonSpec = Literal["tools", "matrix", "none"]


@dataclass(frozen=True)
class Stage:
    """A pipeline stage and how it becomes a nox session."""

    name: str
    func: StageFunc
    doc: str
    python: PythonSpec = "tools"
    requires: tuple[str, ...] = ()
    default: bool = True
    enabled: Callable[[Config], bool] = field(default=lambda config: True)
    timeout: Callable[[Config], float] = field(default=lambda config: 1800.0)
    section: Optional[str] = None  # the [tool.noxops.<section>] it reads
    # False: never runs alongside another session under `nox -j` (it shares ports, images,
    # deployments or the files other stages read).
    allow_parallel: bool = True
    # What its environment is made of, when that is known ahead (None: only the stage knows).
    env: Optional[EnvPlan] = None


STAGES: dict[str, Stage] = {}


def stage(
    name: str,
    *,
    python: PythonSpec = "tools",
    requires: Sequence[str] = (),
    default: bool = True,
    section: str | None = None,
    allow_parallel: bool = True,
    env: EnvPlan | None = None,
    enabled: Callable[[Config], bool] | None = None,
) -> Callable[[StageFunc], StageFunc]:
    """Register a stage function under ``name``; its docstring is the session's description.

    ``section`` names the ``[tool.noxops.<section>]`` table whose ``enabled`` and ``timeout``
    keys govern the stage.  ``allow_parallel=False`` keeps ``nox -j`` from running it
    alongside other sessions. ``env`` gives the install calls of its environment (the stage
    function makes them with :func:`install_plan`), so the environment can be prepared while
    earlier sessions run. ``enabled`` further limits when the stage is registered (for
    example: only when the project has a Dockerfile).
    """

    def register(func: StageFunc) -> StageFunc:
        def is_enabled(config: Config) -> bool:
            on = section is None or bool(getattr(config, section).enabled)
            return on and (enabled is None or enabled(config))

        def timeout(config: Config) -> float:
            return 1800.0 if section is None else float(getattr(config, section).timeout)

        STAGES[name] = Stage(
            name=name,
            func=func,
            doc=(func.__doc__ or name).strip().splitlines()[0],
            python=python,
            requires=tuple(requires),
            default=default,
            enabled=is_enabled,
            timeout=timeout,
            section=section,
            allow_parallel=allow_parallel,
            env=env,
        )
        return func

    return register


def report_path(config: Config, *parts: str) -> Path:
    """A path under the reports folder, its parent created."""
    path = config.reports.joinpath(*parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def run_tool(session: nox.Session, *args: str, **kwargs: Any) -> bool:
    """Run one tool; ``False`` when it failed, so the stage can run its other tools too."""
    from nox.command import CommandFailed

    try:
        session.run(*args, **kwargs)
    except CommandFailed:
        return False
    return True


def project_install(
    config: Config,
    *requirements: str,
    groups: Sequence[str] = (),
    extras: Sequence[str] = (),
    editable: bool = True,
) -> Install:
    """The arguments installing the project (editable by default), dependency groups and tools.

    Raises :class:`~noxops.errors.NoxopsError` when a named group is not defined.
    """
    import nox.project

    from noxops.errors import NoxopsError

    target = "." + (f"[{','.join(extras)}]" if extras else "")
    pyproject = nox.project.load_toml(str(config.root / "pyproject.toml"))
    defined = pyproject.get("dependency-groups", {})
    missing = [g for g in groups if g not in defined]
    if missing:
        raise NoxopsError(
            f"dependency group(s) {', '.join(missing)} named in [tool.noxops] are not defined in "
            f"[dependency-groups] of {config.file}"
        )
    group_reqs = list(nox.project.dependency_groups(pyproject, *groups)) if groups else []
    args = ["-e", target] if editable else [target]
    return (*args, *group_reqs, *requirements)


def install_plan(session: nox.Session, config: Config, plan: EnvPlan) -> None:
    """Make the install calls of ``plan`` (a stage's ``env``); a bad configuration stops it."""
    from noxops.errors import NoxopsError

    try:
        calls = plan(config, None if session.python is None else str(session.python))
    except NoxopsError as exc:
        session.error(str(exc))
    for args in calls:
        session.install(*args)
