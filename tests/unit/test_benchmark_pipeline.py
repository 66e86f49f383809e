"""benchmarks/pipeline.py compares noxops with the floor only on the same work: the floor's
commands are checked against the commands noxops logged, and nox alone runs them as nox
sessions (issue #28 item 4)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support.benchmarks import load_benchmark

pipeline = load_benchmark("pipeline")


def _log(tmp_path: Path, project: Path, mypy: str) -> Path:
    """A warm noxops log of the fixture's commands, as nox prints them."""
    r = project / "reports"
    lines = [
        "nox > Running session lint",
        "nox > black --check --diff src tests noxfile.py",
        "nox > isort --check-only --diff src tests noxfile.py",
        "nox > ruff check --no-fix --output-format=concise src tests noxfile.py",
        "All checks passed!",
        f"nox > ruff check --no-fix --exit-zero --output-format=json --output-file={r}/ruff.json"
        " src tests noxfile.py",
        "nox > Running session type",
        f"nox > mypy {mypy}--junit-xml={r}/mypy-junit.xml src",
        f"nox > bandit -r -q -f json -o {r}/bandit.json src",
        "nox > bandit: no findings in src",
        f"nox > coverage run --source=src -m pytest --junitxml={r}/junit-3.12.xml -o "
        "junit_suite_name=tests-3.12 -p noxops_pytest_plugin tests/unit",
    ]
    log = tmp_path / "warm.log"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return log


def test_the_floor_is_the_commands_noxops_ran(tmp_path: Path) -> None:
    project = tmp_path / "project"
    sessions = pipeline.floor_sessions(project, ["3.12"])
    assert pipeline.same_work(_log(tmp_path, project, ""), sessions) == []
    assert any("COVERAGE_CORE=sysmon" in cmd for cmd in sessions["tests-3.12"][0])


def test_a_floor_doing_other_work_is_told(tmp_path: Path) -> None:
    """The floor once checked types for 3.10 where noxops checked them for mypy's own Python."""
    project = tmp_path / "project"
    sessions = pipeline.floor_sessions(project, ["3.12"])
    differences = pipeline.same_work(_log(tmp_path, project, "--python-version=3.10 "), sessions)
    assert [d.split(":")[0] for d in differences] == ["floor only", "noxops only"]
    assert "--python-version=3.10" in differences[1]


def test_nox_alone_has_the_floors_sessions(tmp_path: Path) -> None:
    pytest.importorskip("nox")
    sessions = pipeline.floor_sessions(tmp_path, ["3.11", "3.12"])
    noxfile = tmp_path / "noxfile_nox_alone.py"
    noxfile.write_text(pipeline.nox_alone_noxfile(sessions), encoding="utf-8")
    listed = subprocess.run(
        [sys.executable, "-m", "nox", "--no-color", "-l", "-f", str(noxfile)],
        capture_output=True, text=True, check=True, timeout=300, cwd=tmp_path,
    ).stdout  # fmt: skip
    names = [line.split()[1] for line in listed.splitlines() if line.startswith("* ")]
    assert names == list(sessions) == ["lint", "type", "security", "tests-3.11", "tests-3.12"]
