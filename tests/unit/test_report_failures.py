"""What the report shows of a run that did not pass, or did not run everything (issue #24,
item 14), from the real outputs of pytest and mypy and real session records."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from noxops.config import Config, load
from noxops.incremental import affected
from noxops.reports.collect import build_report
from noxops.reports.junit import read_junit
from noxops.reports.model import Check, Report
from noxops.reports.records import read_records, recording
from noxops.reports.terminal import render
from noxops.stages import STAGES

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "report_samples"
PYPROJECT = """\
[project]
name = "calc"

[tool.pytest.ini_options]

[tool.mypy]
pretty = true
show_error_end = true
show_column_numbers = true

[tool.noxops]
python = ["3.11"]

[tool.noxops.report]
session_logs = true
"""
TESTS = {
    "tests/unit/test_calc.py": (
        "class TestAdd:\n"
        "    def test_right(self):\n"
        "        assert 1 + 1 == 2\n\n"
        "    def test_wrong(self):\n"
        "        assert 1 + 2 == 4\n"
    ),
    "tests/smoke/conftest.py": (
        "import pytest\n\n\n@pytest.fixture\ndef fetch(base_url):\n    return base_url\n"
    ),
    "tests/smoke/test_front.py": "def test_front_page(fetch):\n    assert fetch\n",
}


class _Session:
    """What :func:`recording` needs of a nox session: its name."""

    def __init__(self, name: str) -> None:
        self.name = name


@pytest.fixture(autouse=True)
def _ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")  # a Python this machine lacks is not "skipped"


def _project(tmp_path: Path) -> Config:
    root = tmp_path / "calc"
    for name, text in {"pyproject.toml": PYPROJECT, **TESTS}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return load(root)


def _env() -> dict[str, str]:
    return {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COVERAGE_", "MYPY"))
    }


def _pytest(config: Config, *args: str) -> subprocess.CompletedProcess[str]:
    """Real pytest in the project, its JUnit report where the tests stage writes it."""
    junit = config.reports / "junit-3.11.xml"
    argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={junit}"]
    return subprocess.run(
        [*argv, *args], cwd=config.root, env=_env(), capture_output=True, text=True, check=False
    )


def _report(config: Config) -> Report:
    return build_report(config, STAGES.for_config(config))


def _check(report: Report, name: str) -> Check:
    return next(c for c in report.checks if c.name == name)


def _failed_session(config: Config, name: str, *argv: str) -> None:
    """A session that runs ``argv`` (a real process that fails) and fails as nox fails it."""
    with pytest.raises(RuntimeError), recording(_Session(name), config):
        code = subprocess.run(argv, cwd=config.root, env=_env(), check=False).returncode
        os.write(2, f"nox > Command {' '.join(argv)} failed with exit code {code}\n".encode())
        raise RuntimeError(f"Returned code {code}")


def test_failing_tests_are_shown_by_their_pytest_ids_and_their_errors(tmp_path: Path) -> None:
    """A failing test reads as pytest names it (not JUnit's tests.unit.test_calc::...), and an
    error in a fixture by its error, not by 'failed on setup with "file ..., line 1'."""
    config = _project(tmp_path)
    _failed_session(config, "tests-3.11", sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                    f"--junitxml={config.reports / 'junit-3.11.xml'}", "tests")  # fmt: skip
    failed = {c.name: c for c in read_junit(config.reports / "junit-3.11.xml", config.root).failed}
    assert sorted(failed) == [
        "tests/smoke/test_front.py::test_front_page",
        "tests/unit/test_calc.py::TestAdd::test_wrong",
    ]
    assert failed["tests/smoke/test_front.py::test_front_page"].message == (
        "fixture 'base_url' not found"
    )
    assert failed["tests/unit/test_calc.py::TestAdd::test_wrong"].message.startswith(
        "assert (1 + 2) == 4"
    )
    shown = render(_report(config))
    assert (
        "  ERROR tests/smoke/test_front.py::test_front_page (tests/smoke/conftest.py:4): "
        "fixture 'base_url' not found\n" in shown
    ), shown
    assert "  FAILED tests/unit/test_calc.py::TestAdd::test_wrong (tests/unit/test_calc.py:6)" in (
        shown
    )
    # The record keeps what ended the run, from the real log (pytest's rules left out).
    errors = read_records(config)[0]["tests-3.11"].errors
    assert errors[-2:] == [
        "FAILED tests/unit/test_calc.py::TestAdd::test_wrong - assert (1 + 2) == 4",
        "ERROR tests/smoke/test_front.py::test_front_page",
    ], errors
    assert "E fixture 'base_url' not found" in errors, errors


def test_mypy_errors_are_findings_with_pretty_and_error_end(tmp_path: Path) -> None:
    """mypy with `pretty` and `show_error_end` (as projects set them): the error with its
    code, its whole message and its place, not a type check with only a log to read."""
    config = _project(tmp_path)
    source = config.root / "src" / "calc" / "__init__.py"
    source.parent.mkdir(parents=True)
    source.write_text('"""Calc."""\n\ntotal: int = "nothing yet, to be filled in later"\n')
    env = {**_env(), "MYPY_FORCE_TERMINAL_WIDTH": "80"}
    argv = [sys.executable, "-m", "mypy", f"--cache-dir={tmp_path / 'cache'}",
            f"--junit-xml={config.reports / 'mypy-junit.xml'}", "src"]  # fmt: skip
    run = subprocess.run(
        argv, cwd=config.root, env=env, capture_output=True, text=True, check=False
    )
    assert run.returncode == 1 and "total: int" in run.stdout, run.stdout  # the source shown
    check = _check(_report(config), "type")
    assert check.status == "failed" and check.summary == "1 mypy error(s)", check
    [finding] = check.findings
    assert (finding.path, finding.line, finding.column, finding.rule) == (
        "src/calc/__init__.py", 3, 14, "assignment"
    )  # fmt: skip
    assert finding.message == (
        'Incompatible types in assignment (expression has type "str", variable has type "int")'
    )
    assert "  src/calc/__init__.py:3: assignment Incompatible types in assignment" in render(
        _report(config)
    )


def test_a_failed_session_with_nothing_to_show_shows_what_ended_it(tmp_path: Path) -> None:
    """Every test passed but the session failed after them; mypy stopped before writing its
    report: each check shows the lines of its log that say why, not only "Returned code 1"
    or a log path."""
    config = _project(tmp_path)
    (config.root / "tests" / "smoke").rename(config.root / "smoke")  # no failing test
    _failed_session(config, "tests-3.11", sys.executable, "-c", "import calc_reports")
    passed = _pytest(config, "-k", "right", "tests")
    assert passed.returncode == 0, passed.stdout
    _failed_session(config, "type", sys.executable, "-m", "mypy", "--no-such-option", "src")
    report = _report(config)
    tests = _check(report, "tests-3.11")
    assert tests.status == "failed", tests
    assert tests.summary == "1 passed; session failed: Returned code 1", tests
    assert tests.details[-1] == "ModuleNotFoundError: No module named 'calc_reports'", tests
    typecheck = _check(report, "type")
    assert typecheck.status == "failed", typecheck
    assert any("unrecognized arguments: --no-such-option" in d for d in typecheck.details)
    shown = render(report)
    assert "  ModuleNotFoundError: No module named 'calc_reports'\n" in shown, shown
    assert "mypy: error: unrecognized arguments: --no-such-option\n" in shown, shown


@pytest.mark.parametrize(
    ("posargs", "why"),
    [
        (["-k", "slow"], "-k slow"),
        (["-m", "not db", "-v"], "-m 'not db'"),
        (["-kslow"], "-kslow"),
        (["--lf"], "--lf"),
        (["--deselect=tests/unit/test_a.py::test_b"], "--deselect=tests/unit/test_a.py::test_b"),
        (["-x", "-v", "--tb=short"], None),  # stops at a failure: failed, then
        (["tests/unit/test_a.py::test_b"], None),  # comes after the stage's own paths
    ],
)
def test_which_arguments_run_part_of_the_suite(posargs: list[str], why: str | None) -> None:
    selection = affected.partial_selection(posargs)
    assert (selection.why if selection else None) == why


def test_a_partial_run_is_never_the_pythons_result(tmp_path: Path) -> None:
    """`nox -s tests-3.11 -- -k right` passed: the report says it ran part of the suite, the
    gate does not take it for the suite's result, and the coverage check says its figure
    includes it."""
    config = _project(tmp_path)
    with recording(_Session("tests-3.11"), config):
        assert _pytest(config, "-k", "right", "tests").returncode == 0
    partial = affected.partial_selection(["-k", "right"])
    assert partial is not None
    affected.write_selection(config, "tests-3.11", partial)
    with recording(_Session("coverage"), config):
        (config.reports / "coverage.xml").write_bytes(
            (SAMPLES / "clean" / "coverage.xml").read_bytes()
        )
    report = _report(config)
    tests = _check(report, "tests-3.11")
    assert tests.status == "not-run" and tests.blocks, tests
    assert tests.summary == "1 passed; partial run (-k right): not the full suite", tests
    assert report.verdict.endswith(", tests-3.11 (partial run)"), report.verdict
    coverage = _check(report, "coverage")
    assert coverage.summary.endswith(" (includes a partial run)"), coverage
    assert coverage.details == [
        "the coverage gate includes the partial run of tests-3.11 (-k right): not the full "
        "suite's figure"
    ]
    assert "tests-3.11 (NOT RUN):\n  partial run (-k right): not the full suite\n" in render(report)
