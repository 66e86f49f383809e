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
from typing import Any, Optional

import pytest

from noxops.config import Config, load
from noxops.reports.collect import build_report
from noxops.reports.gate import fail_under
from noxops.stages import STAGES
from noxops.stages.tests import coverage

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


def _project(tmp_path: Path, tests: float, report: float | None) -> Config:
    """A project with the coverage data of one tests run at 75%."""
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (tmp_path / "src" / "calc").mkdir(parents=True)
    (tmp_path / "src" / "calc" / "__init__.py").write_text(CALC, encoding="utf-8")
    (tmp_path / "run.py").write_text("import calc\n\ncalc.half(1)\n", encoding="utf-8")
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
    assert ["coverage", "report", f"--fail-under={threshold:g}"] in session.commands
    checks = {c.name: c for c in build_report(config, STAGES.for_config(config)).checks}
    check = checks["coverage"]
    assert check.summary == f"75.0% (min {threshold:g}%)"
    assert check.metrics["fail_under"] == threshold
    assert session_passed is passes
    assert (check.status == "passed") is passes
