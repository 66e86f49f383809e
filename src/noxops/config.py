"""The ``[tool.noxops]`` model: every key, its type, default and meaning, validated on load.

Each section is a frozen dataclass whose fields carry their documentation in ``metadata``
(see :func:`option`), so the configuration reference is generated from this module and
cannot drift from it. Loading converts the TOML table field by field and stops at the first
problem with a :class:`~noxops.errors.ConfigError` naming the file, the key, what was found
and what is allowed.

A stage may declare a section of its own (``stage(..., settings=...)``, as a hatch
environment plugin owns its configuration): its table is validated, documented and read
(:meth:`Config.settings`) the same way, with no field here.
"""

from __future__ import annotations

import builtins
import dataclasses
import functools
import math
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional, TypeVar, Union, overload

from noxops.ci.settings import CIConfig
from noxops.deploy.settings import DeployEnvConfig, environment_names
from noxops.errors import ConfigError, NoxopsError
from noxops.image.settings import ImageConfig
from noxops.load.settings import LoadConfig
from noxops.load.slo import SLOConfig
from noxops.notify.settings import PipelineNotifyConfig
from noxops.project.owned import check_setting
from noxops.project.pyproject import Project, read_toml
from noxops.reports.settings import SEVERITIES, ReportConfig
from noxops.schema import (
    PYTHON_RE,
    Validator,
    declared_sections,
    one_of,
    option,
    percent,
    positive,
    python_list,
    python_version,
    time_limit,
)
from noxops.services.settings import IntegrationConfig

__all__ = [
    "DEFAULT_PYTHONS",
    "Config",
    "LintConfig",
    "PylintConfig",
    "SecurityConfig",
    "TestsConfig",
    "TypeConfig",
    "closest",
    "iter_options",
    "load",
    "option",
]

DEFAULT_PYTHONS = ("3.9", "3.10", "3.11", "3.12")
_T = TypeVar("_T")
# Where a project that declares stages of its own does so: until it has run, a table of a
# section no stage declares yet may be one of them (see load's ``stages_declared``).
_NOXFILE = "noxfile.py"


@dataclass(frozen=True)
class LintConfig:
    """``[tool.noxops.lint]``: the ``lint`` and ``fmt`` sessions."""

    enabled: bool = option(True, doc="Register the lint and fmt sessions.")
    paths: list[str] = option(
        factory=list,
        path=True,
        doc="Files and folders to check; empty means the sources, the tests folder and noxfile.py.",
    )
    formatter: Literal["auto", "ruff", "black", "none"] = option(
        "auto",
        doc=(
            "The formatter lint checks and fmt applies: 'ruff' (ruff format), 'black' or "
            "'none'; 'auto' follows the project ([tool.ruff.format] or a ruff-format "
            "pre-commit hook, else black when the project uses it, else ruff when it uses "
            "ruff only, else none beside a linter of its own (flake8, pylint), else black: "
            "noxops's default, only where the project configures no lint tooling)."
        ),
    )
    import_sorter: Literal["auto", "ruff", "isort", "none"] = option(
        "auto",
        doc=(
            "The import sorter: 'ruff' (ruff's I rules, which the project's ruff "
            "configuration must select), 'isort' or 'none'; 'auto' follows the project "
            "(ruff when its ruff configuration selects I, else isort when it uses isort, "
            "else none with ruff format or beside a linter of its own (flake8-import-order), "
            "else isort: noxops's default, only where the project configures no lint tooling)."
        ),
    )
    linters: list[Literal["ruff", "flake8", "pylint"]] = option(
        factory=list,
        doc=(
            "The linters: 'ruff' (ruff check) and 'flake8' run in lint, 'pylint' in the pylint "
            "session; empty follows the project (ruff when it configures ruff's linter, flake8 "
            "with its plugins when it configures or pins flake8, pylint likewise, else ruff "
            "with ruff's defaults), each at the version it pins."
        ),
    )
    black_args: list[str] = option(factory=list, doc="Extra arguments for black.")
    isort_args: list[str] = option(factory=list, doc="Extra arguments for isort.")
    ruff_args: list[str] = option(factory=list, doc="Extra arguments for `ruff check`.")
    flake8_args: list[str] = option(factory=list, doc="Extra arguments for flake8.")
    timeout: float = option(600.0, check=time_limit, doc="Seconds before the stage is stopped.")


@dataclass(frozen=True)
class PylintConfig:
    """``[tool.noxops.pylint]``: the ``pylint`` session, advisory in the gate by default."""

    enabled: Optional[bool] = option(
        None,
        doc=(
            "Register the pylint session (then a plain `nox` and CI run it); unset means on "
            "when pylint is the project's linter (it configures pylint: [tool.pylint], a "
            ".pylintrc, [pylint.*] in setup.cfg; or pins it or runs its pre-commit hook), "
            "else off: pylint needs the project's dependencies installed."
        ),
    )
    paths: list[str] = option(
        factory=list, path=True, doc="What pylint checks; empty means the sources."
    )
    pylint_args: list[str] = option(factory=list, doc="Extra arguments for pylint.")
    groups: list[str] = option(
        factory=list, doc="Dependency groups installed beside the project, so imports resolve."
    )
    timeout: float = option(900.0, check=time_limit, doc="Seconds before the stage is stopped.")


@dataclass(frozen=True)
class TypeConfig:
    """``[tool.noxops.type]``: the ``type`` session (mypy)."""

    enabled: bool = option(True, doc="Register the type session.")
    paths: list[str] = option(
        factory=list, path=True, doc="What mypy checks; empty means the sources."
    )
    python_version: Optional[str] = option(
        None,
        check=python_version,
        doc=(
            "Python the type session runs on, so mypy targets it with an environment made "
            "for it; unset means tools_python. The project's own mypy python_version "
            "([tool.mypy], mypy.ini, setup.cfg) is what mypy targets either way."
        ),
    )
    mypy_args: list[str] = option(factory=list, doc="Extra arguments for mypy.")
    groups: Optional[list[str]] = option(
        None,
        doc=(
            "Dependency groups installed for mypy (stubs, test libraries); unset means the "
            "test groups plus the project's typing groups (typing, types, mypy, ..., or any "
            "group requiring mypy or stub packages)."
        ),
    )
    timeout: float = option(900.0, check=time_limit, doc="Seconds before the stage is stopped.")


@dataclass(frozen=True)
class SecurityConfig:
    """``[tool.noxops.security]``: the ``security`` session (bandit and a dependency audit)."""

    enabled: bool = option(True, doc="Register the security session.")
    paths: list[str] = option(
        factory=list, path=True, doc="What bandit scans; empty means the sources."
    )
    bandit_args: list[str] = option(factory=list, doc="Extra arguments for bandit.")
    max_bandit_severity: Optional[str] = option(
        None,
        check=one_of(*SEVERITIES),
        doc=(
            "The highest bandit severity tolerated: findings up to it are shown (in the log "
            "and the report) without failing the session or the report's bandit check; 'none' "
            "fails on any finding, 'high' on none. Unset means 'low': medium and high "
            "severity fail, as with `bandit -ll`."
        ),
    )
    audit: bool = option(True, doc="Audit the project's resolved dependencies with pip-audit.")
    allow_unaudited: bool = option(
        False,
        doc=(
            "Let the session pass when the audit could not check every dependency (no "
            "vulnerability data reachable). It is still reported as 'not audited'. "
            "NOXOPS_ALLOW_UNAUDITED=1 does the same for one machine."
        ),
    )
    timeout: float = option(900.0, check=time_limit, doc="Seconds before the stage is stopped.")


@dataclass(frozen=True)
class TestsConfig:
    """``[tool.noxops.tests]``: the ``tests-<python>`` and ``coverage`` sessions."""

    enabled: bool = option(True, doc="Register the tests and coverage sessions.")
    paths: list[str] = option(
        factory=list,
        path=True,
        doc=(
            "Test folders for pytest; empty means pytest's own testpaths, else tests/unit if "
            "it exists, else tests. Arguments after `--` are passed on after them."
        ),
    )
    pytest_args: list[str] = option(factory=list, doc="Extra arguments for pytest.")
    groups: Optional[list[str]] = option(
        None,
        doc=(
            "Dependency groups (PEP 735) installed for the tests; unset means whichever of "
            "'test', 'tests' and 'dev' the project defines."
        ),
    )
    extras: list[str] = option(factory=list, doc="Extras of the project installed for the tests.")
    fail_under: float = option(
        80.0,
        check=percent,
        doc=(
            "Combined coverage (percent) below which `coverage` and the report's coverage "
            "check fail; [tool.noxops.report] coverage_fail_under, when set, replaces it for both."
        ),
    )
    timeout: float = option(1800.0, check=time_limit, doc="Seconds before each run is stopped.")
    services: Optional[bool] = option(
        None,
        doc=(
            "Start the integration services (and run its set-up commands) for each "
            "tests-<python> run too: true, false, or unset for automatic: when services are "
            "found, the project's database tests are its tests (no tests/integration or "
            "integration paths of their own) and a test uses a database or Redis client, or a "
            "variable of theirs (docs/integration.md)."
        ),
    )
    select: Literal["all", "affected"] = option(
        "all",
        doc=(
            "'affected': run only the tests that covered the lines changed since the last full "
            "run (plus new and failed ones; see docs/performance.md); --changed-only does too."
        ),
    )
    shards: int = option(
        1,
        check=positive,
        doc=(
            "Split each Python's tests into this many shards, balanced by the last full run's "
            "test durations (CI runs them side by side); locally `nox -s tests-3.12 -- --shard "
            "2/4` runs one (docs/performance.md#shards)."
        ),
    )


@dataclass(frozen=True)
class Config:
    """``[tool.noxops]``: the project's pipeline."""

    python: list[str] = option(
        factory=list,
        check=python_list,
        doc=(
            "The Python matrix for tests; unset means the project's "
            "'Programming Language :: Python :: 3.N' classifiers, else 3.9 to 3.12."
        ),
    )
    tools_python: Optional[str] = option(
        None,
        check=python_version,
        doc=(
            "Python that runs lint, type and security tools (they need 3.10+); unset means "
            "the Python running nox."
        ),
    )
    src: list[str] = option(
        factory=list,
        path=True,
        doc=(
            "Source folders; empty means src/ if it exists, else the package named like "
            "the project."
        ),
    )
    reports_dir: str = option(
        "reports",
        doc=(
            "Where every stage writes its reports: a folder inside the project (not the "
            "project folder itself, nor one holding files git tracks)."
        ),
    )
    default_sessions: Optional[list[str]] = option(
        None, doc="Sessions a plain `nox` runs; unset means the whole local pipeline."
    )
    changed_only: bool = option(
        False,
        doc=(
            "Skip stages whose inputs equal their last successful run's (as if every session "
            "got --changed-only); NOXOPS_CHANGED_ONLY=0/1 overrides it."
        ),
    )
    prepare_ahead: bool = option(
        True,
        doc=(
            "In a sequential run, build the environments of the queued sessions in the "
            "background while earlier sessions run; NOXOPS_PREPARE_AHEAD=0/1 overrides it."
        ),
    )
    lint: LintConfig = option(factory=LintConfig, doc="The lint and fmt stages.")
    type: TypeConfig = option(factory=TypeConfig, doc="The type stage.")
    pylint: PylintConfig = option(factory=PylintConfig, doc="The pylint stage.")
    security: SecurityConfig = option(factory=SecurityConfig, doc="The security stage.")
    tests: TestsConfig = option(factory=TestsConfig, doc="The tests and coverage stages.")
    integration: IntegrationConfig = option(
        factory=IntegrationConfig, doc="The integration stage and its services."
    )
    image: ImageConfig = option(factory=ImageConfig, doc="The build and smoke stages.")
    report: ReportConfig = option(factory=ReportConfig, doc="The report stage.")
    ci: CIConfig = option(factory=CIConfig, doc="The generated CI pipelines.")
    load: LoadConfig = option(factory=LoadConfig, doc="The load stage (after build).")
    slo: SLOConfig = option(
        factory=SLOConfig, doc="The service level objective: load stage, canary, alert rules."
    )
    notify: PipelineNotifyConfig = option(
        factory=PipelineNotifyConfig, doc="The notify stage (the pipeline's outcome)."
    )
    deploy: dict[str, DeployEnvConfig] = option(
        factory=dict,
        check=environment_names,
        doc="Deployment environments, one table each: [tool.noxops.deploy.<env>].",
    )

    # Filled in by load(); not configuration keys.
    root: Path = field(default=Path(), metadata={"internal": True})
    file: str = field(default="pyproject.toml", metadata={"internal": True})
    project_name: str = field(default="", metadata={"internal": True})
    classifiers: tuple[str, ...] = field(default=(), metadata={"internal": True})
    # pyproject.toml as a whole, read once: metadata, dependency groups, build system and the
    # other tools' tables (noxops.project.pyproject). Left out of repr: the configuration's repr is
    # part of what --changed-only compares, and pyproject.toml is compared as a file already.
    project: Project = field(default_factory=Project, repr=False, metadata={"internal": True})
    # The tables of sections the project's own stages declare (not fields above), as written:
    # read through settings(), which builds them with their stage's settings class. In repr:
    # a changed table reruns the stages under --changed-only.
    tables: dict[str, dict[str, Any]] = field(default_factory=dict, metadata={"internal": True})

    # -- settings by section ---------------------------------------------------------------

    @overload
    def settings(self, section: str) -> Any: ...

    @overload
    def settings(self, section: str, cls: builtins.type[_T]) -> _T: ...

    @overload
    def settings(self, section: str, cls: Optional[builtins.type]) -> Any: ...

    def settings(self, section: str, cls: Optional[builtins.type] = None) -> Any:
        """The settings of ``[tool.noxops.<section>]``: one of noxops's own sections (the
        field of that name, like ``config.lint``), else the table of the stage that declares
        the section, built and validated with ``cls``, by default the settings class that
        stage declares (a stage's own code passes it: typed, and found even when the stage is
        no longer registered)."""
        if section in _own_keys():
            return getattr(self, section)
        cls = cls or declared_sections().get(section)
        if cls is None:
            raise KeyError(f"no declared stage has a [tool.noxops.{section}] section")
        return _build(
            cls, self.tables.get(section, {}), f"tool.noxops.{section}", self.file, self.root
        )

    # -- derived values -------------------------------------------------------------------

    @property
    def pythons(self) -> list[str]:
        """The test matrix, oldest first."""
        if self.python:
            versions = list(self.python)
        else:
            prefix = "Programming Language :: Python :: "
            versions = [c[len(prefix) :] for c in self.classifiers if c.startswith(prefix)]
            versions = [v for v in versions if PYTHON_RE.match(v)] or list(DEFAULT_PYTHONS)
        return sorted(dict.fromkeys(versions), key=_version_key)

    @property
    def lowest_python(self) -> str:
        return self.pythons[0]

    @property
    def sources(self) -> list[str]:
        if self.src:
            return list(self.src)
        if (self.root / "src").is_dir():
            return ["src"]
        guess = self.project_name.replace("-", "_").lower()
        if guess and (self.root / guess).is_dir():
            return [guess]
        if guess and (self.root / f"{guess}.py").is_file():
            return [f"{guess}.py"]
        return ["."]

    @property
    def test_paths(self) -> list[str]:
        """``[tool.noxops.tests] paths``, else pytest's own ``testpaths``, else tests/unit if
        it exists, else tests."""
        if self.tests.paths:
            return list(self.tests.paths)
        testpaths = self.project.pytest.get("testpaths")
        if isinstance(testpaths, str):
            testpaths = tuple(testpaths.split())
        if isinstance(testpaths, tuple) and testpaths:
            return [str(p) for p in testpaths]
        if (self.root / "tests" / "unit").is_dir():
            return ["tests/unit"]
        return ["tests"]

    @property
    def reports(self) -> Path:
        return self.root / self.reports_dir


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


# -- loading ------------------------------------------------------------------------------


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


_NAMES = {
    bool: ("true or false", "booleans"),
    int: ("an integer", "integers"),
    float: ("a number", "numbers"),
    str: ("a string", "strings"),
}


def _type_name(tp: Any, *, plural: bool = False) -> str:  # noqa: PLR0911
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is Union:
        inner = [a for a in args if a is not type(None)]
        return _type_name(inner[0], plural=plural)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin is list:
        return "lists" if plural else f"a list of {_type_name(args[0], plural=True)}"
    if origin is dict:
        return "tables" if plural else f"a table of {_type_name(args[1], plural=True)}"
    if dataclasses.is_dataclass(tp):
        return "tables" if plural else "a table"
    names = _NAMES.get(tp)
    if names is None:  # pragma: no cover - every supported type is named
        return str(tp)
    return names[1] if plural else names[0]


def _convert(  # noqa: PLR0911, PLR0912 - one branch per supported type
    value: Any, tp: Any, key: str, file: str, root: Path, *, is_path: bool
) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)

    def fail(expected: str) -> ConfigError:
        return ConfigError(file, key, f"expected {expected}, found {_describe(value)}")

    if origin is Union:  # Optional[X]
        inner = next(a for a in args if a is not type(None))
        return _convert(value, inner, key, file, root, is_path=is_path)
    if origin is Literal:
        if value not in args:
            raise fail(_type_name(tp))
        return value
    if origin is list:
        if not isinstance(value, list):
            raise fail(_type_name(tp))
        return [
            _convert(v, args[0], f"{key}[{i}]", file, root, is_path=is_path)
            for i, v in enumerate(value)
        ]
    if origin is dict:
        if not isinstance(value, dict):
            raise fail(_type_name(tp))
        return {
            str(k): _convert(v, args[1], f"{key}.{k}", file, root, is_path=is_path)
            for k, v in value.items()
        }
    if dataclasses.is_dataclass(tp):
        short_form = getattr(tp, "from_text", None)  # a section that may be written as text
        if isinstance(value, str) and short_form is not None:
            try:
                value = short_form(value)
            except ValueError as exc:
                raise ConfigError(file, key, str(exc)) from None
        if not isinstance(value, dict):
            raise fail("a table")
        return _build(typing.cast(type, tp), value, key, file, root)
    if tp is bool:
        if not isinstance(value, bool):
            raise fail("true or false")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail("an integer")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise fail("a number")
        if not math.isfinite(value):  # TOML's inf and nan: no setting can use them
            raise fail("a finite number")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise fail("a string")
        if is_path and not (root / value).exists():
            raise ConfigError(
                file,
                key,
                f"{value!r} does not exist (relative to {root}); fix the path or remove it",
            )
        return value
    raise TypeError(f"unsupported configuration type {tp!r} for {key}")  # pragma: no cover


def _fields(cls: type) -> list[tuple[dataclasses.Field[Any], Any]]:
    hints = typing.get_type_hints(cls)
    return [(f, hints[f.name]) for f in dataclasses.fields(cls) if not f.metadata.get("internal")]


@functools.cache
def _own_keys() -> dict[str, Any]:
    """The keys of ``[tool.noxops]`` that are fields of :class:`Config`, with their types."""
    return {f.name: tp for f, tp in _fields(Config)}


def _unknown(name: str, known: Iterable[str], prefix: str, file: str) -> ConfigError:
    """The error for a key ``name`` that is none of ``known``, with a did-you-mean hint."""
    known = sorted(known)
    hint = closest(name, known)
    allowed = f"did you mean {hint!r}? " if hint else ""
    return ConfigError(
        file,
        f"{prefix}.{name}" if prefix else name,
        f"unknown key; {allowed}known keys: {', '.join(known)}",
    )


def _build(cls: type[_T], table: Mapping[str, Any], prefix: str, file: str, root: Path) -> _T:
    known = {f.name: (f, tp) for f, tp in _fields(cls)}
    for name in table:
        if name not in known:
            raise _unknown(name, known, prefix, file)
    values: dict[str, Any] = {}
    for name, (f, tp) in known.items():
        if name not in table:
            continue
        key = f"{prefix}.{name}" if prefix else name
        converted = _convert(
            table[name], tp, key, file, root, is_path=f.metadata.get("path", False)
        )
        check: Validator | None = f.metadata.get("check")
        if check is not None and converted is not None:
            problem = check(converted)
            if problem:
                raise ConfigError(file, key, f"{problem} (found {_describe(table[name])})")
        values[name] = converted
    return cls(**values)


def closest(name: str, candidates: list[str]) -> str | None:
    """The candidate ``name`` was probably meant to be, for a did-you-mean hint."""
    import difflib  # only for a mistake: 12 ms of a job's start where the stdlib is not compiled

    matches = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return matches[0] if matches else None


def load(
    root: Path | str = ".",
    overrides: Mapping[str, Any] | None = None,
    *,
    stages_declared: bool = False,
) -> Config:
    """Read and validate ``[tool.noxops]`` from ``root/pyproject.toml``.

    ``overrides`` is merged over the table (section by section), as a noxfile may do.
    A missing pyproject or table means all defaults. The rest of the file is kept, read
    once, as ``config.project`` (:class:`~noxops.project.pyproject.Project`).

    The sections the declared stages own are validated like noxops's own. A table of a section
    no stage declares is refused, unless the project has a noxfile and ``stages_declared`` is
    false: its modules, not run in this process (``noxops ci`` before it loads the noxfile,
    ``noxops report``, ``doctor``), may declare that stage; :func:`noxops.sessions`, which
    runs once they have, loads with ``stages_declared=True`` and refuses it there.
    """
    root = Path(root).resolve()
    pyproject = root / "pyproject.toml"
    file = str(pyproject)
    data = read_toml(pyproject) if pyproject.is_file() else {}
    table = data.get("tool", {}).get("noxops", {})
    if not isinstance(table, dict):
        raise ConfigError(file, "tool.noxops", f"expected a table, found {_describe(table)}")
    if overrides:
        table = _merge(table, overrides)
    table, tables = _split(table, file, root, may_wait=not stages_declared)
    config = _build(Config, table, "tool.noxops", file, root)
    _check_places(config, root, file)
    project = Project.from_data(pyproject, data) if pyproject.is_file() else Project(path=pyproject)
    config = dataclasses.replace(
        config,
        root=root,
        file=file,
        project_name=project.name or root.name,
        classifiers=project.classifiers,
        project=project,
        tables=tables,
    )
    declared = declared_sections()
    for section in tables:
        if section in declared:
            config.settings(section)  # validated now, like noxops's own sections
    return config


def _split(
    table: Mapping[str, Any], file: str, root: Path, *, may_wait: bool
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """``[tool.noxops]`` as the keys of :class:`Config` and the tables of the sections stages
    declare. A key that is neither is an error; a table of that kind may wait for a stage
    the project's noxfile declares (``may_wait``, see :func:`load`)."""
    own = _own_keys()
    declared = declared_sections()
    for section, cls in declared.items():
        if section in own and own[section] is not cls:
            raise NoxopsError(
                f"a stage declares {cls.__qualname__} for [tool.noxops.{section}], which is "
                "noxops's own section; choose another section name"
            )
    waiting = may_wait and (root / _NOXFILE).is_file()
    config: dict[str, Any] = {}
    tables: dict[str, dict[str, Any]] = {}
    for key, value in table.items():
        if key in own:
            config[key] = value
        elif key in declared or (waiting and isinstance(value, dict)):
            if not isinstance(value, dict):
                raise ConfigError(
                    file, f"tool.noxops.{key}", f"expected a table, found {_describe(value)}"
                )
            tables[key] = dict(value)
        else:
            raise _unknown(key, [*own, *declared], "tool.noxops", file)
    return config, tables


def _check_places(config: Config, root: Path, file: str) -> None:
    """The settings that say where noxops deletes and overwrites files name places of its
    own inside the project (:mod:`noxops.project.owned`), so even `nox -l` refuses them."""
    key = "tool.noxops"
    check_setting(root, f"{key}.reports_dir", config.reports_dir, file=file, example="reports")
    reports = root / config.reports_dir
    if config.image.wheelhouse:
        wheelhouse = config.image.wheelhouse
        check_setting(
            root, f"{key}.image.wheelhouse", wheelhouse, file=file, example="build/wheelhouse"
        )
    manifest = config.image.manifest
    check_setting(
        root, f"{key}.image.manifest", manifest, file=file, example="build-manifest.json",
        inside=reports,
    )  # fmt: skip


def _merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class OptionDoc:
    """One configuration key, as the reference documents it."""

    key: str
    type: str
    default: str
    doc: str
    section: str  # the TOML table it goes in
    section_doc: str


def _default_of(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None  # pragma: no cover - every key has a default


def _toml(value: Any) -> str:  # noqa: PLR0911 - one return per TOML type
    if value is None:
        return "(unset)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def iter_options(cls: type = Config, prefix: str = "tool.noxops") -> list[OptionDoc]:
    """Every configuration key below ``cls``, section by section, for the generated reference.

    A ``dict[str, Section]`` field (like ``deploy``) is documented as ``prefix.<name>``. Below
    :class:`Config` come, after its own sections, those the declared stages bring.
    """
    section_doc = (cls.__doc__ or "").strip().splitlines()[0]
    docs: list[OptionDoc] = []
    nested: list[tuple[str, type]] = []
    for f, tp in _fields(cls):
        if dataclasses.is_dataclass(tp):
            nested.append((f"{prefix}.{f.name}", typing.cast(type, tp)))
            continue
        args = typing.get_args(tp)
        if typing.get_origin(tp) is dict and dataclasses.is_dataclass(args[1]):
            nested.append((f"{prefix}.{f.name}.<name>", typing.cast(type, args[1])))
            continue
        docs.append(
            OptionDoc(
                key=f.name,
                type=_type_name(tp),
                default=_toml(_default_of(f)),
                doc=f.metadata["doc"],
                section=prefix,
                section_doc=section_doc,
            )
        )
    if cls is Config:
        own = _own_keys()
        nested += [(f"{prefix}.{k}", v) for k, v in declared_sections().items() if k not in own]
    for sub_prefix, sub in nested:
        docs.extend(iter_options(sub, sub_prefix))
    return docs
