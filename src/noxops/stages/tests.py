"""The ``tests-<python>`` stages (pytest under coverage) and ``coverage`` (combine and gate)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from noxops import install
from noxops.stages.base import (
    CI,
    Install,
    Output,
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
    "REPORTS_SCRIPT",
    "coverage",
    "coverage_core",
    "coverage_env",
    "default_groups",
    "test_install",
    "tests",
    "tests_env",
]

_GROUP_CANDIDATES = ("test", "tests", "testing")
# What a catch-all ``dev`` group brings that a test run never needs (left out of test
# environments when noxops picked ``dev`` itself).
NOT_FOR_TESTS = (
    "black", "build", "flake8", "isort", "mypy", "nox", "pre-commit", "pylint", "ruff",
    "sphinx", "tox", "twine", "uv",
)  # fmt: skip

JUNIT = Output("junit-{python}.xml", kind="junit", check="tests-{python}")
COVERAGE_PART = Output("coverage-{python}.xml", kind="coverage-part")
COVERAGE_XML = Output("coverage.xml", kind="coverage", check="coverage")


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


# The per-Python XML report (for reading, and for CI annotations); the HTML report, which
# costs seconds on a real suite, is made once, by the coverage stage, from the combined data.
# The gate is enforced once, there, too.
REPORTS_SCRIPT = "noxops-coverage-reports.py"  # written into the session's environment
_REPORTS = """
import sys
import coverage
from coverage.exceptions import CoverageException
try:
    cov = coverage.Coverage()
    cov.load()
    cov.xml_report(outfile=sys.argv[1])
except CoverageException as exc:
    sys.exit(f"coverage: {exc}")
"""


def _coverage_run_keys(config: Config) -> set[str]:
    """The keys of the project's coverage ``[run]`` settings, wherever coverage reads them."""
    import configparser

    root = config.root
    keys: set[str] = set(config.project.tool_table("coverage", "run"))
    ini_files = {
        ".coveragerc": ("run", "coverage:run"),
        "setup.cfg": ("coverage:run",),
        "tox.ini": ("coverage:run",),
    }
    for name, sections in ini_files.items():
        path = root / name
        if not path.is_file():
            continue
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            keys.add("unreadable")
            continue
        for section in sections:
            if parser.has_section(section):
                keys |= set(parser.options(section))
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


@stage(
    "tests",
    python="matrix",
    section="tests",
    env=tests_env,
    inputs=whole_project,
    outputs=[JUNIT, COVERAGE_PART],
    ci=CI(stage="tests"),
)
def tests(session: nox.Session, config: Config) -> None:
    """Run the unit tests under coverage on each Python of the matrix."""
    py = str(session.python)
    install_plan(session, config, tests_env)
    data = report_path(config, "coverage", f".coverage.{py}")
    junit = JUNIT.path(config, py)
    env = {"COVERAGE_FILE": str(data), **coverage_core(config, py, os.environ)}
    try:
        session.run(
            "coverage", "run", *_coverage_source_args(config), "-m", "pytest",
            f"--junitxml={junit}", "-o", f"junit_suite_name=tests-{py}",
            *config.tests.pytest_args, *config.test_paths, *session.posargs, env=env,
        )  # fmt: skip
    finally:
        if data.exists():
            xml = COVERAGE_PART.path(config, py)
            script = Path(str(session.virtualenv.location)) / REPORTS_SCRIPT
            script.write_text(_REPORTS, encoding="utf-8")
            session.run("python", str(script), str(xml), env=env)


@stage(
    "coverage",
    requires=("tests",),
    section="tests",
    env=coverage_env,
    outputs=[COVERAGE_XML],
    ci=CI(stage="tests"),
)
def coverage(session: nox.Session, config: Config) -> None:
    """Combine the coverage of every tests run and enforce fail_under."""
    install_plan(session, config, coverage_env)
    data_dir = report_path(config, "coverage", ".keep").parent
    runs = sorted(p.name for p in data_dir.glob(".coverage.*"))
    if not runs:
        session.error(f"no coverage data in {data_dir}: run `nox -s tests` first")
    combined = report_path(config, ".coverage")
    env = {"COVERAGE_FILE": str(combined)}
    session.log(
        f"combining {len(runs)} run(s): {', '.join(r.removeprefix('.coverage.') for r in runs)}"
    )
    session.run("coverage", "combine", "--keep", "-q", str(data_dir), env=env)
    session.run("coverage", "xml", "-q", "-o", str(COVERAGE_XML.path(config)), env=env)
    session.run(
        "coverage",
        "html",
        "-q",
        "-d",
        str(report_path(config, "htmlcov", "index.html").parent),
        env=env,
    )
    session.run("coverage", "report", f"--fail-under={config.tests.fail_under:g}", env=env)
