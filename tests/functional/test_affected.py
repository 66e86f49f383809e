"""Real nox runs: with ``--changed-only`` a tests run after an edit runs the affected tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("nox")

from support.noxrun import NoxRun, copy_fixture, run_nox, set_noxops

from noxops.project import interpreters
from noxops.reports.junit import read_junit

pytestmark = pytest.mark.skipif(
    interpreters.find("3.11") is None, reason="needs Python 3.11 on this machine"
)

ONLY = ("--", "--changed-only")


def _tests_in(project: Path) -> int:
    return read_junit(project / "reports" / "junit-3.11.xml", project).tests


def _selection(project: Path) -> dict[str, object]:
    data = json.loads((project / "reports" / "selection" / "tests-3.11.json").read_text())
    assert isinstance(data, dict)
    return data


def _run(project: Path, *args: str) -> NoxRun:
    return run_nox(project, "-s", "tests-3.11", *args)


def test_an_edit_runs_the_tests_that_covered_it_and_the_report_says_so(tmp_path: Path) -> None:
    project = copy_fixture("clean_project", tmp_path)
    pyproject = set_noxops(project, 'python = ["3.11"]', 'tools_python = "3.11"')
    # As strict as real projects often are: a warning in the run fails it.
    pytest_table = '[tool.pytest.ini_options]\nfilterwarnings = ["error"]\n'
    pyproject.write_text(pyproject.read_text() + "\n" + pytest_table)
    full = _run(project, *ONLY)
    assert full.returncode == 0, str(full)
    assert "runs all tests (no map of which test covers which line yet)" in full.output
    assert _tests_in(project) == 3 and _selection(project)["mode"] == "full"

    # The message of mean([]): only the test that reached that line runs, and fails.
    source = project / "src" / "calc" / "__init__.py"
    original = source.read_text()
    source.write_text(original.replace("mean of nothing", "mean of no values"))
    edited = _run(project, *ONLY)
    assert edited.returncode != 0, str(edited)
    assert "runs 1 of 3 tests, those affected by the change" in edited.output, str(edited)
    assert "test_mean_of_nothing" in edited.output and _tests_in(project) == 1
    # The changed line ran in a test, not while tests were collected: only that test's file
    # and function are collected.
    assert "noxops: collecting only the test files, classes and functions" in edited.output
    assert "collected 1 item\n" in edited.output, str(edited)
    assert "combined with this affected rerun's" in edited.output
    # Merged at the end of the pytest run, in its process: no second interpreter for it.
    assert "noxops_coverage.py merge" not in edited.output, str(edited)
    picked = _selection(project)
    assert picked["mode"] == "affected" and picked["selected"] == 1 and picked["known"] == 3

    # Fixed again: the changed line's test and the one that failed last time run, and pass.
    source.write_text(original)
    fixed = _run(project, *ONLY)
    assert fixed.returncode == 0, str(fixed)
    assert "runs 1 of 3 tests" in fixed.output and _tests_in(project) == 1

    # coverage requires tests-3.11: replayed, its selection included.
    gate = run_nox(project, "-s", "coverage", "report", *ONLY)
    assert "noxops: tests-3.11 is up to date" in gate.output, str(gate)
    assert (
        "the coverage gate is computed from the combined data of the last full run and the "
        "affected rerun of tests-3.11 (1 of 3 tests)" in gate.output
    ), str(gate)
    summary = json.loads((project / "reports" / "summary.json").read_text())
    checks = {c["name"]: c for c in summary["checks"]}
    tests = checks["tests-3.11"]
    assert tests["status"] == "passed" and tests["selected"], tests
    assert (
        "affected tests only: 1 of 3" in tests["summary"] and "not a full run" in tests["summary"]
    )
    coverage = checks["coverage"]
    assert coverage["metrics"]["percent"] == 100.0, coverage  # the full run's lines kept
    assert "full run + affected reruns" in coverage["summary"]

    # An edit no test ran (a comment where a blank line was): no test runs, nothing is
    # measured, and the full run's coverage stands, merged in the pytest process.
    source.write_text(
        original.replace('"""A tiny calculator."""\n\n', '"""A tiny calculator."""\n# .\n')
    )
    untouched = _run(project, *ONLY)
    assert untouched.returncode == 0, str(untouched)
    assert "runs 0 of 3 tests" in untouched.output and "collected 0 items" in untouched.output
    assert "No data was collected" not in untouched.output, str(untouched)
    assert "noxops_coverage.py merge" not in untouched.output, str(untouched)
    report = (project / "reports" / "coverage-3.11.xml").read_text(encoding="utf-8")
    assert ' line-rate="1" ' in report.split("<sources>")[0], report
    source.write_text(original)

    # Another configuration: a full run, and the report no longer says "affected".
    pyproject.write_text(
        pyproject.read_text().replace(pytest_table, pytest_table + 'addopts = "-q"\n')
    )
    again = _run(project, *ONLY)
    assert again.returncode == 0, str(again)
    assert "runs all tests" in again.output and _tests_in(project) == 3
    assert _selection(project)["mode"] == "full"

    # --no-cache runs every test afresh (and maps them again), even after an edit a map could
    # narrow down.
    source.write_text(original.replace("mean of nothing", "mean of no values"))
    forced = _run(project, *ONLY, "--no-cache")
    assert forced.returncode != 0, str(forced)  # test_mean_of_nothing fails, as it should
    assert "runs all tests (--no-cache or NOXOPS_FORCE asks for every test)" in forced.output
    assert _tests_in(project) == 3 and _selection(project)["mode"] == "full"


def test_the_map_serves_only_the_folder_it_was_made_in(tmp_path: Path) -> None:
    """The map and its coverage data name files by their absolute paths: a job in another
    folder (a GitLab runner slot) runs every test rather than merge another folder's data
    with its own."""
    import shutil

    made = copy_fixture("clean_project", tmp_path / "slot0")
    set_noxops(made, 'python = ["3.11"]', 'tools_python = "3.11"')
    assert _run(made, *ONLY).returncode == 0
    job = tmp_path / "slot1" / "clean_project"
    shutil.copytree(made, job, ignore=shutil.ignore_patterns(".nox"))
    shutil.rmtree(tmp_path / "slot0")
    test_file = next((job / "tests").rglob("test_*.py"))
    test_file.write_text(test_file.read_text() + "\n\ndef test_added():\n    assert True\n")
    moved = _run(job, *ONLY)
    assert moved.returncode == 0, str(moved)
    assert f"runs all tests (its map was made in another folder, {made})" in moved.output, str(
        moved
    )
    assert _tests_in(job) == 4
