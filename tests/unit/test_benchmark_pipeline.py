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


def _tools(project: Path, codes: dict[str, int]) -> None:
    """Stand-in programs in the project's environments: ``session/tool`` exits with its code."""
    for where, code in codes.items():
        session, tool = where.split("/")
        program = project / ".nox" / session / "bin" / tool
        program.parent.mkdir(parents=True, exist_ok=True)
        program.write_text(f"#!/bin/sh\nexit {code}\n", encoding="utf-8")
        program.chmod(0o755)


def test_a_tool_noxops_ran_that_the_floor_lacks_is_told(tmp_path: Path) -> None:
    """more-itertools lints with its setup.cfg's flake8 besides black: a floor of black alone
    did less work, and a program of the environments in noxops's log shows it."""
    project = tmp_path / "project"
    _tools(project, {"lint/black": 0, "lint/flake8": 0})
    r = project / "reports"
    log = tmp_path / "warm.log"
    log.write_text(
        "nox > Running session lint\n"
        "nox > lint: flake8 (newest: not pinned), config setup.cfg [flake8]\n"
        "nox > black --check --diff pkg tests noxfile.py\n"
        f"nox > flake8 --format=default --output-file={r}/flake8.txt --tee pkg tests noxfile.py\n"
        f"nox > mypy --junit-xml={r}/mypy-junit.xml pkg\n"
        f"nox > bandit -r -q -f json -o {r}/bandit.json pkg\n",
        encoding="utf-8",
    )
    paths = {"sources": ["pkg"], "tests": "tests"}
    black_only = pipeline.floor_sessions(project, [], lint=["black"], **paths)
    assert pipeline.same_work(log, black_only) == [
        f"noxops only: flake8 --format=default --output-file={r}/flake8.txt --tee pkg tests "
        "noxfile.py"
    ]
    both = pipeline.floor_sessions(project, [], lint=["black", "flake8"], **paths)
    assert pipeline.same_work(log, both) == []


def test_the_floor_goes_on_after_findings_and_stops_on_an_error(tmp_path: Path) -> None:
    """A real project's checks find things (exit 1): the floor notes them and runs on, as
    noxops runs every tool; any other failure stops it and the round does not count."""
    project, logs = tmp_path / "project", tmp_path / "logs"
    logs.mkdir()
    _tools(project, {"lint/black": 1, "lint/flake8": 0, "type/mypy": 1, "security/bandit": 0})
    sessions = pipeline.floor_sessions(project, [], lint=["black", "flake8"])
    run = pipeline._floor(project, logs, sessions, 1)
    assert run.ok
    assert pipeline.floor_findings(run.log) == ["lint", "type"]
    _tools(project, {"security/bandit": 2})  # a usage error, not a finding
    assert not pipeline._floor(project, logs, sessions, 2).ok


def test_nox_alone_runs_a_nox_process_per_session(tmp_path: Path) -> None:
    """As noxops's sessions do under ``-j 2``: nox runs sessions that do not allow running
    side by side one after another in its own process, and nox alone then paid no process per
    session (its row matched the floor's CPU)."""
    pytest.importorskip("nox")
    parent = [sys.executable, "-c", "import os; print('nox process', os.getppid())"]
    noxfile = tmp_path / "noxfile_nox_alone.py"
    noxfile.write_text(pipeline.nox_alone_noxfile({"one": [parent], "two": [parent]}), "utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "nox", "--no-color", "-j", "2", "-f", str(noxfile)],
        capture_output=True, text=True, check=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    parents = {
        line.split()[-1] for line in run.stdout.splitlines() if line.startswith("nox process")
    }
    assert len(parents) == 2, run.stdout + run.stderr
