"""What a stage is, the registry of stages, and the helpers every stage shares."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Literal, Optional, Union, get_args

from noxops import schema
from noxops.ci.settings import CIStage
from noxops.errors import NoxopsError
from noxops.project import install, locks
from noxops.reports.outputs import Output, OutputKind, report_path

if TYPE_CHECKING:
    import nox

    from noxops.config import Config

__all__ = [
    "CI",
    "CI_ORDER",
    "STAGES",
    "EnvPlan",
    "Inputs",
    "Install",
    "Output",
    "OutputKind",
    "Stage",
    "StageFunc",
    "StageRegistry",
    "ignore_others",
    "install_plan",
    "ordered",
    "output_owners",
    "project_install",
    "report_path",
    "run_tool",
    "runner_hooks",
    "stage",
    "whole_project",
    "write_json",
]

StageFunc = Callable[["nox.Session", "Config"], None]
Install = tuple[str, ...]  # the arguments of one ``session.install(...)`` call
# The install calls, in order, that make a stage's environment, given the configuration and
# the session's Python. Known before the session starts, so noxops.incremental.prepare can build it
# ahead.
EnvPlan = Callable[["Config", Optional[str]], list[Install]]
# The paths a stage reads (besides the project's top-level files, where tool configuration
# lives), for ``--changed-only``; None means the whole project. Raising LookupError says
# "cannot tell now" (the stage then always runs).
Inputs = Callable[["Config"], Optional[list[str]]]
PythonSpec = Literal["tools", "matrix", "none"]


def _always(config: Config) -> bool:
    return True


@dataclass(frozen=True)
class CI:
    """What a stage's CI job needs, read by the CI model.

    ``stage`` is the CI stage it belongs to (None: after the stages it requires, else
    quality); ``docker`` says its session drives a Docker engine (or a function of the
    configuration that says whether it does); ``services`` that it talks to
    the integration services (PostgreSQL, Redis) CI starts beside the job; ``extras`` are the
    noxops extras the nox process itself needs; ``artifacts`` the folders it hands on to later
    jobs (``reports`` always).
    """

    stage: Optional[CIStage] = None
    docker: Union[bool, Callable[[Config], bool]] = False
    services: bool = False
    extras: tuple[str, ...] = ()
    artifacts: tuple[str, ...] = ("reports",)
    # Environment variables its session reads from the provider's secrets when they are set
    # (an unset one turns its feature off): a Sonar token, notification channels.
    secrets: Union[tuple[str, ...], Callable[[Config], tuple[str, ...]]] = ()

    def secret_names(self, config: Config) -> tuple[str, ...]:
        """The optional secrets the session reads with this configuration."""
        return self.secrets(config) if callable(self.secrets) else self.secrets

    def needs_docker(self, config: Config) -> bool:
        """Whether the session drives a Docker engine with this configuration."""
        return self.docker(config) if callable(self.docker) else self.docker


@dataclass(frozen=True)
class Stage:
    """A pipeline stage: the one declaration everything else in noxops reads.

    How it becomes a nox session (Pythons, requires, default, timeout, parallelism), its
    environment (``env``), the files it reads (``inputs``, for ``--changed-only``), the report
    files it writes (``outputs``, read by the report stage, Sonar and CI) and what its CI job
    needs (``ci``).
    """

    name: str
    func: StageFunc
    doc: str
    python: PythonSpec = "tools"
    requires: tuple[str, ...] = ()
    default: bool = True
    enabled: Callable[[Config], bool] = field(default=_always)
    timeout: Callable[[Config], float] = field(default=lambda config: 1800.0)
    section: Optional[str] = None  # the [tool.noxops.<section>] it reads
    # The settings class of that table when the stage declares it (noxops's own sections are
    # also fields of Config; a project's own stage brings its table this way).
    settings: Optional[type] = None
    # False: never runs alongside another session under `nox -j` (it shares ports, images,
    # deployments or the files other stages read).
    allow_parallel: bool = True
    # What its environment is made of, when that is known ahead (None: only the stage knows).
    env: Optional[EnvPlan] = None
    # The files it reads, for --changed-only (None: it cannot be told, so it always runs).
    inputs: Optional[Inputs] = None
    outputs: tuple[Output, ...] = ()
    ci: CI = CI()
    # Not a check of its own in the report (the report itself, the fixer).
    check: bool = True
    # The folders its pytest run collects: every other test stage leaves them out.
    test_paths: Optional[Callable[[Config], list[str]]] = None

    def sessions(self, pythons: Sequence[str]) -> list[str]:
        """Its nox session names: one per matrix Python, else its name."""
        if self.python == "matrix":
            return [f"{self.name}-{py}" for py in pythons]
        return [self.name]

    def output(self, kind: OutputKind) -> Output:
        """Its first output of ``kind`` (a stage states its report files once, here)."""
        for out in self.outputs:
            if out.kind == kind:
                return out
        raise KeyError(f"stage {self.name} declares no {kind} output")

    def section_settings(self, config: Config) -> Any:
        """The settings of its ``[tool.noxops.<section>]`` table (None: it has no section)."""
        return None if self.section is None else config.settings(self.section, self.settings)

    def tools_python(self, config: Config) -> Optional[str]:
        """The Python a ``tools`` stage runs on: its section's ``python_version`` when set
        (``[tool.noxops.type]``: mypy's environment is made for the Python it targets), else
        ``tools_python``; None means the Python running nox."""
        own = getattr(self.section_settings(config), "python_version", None)
        return own if isinstance(own, str) else config.tools_python


class StageRegistry(Mapping[str, Stage]):
    """The stages noxops knows, in pipeline order: read-only, one declaration per name.

    Stages are registered by :func:`stage` (the stage modules, or a project's own module) and
    listed in pipeline order: by CI stage (quality, tests, ... report), then in the order they
    were registered.
    """

    def __init__(self) -> None:
        self._stages: dict[str, Stage] = {}
        self._expanders: list[Callable[[Config], list[Stage]]] = []

    def add_expander(self, expander: Callable[[Config], list[Stage]]) -> None:
        """Stages that exist per configuration (``deploy-<env>``) come from ``expander``."""
        self._expanders.append(expander)

    def for_config(self, config: Config) -> dict[str, Stage]:
        """Every stage :func:`noxops.sessions` considers for ``config``, in pipeline order:
        the declared ones plus those the expanders make from the configuration."""
        found = [*self._stages.values()]
        for expander in self._expanders:
            found += expander(config)
        return {st.name: st for st in ordered(found)}

    def register(self, st: Stage) -> None:
        """Add ``st``; a second stage of the same name is an error, not a silent override, and
        so is a second settings class for a section another stage declares."""
        if st.name in self._stages:
            old = self._stages[st.name].func
            raise ValueError(
                f"stage {st.name!r} is already declared (by {old.__module__}.{old.__qualname__}); "
                "choose another name, or leave the stage out with noxops.sessions(exclude=...)"
            )
        if st.settings is not None:
            if not dataclasses.is_dataclass(st.settings):
                raise TypeError(
                    f"stage {st.name!r}: settings must be a dataclass whose fields are made "
                    "with noxops.schema.option"
                )
            other = self.sections().get(str(st.section))
            if other is not None and other is not st.settings:
                raise ValueError(
                    f"stage {st.name!r} declares {st.settings.__qualname__} for "
                    f"[tool.noxops.{st.section}], which another stage declares as "
                    f"{other.__qualname__}; choose another section"
                )
        self._stages[st.name] = st

    def sections(self) -> dict[str, type]:
        """The ``[tool.noxops.<section>]`` tables the stages declare, with their settings
        classes: what :mod:`noxops.config` validates and documents beyond its own fields."""
        return {
            st.section: st.settings
            for st in self._stages.values()
            if st.section is not None and st.settings is not None
        }

    def unregister(self, name: str) -> None:
        """Remove a stage (tests that declare toy stages clean up with this)."""
        self._stages.pop(name, None)

    def __getitem__(self, name: str) -> Stage:
        return self._stages[name]

    def __iter__(self) -> Iterator[str]:
        return iter([st.name for st in ordered(self._stages.values())])

    def __len__(self) -> int:
        return len(self._stages)


STAGES = StageRegistry()
schema.section_source(STAGES.sections)  # [tool.noxops.<section>] of the declared stages

# The CI stages in the order a pipeline runs them: noxops.ci.settings's one list.
CI_ORDER: tuple[CIStage, ...] = get_args(CIStage)


def ordered(stages: Iterable[Stage]) -> list[Stage]:
    """``stages`` in pipeline order: by the CI stage each declares (one without a CI stage
    comes after what it requires), then in declaration order."""
    chosen = list(stages)
    by_name = {st.name: st for st in chosen}
    rank: dict[str, int] = {}

    def place(st: Stage, trail: tuple[str, ...] = ()) -> int:
        if st.name not in rank:
            if st.ci.stage is not None:
                rank[st.name] = CI_ORDER.index(st.ci.stage)
            else:
                after = [
                    place(by_name[r], (*trail, st.name))
                    for r in st.requires
                    if r in by_name and r not in trail
                ]
                rank[st.name] = max(after, default=0)
        return rank[st.name]

    for st in chosen:
        place(st)
    return sorted(chosen, key=lambda st: rank[st.name])  # stable: declaration order within


def whole_project(config: Config) -> Optional[list[str]]:
    """``inputs`` of a stage that reads the whole project."""
    return None


def stage(
    name: str,
    *,
    python: PythonSpec = "tools",
    requires: Sequence[str] = (),
    default: bool = True,
    section: str | None = None,
    settings: type | None = None,
    enabled: Callable[[Config], bool] | None = None,
    allow_parallel: bool = True,
    env: EnvPlan | None = None,
    inputs: Inputs | None = None,
    outputs: Sequence[Output] = (),
    ci: CI = CI(),
    check: bool = True,
    test_paths: Callable[[Config], list[str]] | None = None,
    registry: StageRegistry | None = None,
) -> Callable[[StageFunc], StageFunc]:
    """Declare a stage: its function ``(session, config)``, whose docstring describes it.

    ``section`` names the ``[tool.noxops.<section>]`` table whose ``enabled`` and ``timeout``
    keys (when it has them) govern it; ``settings`` is the frozen dataclass of that table
    (fields made with :func:`noxops.schema.option`; the section defaults to the stage's name):
    the configuration then validates, documents and reads it (``config.settings(section)``)
    as it does its own sections. ``enabled`` further limits when it exists (for example:
    only when the project has a Dockerfile). ``allow_parallel=False`` keeps ``nox -j`` from
    running it alongside other sessions. ``env`` gives the install calls of its environment
    (the function makes them with :func:`install_plan`), so the environment can be prepared
    while earlier sessions run. ``inputs``, ``outputs`` and ``ci`` tell ``--changed-only``,
    the report and the CI generator what it reads, writes and needs. ``test_paths`` names the
    test folders a test stage runs, which the other test stages leave out
    (:func:`ignore_others`).
    """
    table = name if section is None and settings is not None else section

    def register(func: StageFunc) -> StageFunc:
        def own(config: Config) -> Any:
            return None if table is None else config.settings(table, settings)

        def is_enabled(config: Config) -> bool:
            # An unset (None) ``enabled`` key leaves the choice to the stage's ``enabled``.
            flag = getattr(own(config), "enabled", None)
            return flag is not False and (enabled is None or enabled(config))

        def timeout(config: Config) -> float:
            return float(getattr(own(config), "timeout", 1800.0))

        (STAGES if registry is None else registry).register(
            Stage(
                name=name,
                func=func,
                doc=(func.__doc__ or name).strip().splitlines()[0],
                python=python,
                requires=tuple(requires),
                default=default,
                enabled=is_enabled,
                timeout=timeout,
                section=table,
                settings=settings,
                allow_parallel=allow_parallel,
                env=env,
                inputs=inputs,
                outputs=tuple(outputs),
                ci=ci,
                check=check,
                test_paths=test_paths,
            )
        )
        return func

    return register


def ignore_others(config: Config, name: str, own: Sequence[str]) -> list[str]:
    """``--ignore=<folder>`` for each test folder another stage declares (``test_paths``) that
    exists and lies inside one of ``own``, the paths stage ``name`` hands pytest: with
    ``paths = ["tests"]`` the unit tests must not collect tests/smoke, whose tests need the
    smoke stage's running service, nor tests/integration, whose need its databases."""
    root = config.root.resolve()
    mine = [(root / p).resolve() for p in own]
    found: list[str] = []
    for st in STAGES.values():
        if st.name == name or st.test_paths is None:
            continue
        for path in st.test_paths(config):
            theirs = (root / path).resolve()
            inside = any(theirs != m and theirs.is_relative_to(m) for m in mine)
            shown = f"--ignore={Path(path).as_posix()}"
            if inside and theirs.exists() and shown not in found:
                found.append(shown)
    return found


def output_owners(stages: Mapping[str, Stage], config: Config) -> dict[str, str]:
    """Each report file the ``stages`` declare (a name under the reports folder, or a folder
    ending in ``/``) with the session that writes it: what ``--changed-only`` keeps of a run
    is its own files, never those of a session that ran beside it under ``nox -j``."""
    owners: dict[str, str] = {}
    for st in stages.values():
        pythons: list[str | None] = list(config.pythons) if st.python == "matrix" else [None]
        for py in pythons:
            session = st.name if py is None else f"{st.name}-{py}"
            for out in st.outputs:
                owners.setdefault(out.name(config, py), session)
    return owners


def runner_hooks(
    session: nox.Session,
) -> tuple[Callable[[Sequence[str], Mapping[str, str]], None], Callable[[Sequence[str]], None]]:
    """The ``command`` and ``install`` a nox-free runner (``noxops.image.runner``) is handed:
    commands run through ``session.run`` (logged, stoppable), packages through
    ``session.install``."""

    def command(argv: Sequence[str], env: Mapping[str, str]) -> None:
        session.run(*argv, external=True, env=dict(env))

    def install(requirements: Sequence[str]) -> None:
        session.install(*requirements)

    return command, install


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def run_tool(session: nox.Session, *args: str, **kwargs: Any) -> bool:
    """Run one tool; ``False`` when it failed, so the stage can run its other tools too."""
    from noxops.runtime.noxapi import CommandFailed

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
    drop: Sequence[str] = (),
) -> Install:
    """The arguments installing the project (editable by default), dependency groups and tools.

    A project without a build system is not installed: its requirements files are
    (:mod:`noxops.project.install`). Groups come from ``[dependency-groups]``, else Poetry's groups.
    ``drop`` names distributions left out of the groups (tools a catch-all ``dev`` group
    brings that the session does not need); a tool in ``requirements`` that a group already
    requires is left to the group (the project's pin wins, and it is not asked for twice).

    With a lock file (``uv.lock``, ``poetry.lock``, ``pdm.lock``) everything it pins is a
    constraint of the install: the locked version where the lock names a package, resolved
    where it does not (:mod:`noxops.project.locks`).

    Raises :class:`~noxops.errors.NoxopsError` when a named group is not defined or the lock
    cannot be read.
    """
    project = config.project
    poetry_groups = install.poetry_groups(project)
    missing = [g for g in groups if not project.has_group(g) and g not in poetry_groups]
    if missing:
        raise NoxopsError(
            f"dependency group(s) {', '.join(missing)} named in [tool.noxops] are not defined in "
            f"[dependency-groups] of {config.file}"
        )
    group_reqs = list(project.group_requirements(*[g for g in groups if project.has_group(g)]))
    group_reqs += install.poetry_group_requirements(
        project, [g for g in groups if not project.has_group(g)]
    )
    dropped = {_req_name(d) for d in drop}
    group_reqs = [r for r in group_reqs if _req_name(r) not in dropped]
    in_groups = {_req_name(r) for r in group_reqs}
    tools = [r for r in requirements if _req_name(r) not in in_groups]
    args: list[str] = []
    if install.has_build_system(project):
        target = "." + (f"[{','.join(extras)}]" if extras else "")
        args += ["-e", target] if editable else [target]
    for name in install.runtime_requirement_files(project):
        args += ["-r", name]
    # What the project's lock pins is installed at its version (noxops.project.locks).
    return (*args, *group_reqs, *tools, *locks.constraint_args(config.root))


def _req_name(requirement: str) -> str:
    """The distribution a requirement names, normalized (``pytest>=8`` -> ``pytest``)."""
    match = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return re.sub(r"[-_.]+", "-", match[1]).lower() if match else requirement


def install_plan(session: nox.Session, config: Config, plan: EnvPlan) -> None:
    """Make the install calls of ``plan`` (a stage's ``env``); a bad configuration stops it."""
    try:
        calls = plan(config, None if session.python is None else str(session.python))
    except NoxopsError as exc:
        session.error(str(exc))
    for args in calls:
        session.install(*args)
