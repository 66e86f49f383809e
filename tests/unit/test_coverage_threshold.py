"""One coverage threshold: ``nox -s coverage`` and the report's coverage check judge alike.

The coverage session runs here with real ``coverage`` processes on real data (75% of a small
package), and the report reads the XML it wrote; only nox's session object is stood in for.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple, Optional

import pytest

from noxops.config import Config, load
from noxops.reports.collect import build_report
from noxops.reports.gate import fail_under
from noxops.stages import STAGES
from noxops.stages.tests import COMBINED_DATA, coverage

PYPROJECT = """\
[project]
name = "calc"
[tool.noxops]
python = ["3.11"]
"""
# Four statements; calling half(1) runs three of them: 75%.
CALC = "def half(x):\n    if x:\n        return 1\n    return 2\n"


class Failed(Exception):
    """What nox raises when a command exits non-zero."""


class Session:
    """The few things the coverage stage asks of nox's session; commands really run."""

    python: Optional[str] = None

    def __init__(self, root: Path) -> None:
        self.root = root
        self.commands: list[list[str]] = []

    def install(self, *args: str) -> None:
        pass  # coverage is already in the interpreter running the tests

    def log(self, message: str) -> None:
        pass

    def error(self, message: str) -> None:
        raise AssertionError(message)

    def run(self, *args: str, env: Mapping[str, str] | None = None) -> None:
        self.commands.append(list(args))
        argv = [sys.executable, "-m", *args] if args[0] == "coverage" else list(args)
        done = subprocess.run(argv, cwd=self.root, env={**os.environ, **(env or {})}, check=False)
        if done.returncode:
            raise Failed(f"{' '.join(args)} exited {done.returncode}")


def _project(
    tmp_path: Path,
    tests: float,
    report: float | None,
    source: str = CALC,
    settings: Mapping[str, str] | None = None,
) -> Config:
    """A project with the coverage data of one tests run of ``source`` (CALC: 75%), and the
    coverage ``settings`` given by file (pyproject.toml's added to its own)."""
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    for name, text in (settings or {}).items():
        with (tmp_path / name).open("a", encoding="utf-8") as file:
            file.write(text)
    (tmp_path / "src" / "calc").mkdir(parents=True)
    (tmp_path / "src" / "calc" / "__init__.py").write_text(source, encoding="utf-8")
    call = "calc.half(1)\n" if source == CALC else ""
    (tmp_path / "run.py").write_text(f"import calc\n\n{call}", encoding="utf-8")
    overrides: dict[str, Any] = {"tests": {"fail_under": tests}}
    if report is not None:
        overrides["report"] = {"coverage_fail_under": report}
    config = load(tmp_path, overrides)
    data = config.reports / "coverage" / ".coverage.3.11"
    data.parent.mkdir(parents=True)
    subprocess.run(
        [sys.executable, "-m", "coverage", "run", "--source=src", "run.py"],
        cwd=tmp_path,
        env={**os.environ, "COVERAGE_FILE": str(data), "PYTHONPATH": "src"},
        check=True,
    )
    return config


@pytest.mark.parametrize(
    ("tests", "report", "threshold", "passes"),
    [
        (80, 70, 70, True),  # the report's setting loosens the session's too
        (70, 80, 80, False),  # and tightens it
        (80, None, 80, False),
        (70, None, 70, True),
    ],
)
def test_the_coverage_session_and_the_report_use_one_threshold(
    tmp_path: Path, tests: float, report: float | None, threshold: float, passes: bool
) -> None:
    config = _project(tmp_path, tests, report)
    assert fail_under(config) == threshold
    session = Session(tmp_path)
    try:
        coverage(session, config)
        session_passed = True
    except Failed:
        session_passed = False
    assert ["coverage", "report", f"--fail-under={threshold:g}", "--precision=0"] in (
        session.commands
    )
    checks = {c.name: c for c in build_report(config, STAGES.for_config(config)).checks}
    check = checks["coverage"]
    assert check.summary == f"75% (min {threshold:g}%)"
    assert check.metrics["fail_under"] == threshold
    assert session_passed is passes
    assert (check.status == "passed") is passes


def _module(executed: int, missed: int) -> str:
    """A module of ``executed`` statements run on import and ``missed`` never run."""
    lines = [f"a{i} = {i}" for i in range(executed - 1)] + ["def never():"]
    return "\n".join(lines + [f"    b{i} = {i}" for i in range(missed)]) + "\n"


NEAR = _module(43, 11)  # 79.63%
ALMOST_ALL = _module(29_999, 1)  # 99.997%
PRECISION_2 = "[tool.coverage.report]\nprecision = 2\n"
PRECISION_3 = "[report]\nprecision = 3\n"
BRANCH = "[tool.coverage.run]\nbranch = true\n"


class Near(NamedTuple):
    """A total near its threshold, and how both judges must decide it."""

    source: str
    settings: dict[str, str]
    threshold: float
    figure: str  # the total as judged, as the report shows it
    passes: bool


@pytest.mark.parametrize(
    "case",
    [
        Near(NEAR, {}, 80, "80", True),  # coverage rounds to its precision, 0 digits by default
        Near(NEAR, {"pyproject.toml": PRECISION_2}, 80, "79.63", False),
        # coverage reads .coveragerc before pyproject.toml
        Near(
            NEAR, {"pyproject.toml": PRECISION_2, ".coveragerc": PRECISION_3}, 80, "79.630", False
        ),
        Near(NEAR, {"setup.cfg": "[coverage:report]\nprecision = 2\n"}, 80, "79.63", False),
        Near(NEAR, {}, 79.65, "79.63", False),  # a threshold's own digits count
        Near(ALMOST_ALL, {"pyproject.toml": PRECISION_2}, 100, "99.99", False),  # 100 is 100
        Near(ALMOST_ALL, {}, 100, "99", False),
        # statements and branches: (3 + 1) / (4 + 2), not the 75% of the lines alone
        Near(CALC, {"pyproject.toml": BRANCH}, 67, "67", True),
        Near(CALC, {"pyproject.toml": BRANCH + PRECISION_2}, 67, "66.67", False),
    ],
)
def test_the_session_and_the_report_judge_alike_near_the_line(tmp_path: Path, case: Near) -> None:
    source, settings, threshold, figure, passes = case
    config = _project(tmp_path, threshold, None, source, settings)
    session = Session(tmp_path)
    try:
        coverage(session, config)
        session_passed = True
    except Failed:
        session_passed = False
    check = {c.name: c for c in build_report(config, STAGES.for_config(config)).checks}["coverage"]
    assert (session_passed, check.status == "passed") == (passes, passes)
    assert check.summary == f"{figure}% (min {threshold:g}%)"
    if float(threshold).is_integer():  # the figure is coverage's own total, as it shows it
        shown = subprocess.run(
            [sys.executable, "-m", "coverage", "report", "--format=total"],
            cwd=tmp_path,
            env={**os.environ, "COVERAGE_FILE": str(COMBINED_DATA.path(config))},
            capture_output=True,
            text=True,
            check=True,
        )
        assert shown.stdout.strip() == figure
