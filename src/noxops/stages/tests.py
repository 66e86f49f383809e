"""The ``tests-<python>`` stages (pytest under coverage) and ``coverage`` (combine and gate)."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from noxops.config import TestsConfig
from noxops.errors import NoxopsError
from noxops.incremental import affected, fingerprint, shards
from noxops.project import install
from noxops.project.coveragerc import coverage_files
from noxops.reports import coveragedata
from noxops.reports.gate import coverage_precision, fail_under, percent_text
from noxops.runtime import inject
from noxops.stages import provision
from noxops.stages.base import (
    CI,
    STAGES,
    Install,
    Output,
    ignore_others,
    install_plan,
    project_install,
    report_path,
    stage,
    whole_project,
)

if TYPE_CHECKING:
    import nox

    from noxops.config import Config

__all__ = [
    "COVERAGE_XML",
    "JUNIT",
    "coverage",
    "coverage_core",
    "coverage_env",
    "default_groups",
    "note_partial",
    "test_install",
    "tests",
    "tests_env",
    "unit_paths",
]

_GROUP_CANDIDATES = ("test", "tests", "testing")
# What a catch-all ``dev`` group brings that a test run never needs (left out of test
# environments when noxops picked ``dev`` itself).
NOT_FOR_TESTS = (
    "black", "build", "flake8", "isort", "mypy", "nox", "pre-commit", "pylint", "ruff",
    "sphinx", "tox", "twine", "uv",
)  # fmt: skip

JUNIT = Output("junit-{python}.xml", kind="junit", check="tests-{python}")
# The per-Python XML report (for reading, and for CI annotations): written by noxops's pytest
# plugin at the end of the run, in the pytest process; by the same code run as a script
# (noxops/_inject/noxops_coverage.py) when that could not be done. The HTML report, which
# costs seconds on a real suite, is made once, by the coverage stage, from the combined data.
# The gate is enforced once, there, too.
COVERAGE_PART = Output("coverage-{python}.xml", kind="coverage-part")
COVERAGE_XML = Output("coverage.xml", kind="coverage", check="coverage")
COVERAGE_DATA = Output("coverage/.coverage.{python}", kind="coverage-data")
COMBINED_DATA = Output(".coverage", kind="coverage-data")
COVERAGE_HTML = Output("htmlcov/", kind="file")


def default_groups(config: Config) -> list[str]:
    """The configured test groups, else the project's test group (test, tests or testing,
    in ``[dependency-groups]`` or Poetry's groups), else its ``dev`` group."""
    if config.tests.groups is not None:
        return list(config.tests.groups)
    poetry = install.poetry_groups(config.project)
    for group in (*_GROUP_CANDIDATES, "dev"):
        if config.project.has_group(group) or group in poetry:
            return [group]
    return []


def test_install(
    config: Config, *requirements: str, groups: list[str] | None, extras: list[str]
) -> Install:
    """The install call of a test environment: the project, the test group (without the
    linters a catch-all ``dev`` group brings, unless configured), else the project's test
    requirements file, and ``requirements``."""
    chosen = default_groups(config) if groups is None else groups
    picked = groups is None and config.tests.groups is None
    drop = NOT_FOR_TESTS if picked and chosen == ["dev"] else ()
    args = project_install(config, *requirements, groups=chosen, extras=extras, drop=drop)
    if not chosen:
        for name in install.test_requirement_files(config.project):
            args = (*args, "-r", name)
    return args


def _coverage_source_args(config: Config) -> list[str]:
    """``--source`` for coverage, unless the project's coverage settings say what to measure."""
    if _coverage_run_keys(config) & {"source", "source_pkgs"}:
        return []
    return [f"--source={','.join(config.sources)}"]


def tests_env(config: Config, python: str | None) -> list[Install]:
    """The project with its test groups and extras, pytest and coverage."""
    extras = config.tests.extras
    return [test_install(config, "pytest", "coverage[toml]", groups=None, extras=extras)]


def coverage_env(config: Config, python: str | None) -> list[Install]:
    return [("coverage[toml]",)]


def _coverage_run_keys(config: Config) -> set[str]:
    """The keys of the project's coverage ``[run]`` settings, in any file coverage reads them
    from ("unreadable" for a file that cannot be read)."""
    keys: set[str] = set()
    for settings in coverage_files(config):
        keys |= set(settings.sections.get("run", {}))
        if not settings.readable:
            keys.add("unreadable")
    return keys


def coverage_core(config: Config, python: str, environ: Mapping[str, str]) -> dict[str, str]:
    """``COVERAGE_CORE=sysmon`` where it measures the same for less: Python 3.12 and 3.13.

    (From 3.14 coverage picks it itself.) sys.monitoring cannot measure branches before 3.14,
    so it is not chosen when the project's coverage settings set ``branch`` or a ``core``
    (or cannot be read), nor when ``COVERAGE_CORE`` or ``COVERAGE_RCFILE`` is set.
    """
    major, minor = (int(p) for p in python.split(".")[:2])
    if (major, minor) not in {(3, 12), (3, 13)}:
        return {}
    if environ.get("COVERAGE_CORE") or environ.get("COVERAGE_RCFILE"):
        return {}
    if _coverage_run_keys(config) & {"branch", "core", "timid", "unreadable"}:
        return {}
    return {"COVERAGE_CORE": "sysmon"}


def unit_paths(config: Config) -> list[str]:
    """The test folders of ``tests-<python>`` (``[tool.noxops.tests] paths``, else pytest's)."""
    return config.test_paths


def _erase_data(data: Path) -> None:
    """Remove a run's coverage data before the run: ``data`` and the parallel files of its
    prefix (``data.<host>.<pid>.<random>``, left by an earlier run under ``[run] parallel``),
    which would otherwise be combined with this run's. Only noxops's own data files bear
    that prefix: the session's own name in noxops's reports or environment folder."""
    data.unlink(missing_ok=True)
    for stale in data.parent.glob(f"{glob.escape(data.name)}.*"):
        stale.unlink(missing_ok=True)


def _pytest_paths(config: Config) -> list[str]:
    """The test folders, after ``--ignore`` for the other test stages' folders in them."""
    return [*ignore_others(config, "tests", config.test_paths), *config.test_paths]


def _has_data(data: Path) -> bool:
    """Whether the run saved coverage data: ``data``, or parallel files still to combine."""
    return data.exists() or any(data.parent.glob(f"{glob.escape(data.name)}.*"))


@stage(
    "tests",
    python="matrix",
    section="tests",
    settings=TestsConfig,
    env=tests_env,
    inputs=whole_project,
    outputs=[JUNIT, COVERAGE_PART, COVERAGE_DATA],
    ci=CI(stage="tests"),
    test_paths=unit_paths,
)
def tests(session: nox.Session, config: Config) -> None:
    """Run the unit tests under coverage on each Python of the matrix (one shard of them with
    ``-- --shard K/N``: noxops.incremental.shards)."""
    py = str(session.python)
    shard = _shard(session, config)
    if shard is not None:  # before installing: a run that fails there leaves the shard missing
        reports = (JUNIT.path(config, py), COVERAGE_DATA.path(config, py))
        shards.begin(config, session.name, shard, (*reports, COVERAGE_PART.path(config, py)))
    install_plan(session, config, tests_env)
    if shard is not None:
        _run_shard(session, config, shard)
        return
    data = COVERAGE_DATA.path(config, py)
    junit = JUNIT.path(config, py)
    shards.forget(config, session.name, (junit, data))  # this run is the Python's result now
    _erase_data(data)
    env = {"COVERAGE_FILE": str(data), **coverage_core(config, py, os.environ)}
    venv = Path(str(session.virtualenv.location))
    xml = COVERAGE_PART.path(config, py)
    env.update(_plugin_env(venv))
    picking = _picking(session, config, venv)
    run_data = data
    if picking is not None:
        selection, picking_env = picking
        env.update(picking_env)
        if not selection.affected:
            # The map run: per-test contexts need a tracer core (sys.monitoring drops them).
            env["COVERAGE_CORE"] = "ctrace"
        else:
            run_data = venv / "noxops-affected.coverage"
            _erase_data(run_data)
            env["COVERAGE_FILE"] = str(run_data)
            merging = _merging(selection, venv, run_data, (data, xml), config, session.name)
            env.update(merging)
    else:
        note_partial(session, config, session.posargs, coverage=True)
    whole = picking is None or not picking[0].affected
    if whole:  # (an affected run's merge writes it)
        xml.unlink(missing_ok=True)  # the plugin writes it at the end of the run
        env[affected.REPORT_ENV] = str(xml)
    started = time.time()
    try:
        _pytest(
            session, config, junit=junit, suite=f"tests-{py}", env=env,
            codes=(0,) if whole else (0, 5),
        )  # fmt: skip
    finally:
        env["COVERAGE_FILE"] = str(data)
        reported = picking is not None and _after_picking(
            session, config, picking[0], venv=venv, run_data=run_data, reports=(data, xml)
        )
        if _has_data(data) and not reported and not xml.exists():  # the plugin could not
            # (or left it to this script: [run] parallel, combined once `coverage run` ended)
            session.run("python", str(_coverage_module(venv)), "xml", str(xml), env=env)
        if not xml.exists():
            session.log(f"noxops: no {xml.name}: coverage saved no data for this run")
        coveragedata.mark_origin(data, config.root)
        if whole:
            _keep_durations(session, config, junit, started)


def _pytest(
    session: nox.Session,
    config: Config,
    *,
    junit: Path,
    suite: str,
    env: dict[str, str],
    plugins: tuple[str, ...] = (),
    codes: tuple[int, ...] = (0,),
) -> None:
    """pytest under coverage, with noxops's plugin (and ``plugins``), writing ``junit``."""
    with provision.provided(session, config, _services(session, config)) as services:
        session.run(
            "coverage", "run", *_coverage_source_args(config), "-m", "pytest",
            f"--junitxml={junit}", "-o", f"junit_suite_name={suite}", "-p", affected.PLUGIN,
            *plugins, *config.tests.pytest_args, *_pytest_paths(config), *session.posargs,
            env={**services.env, **env}, success_codes=list(codes),
        )  # fmt: skip


def _shard(session: nox.Session, config: Config) -> Optional[shards.Shard]:
    """The shard ``-- --shard K/N`` asks for (taken out of the arguments pytest gets); a bad
    value stops the session with one line."""
    try:
        return shards.take(session.posargs, session.name, config.tests.shards)
    except NoxopsError as exc:
        session.error(str(exc))
        raise  # pragma: no cover - session.error raises


def _run_shard(session: nox.Session, config: Config, shard: shards.Shard) -> None:
    """One shard of the suite: its own JUnit and coverage data, which the report and the
    ``coverage`` session take with the other shards'. No per-Python XML (a shard's figure is
    not the Python's) and no affected selection: every shard splits the whole suite."""
    py = str(session.python)
    junit, data = JUNIT.path(config, py), COVERAGE_DATA.path(config, py)
    junit = junit.with_name(shards.file_name(junit.name, shard.index))
    data = data.with_name(shards.file_name(data.name, shard.index))
    _erase_data(data)
    venv = Path(str(session.virtualenv.location))
    env = {"COVERAGE_FILE": str(data), **coverage_core(config, py, os.environ)}
    env.update(_plugin_env(venv))
    note_partial(session, config, session.posargs, coverage=True)
    partial = affected.partial_selection(session.posargs)
    plan_env, out = shards.plan(config, session.name, shard, venv)
    started, passed = time.time(), False
    try:  # exit code 5: more shards than tests, none left for this one
        _pytest(
            session, config, junit=junit, suite=f"tests-{py}-shard{shard.index}",
            env={**env, **plan_env}, plugins=("-p", shards.PLUGIN), codes=(0, 5),
        )  # fmt: skip
        passed = True
    finally:
        coveragedata.mark_origin(data, config.root)
        record = shards.finish(
            config, session.name, shard, started=started, out=out, passed=passed,
            partial=partial.why if partial is not None else None,
        )  # fmt: skip
        _log_shard(session, shard, record)


@contextlib.contextmanager
def _measured_here(
    session: nox.Session, config: Config, data_dir: Path, runs: list[str]
) -> Iterator[Path]:
    """The folder of coverage data to combine: ``data_dir``, or when a run was measured in
    another folder (a CI job's tests ran elsewhere: :mod:`noxops.reports.coveragedata`), a
    temporary folder of copies of the runs, those with this project folder's paths."""
    root = str(config.root)
    elsewhere = {}
    for name in runs:
        measured = coveragedata.origin(data_dir / name)
        if measured is not None and measured != root:
            elsewhere[name] = measured
    if not elsewhere:
        yield data_dir
        return
    with tempfile.TemporaryDirectory(prefix="noxops-coverage-") as folder:
        here = Path(folder)
        for name in runs:
            if name not in elsewhere:
                shutil.copyfile(data_dir / name, here / name)
                continue
            try:
                moved = coveragedata.relocate(data_dir / name, here / name, elsewhere[name], root)
            except NoxopsError as exc:
                session.error(str(exc))
            session.log(
                f"noxops: the coverage data of {name.removeprefix('.coverage.')} was measured in "
                f"{elsewhere[name]} (another checkout): its {moved} file(s) there are read as "
                f"this folder's ({root})"
            )
        yield here


def _log_shard(session: nox.Session, shard: shards.Shard, record: Optional[dict[str, Any]]) -> None:
    """Say what the shard ran of the suite, and how the split balanced."""
    if record is None:
        session.log(f"noxops: {session.name}: shard {shard} did not get to split the suite")
        return
    loads = ", ".join(f"{load:.2f}" for load in record.get("loads", []))
    unit = " s" if record.get("basis") == "recorded durations" else " bytes"
    session.log(
        f"noxops: {session.name} ran shard {shard}: {record.get('selected')} of "
        f"{record.get('total')} tests, split by {record.get('basis')} (shards: {loads}{unit})"
    )


def _keep_durations(session: nox.Session, config: Config, junit: Path, started: float) -> None:
    """After a run of the whole suite: its tests' durations split the next shards."""
    if affected.partial_selection(session.posargs) is not None:
        return  # part of the suite: its durations would leave the rest unweighed
    if not junit.exists() or junit.stat().st_mtime < started - 1.0:
        return  # pytest did not write it this time
    shards.keep_durations(config, session.name, [junit], f"the full run of {session.name}")


def note_partial(
    session: nox.Session, config: Config, posargs: list[str], *, coverage: bool
) -> None:
    """Record a run whose arguments leave part of the suite out (``-- -k slow``), so that the
    report never shows it as the suite's result; forget an earlier run's record otherwise."""
    partial = affected.partial_selection(posargs, coverage=coverage)
    if partial is None:
        affected.selection_path(config, session.name).unlink(missing_ok=True)
        return
    affected.write_selection(config, session.name, partial)
    session.log(f"noxops: {session.name}: {partial.describe()}")


def _services(session: nox.Session, config: Config) -> list[str]:
    """The services this tests run gets (:func:`noxops.stages.provision.tests_services`),
    logged with why when the project has any."""
    names, why = provision.tests_services(config)
    if names or provision.services_for(config)[0]:
        session.log(f"services: {', '.join(names) or 'none'} for {session.name} ({why})")
    return names


def _coverage_module(venv: Path) -> Path:
    return venv / _PLUGIN_DIR / f"{affected.COVERAGE_MODULE}.py"


_PLUGIN_DIR = "noxops-pytest"  # in the session's environment, on PYTHONPATH for pytest


def _plugin_env(venv: Path) -> dict[str, str]:
    """Where pytest finds noxops's plugin (``-p``) and the coverage module it calls, written
    into the session's environment."""
    folder = venv / _PLUGIN_DIR
    folder.mkdir(exist_ok=True)
    affected.write_plugin(folder)
    inject.copy(f"{shards.PLUGIN}.py", folder)
    pythonpath = os.pathsep.join(p for p in (str(folder), os.environ.get("PYTHONPATH")) if p)
    return {"PYTHONPATH": pythonpath}


def _picking(
    session: nox.Session, config: Config, venv: Path
) -> Optional[tuple[affected.Selection, dict[str, str]]]:
    """With ``--changed-only`` or ``select = "affected"`` (and no test arguments): what to run
    and the environment of the plugin that maps and selects tests (noxops.incremental.affected)."""
    from noxops.incremental import changed

    wanted = changed.was_requested(session) or config.tests.select == "affected"
    if not wanted or session.posargs:
        return None
    try:
        inputs = changed.stage_inputs(session, STAGES["tests"], config)
    except (LookupError, OSError) as exc:
        session.log(f"noxops: running every test: cannot tell what changed ({exc})")
        return None
    base = fingerprint.digest({k: v for k, v in inputs.parts.items() if k != "files"})
    selection = affected.choose(config, session.name, base, forced=changed.was_forced(session))
    session.log(f"noxops: {session.name} runs {selection.describe()}")
    results = venv / "noxops-test-results.json"
    results.unlink(missing_ok=True)
    selection.key = base
    env = {affected.RESULTS_ENV: str(results)}
    if selection.affected:
        chosen = venv / "noxops-test-selection.json"
        plan = {"known": selection.known, "run": selection.run, "narrow": selection.narrow,
                "whole": selection.whole}  # fmt: skip
        chosen.write_text(json.dumps(plan), encoding="utf-8")
        env[affected.SELECT_ENV] = str(chosen)
        if selection.narrow:
            session.log(
                "noxops: collecting only the test files, classes and functions that hold "
                "them (no changed line ran while the full run collected its tests)"
            )
    else:
        env[affected.CONTEXTS_ENV] = "1"
    return selection, env


def _merge_args(
    config: Config, session: str, venv: Path, run_data: Path, reports: tuple[Path, Path]
) -> list[str]:
    """merge()'s arguments: the full run's data, this run's, the line maps, the merged data
    and the per-Python XML to write."""
    data, xml = reports
    full = affected.map_dir(config, session) / "full.coverage"
    maps = venv / "noxops-line-maps.json"
    return [str(full), str(run_data), str(maps), str(data), str(xml)]


def _merging(  # noqa: PLR0917 - one call site, each argument named by its type
    selection: affected.Selection,
    venv: Path,
    run_data: Path,
    reports: tuple[Path, Path],
    config: Config,
    session: str,
) -> dict[str, str]:
    """An affected run: what the plugin needs to merge its coverage with the full run's at
    the end of the run, in the pytest process (the environment variable it reads)."""
    (venv / "noxops-line-maps.json").write_text(json.dumps(selection.line_maps), "utf-8")
    reports[0].unlink(missing_ok=True)  # the merged data replaces the last run's
    args = _merge_args(config, session, venv, run_data, reports)
    return {affected.MERGE_ENV: json.dumps(args)}


def _after_picking(
    session: nox.Session,
    config: Config,
    selection: affected.Selection,
    *,
    venv: Path,
    run_data: Path,
    reports: tuple[Path, Path],
) -> bool:
    """Keep a full run's map, or merge an affected run's coverage with the full run's (and
    write the per-Python reports from it: True then)."""
    data = reports[0]
    try:
        results = json.loads((venv / "noxops-test-results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False  # pytest did not get to the end: nothing to learn from this run
    if not selection.affected:
        if _has_data(data):
            mapping, plain = venv / "noxops-test-map.json", venv / "noxops-full.coverage"
            module = str(_coverage_module(venv))
            session.run("python", module, "map", str(data), str(mapping), str(plain), silent=True)
            affected.keep_full_run(
                config, session.name, base=selection.key, before=selection.before,
                mapping=mapping, data=plain, results=results,
            )  # fmt: skip
        affected.write_selection(config, session.name, selection)
        return False
    if not results.get("merged"):  # the plugin could not merge at the end of the run
        # No test ran (nothing affected): run_data is missing, read as empty data.
        session.run(
            "python", str(_coverage_module(venv)), "merge",
            *_merge_args(config, session.name, venv, run_data, reports),
            env={"COVERAGE_FILE": str(data)},
        )  # fmt: skip
    affected.note_failures(config, session.name, results)
    affected.write_selection(config, session.name, selection)
    session.log(
        f"noxops: coverage of {session.name} is the last full run's ({selection.base}) "
        "combined with this affected rerun's"
    )
    return True


@stage(
    "coverage",
    requires=("tests",),
    section="tests",
    settings=TestsConfig,
    env=coverage_env,
    outputs=[COVERAGE_XML, COMBINED_DATA, COVERAGE_HTML],
    ci=CI(stage="tests"),
)
def coverage(session: nox.Session, config: Config) -> None:
    """Combine the coverage of every tests run and enforce fail_under.

    The threshold and the digits the total is rounded to are the report's
    (:mod:`noxops.reports.gate`), so this session and the report's coverage check never judge
    the same figure differently."""
    install_plan(session, config, coverage_env)
    data_dir = COVERAGE_DATA.path(config, "").parent
    runs = sorted(p.name for p in data_dir.glob(".coverage.*"))
    if not runs:
        session.error(f"no coverage data in {data_dir}: run `nox -s tests` first")
    sets = shards.shard_sets(config)
    for found in sets:  # part of a Python's suite is never its figure
        if not found.complete:
            session.error(f"{found.session}: {found.why()}")
    combined = COMBINED_DATA.path(config)
    env = {"COVERAGE_FILE": str(combined)}
    session.log(
        f"combining {len(runs)} run(s): {', '.join(r.removeprefix('.coverage.') for r in runs)}"
    )
    with _measured_here(session, config, data_dir, runs) as here:
        session.run("coverage", "combine", "--keep", "-q", str(here), env=env)
    for found in sets:  # a complete set: its tests' durations split the next shards
        junit = JUNIT.name(config, found.session.removeprefix("tests-"))
        junits = [config.reports / shards.file_name(junit, k) for k in sorted(found.records)]
        shards.keep_durations(
            config, found.session, junits, f"shards 1-{found.count} of {found.count}"
        )
    session.run("coverage", "xml", "-q", "-o", str(COVERAGE_XML.path(config)), env=env)
    session.run(
        "coverage",
        "html",
        "-q",
        "-d",
        str(report_path(config, COVERAGE_HTML.name(config))),
        env=env,
    )
    note = affected.gate_note(config)
    if note:
        session.log(f"noxops: the coverage gate is {note}")
    partial = affected.partial_note(config)
    if partial:
        session.log(f"noxops: the coverage gate {partial}")
    threshold, digits = percent_text(fail_under(config)), coverage_precision(config)
    session.run("coverage", "report", f"--fail-under={threshold}", f"--precision={digits}", env=env)
