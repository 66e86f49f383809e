"""The ``tests-<python>`` stages (pytest under coverage) and ``coverage`` (combine and gate)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from noxops.stages.base import install_project, report_path, stage

if TYPE_CHECKING:
    import nox

    from noxops.config import Config

__all__ = ["coverage", "default_groups", "tests"]

_GROUP_CANDIDATES = ("test", "tests", "dev")


def default_groups(config: Config) -> list[str]:
    """The configured test groups, else whichever of test, tests and dev the project has."""
    if config.tests.groups is not None:
        return list(config.tests.groups)
    pyproject = config.root / "pyproject.toml"
    if not pyproject.is_file():
        return []
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    with pyproject.open("rb") as fh:
        defined = tomllib.load(fh).get("dependency-groups", {})
    return [g for g in _GROUP_CANDIDATES if g in defined]


def _coverage_source_args(config: Config) -> list[str]:
    """``--source`` for coverage, unless the project configures what to measure itself."""
    pyproject = config.root / "pyproject.toml"
    if pyproject.is_file():
        text = pyproject.read_text(encoding="utf-8")
        if "[tool.coverage.run]" in text and ("source" in text or "source_pkgs" in text):
            return []
    return [f"--source={','.join(config.sources)}"]


@stage("tests", python="matrix", section="tests")
def tests(session: nox.Session, config: Config) -> None:
    """Run the unit tests under coverage on each Python of the matrix."""
    py = str(session.python)
    install_project(
        session, config, "pytest", "coverage[toml]",
        groups=default_groups(config), extras=config.tests.extras,
    )  # fmt: skip
    data = report_path(config, "coverage", f".coverage.{py}")
    junit = report_path(config, f"junit-{py}.xml")
    env = {"COVERAGE_FILE": str(data)}
    try:
        session.run(
            "coverage", "run", *_coverage_source_args(config), "-m", "pytest",
            f"--junitxml={junit}", "-o", f"junit_suite_name=tests-{py}",
            *config.tests.pytest_args, *(session.posargs or config.test_paths), env=env,
        )  # fmt: skip
    finally:
        if data.exists():
            session.run(
                "coverage",
                "xml",
                "-q",
                "-o",
                str(report_path(config, f"coverage-{py}.xml")),
                env=env,
            )
            session.run(
                "coverage",
                "html",
                "-q",
                "-d",
                str(report_path(config, f"htmlcov-{py}", "index.html").parent),
                env=env,
            )


@stage("coverage", requires=("tests",), section="tests")
def coverage(session: nox.Session, config: Config) -> None:
    """Combine the coverage of every tests run and enforce fail_under."""
    session.install("coverage[toml]")
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
    session.run("coverage", "xml", "-q", "-o", str(report_path(config, "coverage.xml")), env=env)
    session.run(
        "coverage",
        "html",
        "-q",
        "-d",
        str(report_path(config, "htmlcov", "index.html").parent),
        env=env,
    )
    session.run("coverage", "report", f"--fail-under={config.tests.fail_under:g}", env=env)
