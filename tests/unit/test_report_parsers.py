"""The report parsers over real tool output, and every way a report file can be bad."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from noxops.reports.cobertura import read_coverage
from noxops.reports.junit import mypy_findings, read_junit
from noxops.reports.model import ReadProblem
from noxops.reports.records import read_nox_report
from noxops.reports.scanners import read_bandit, read_ruff

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "report_samples"
FAILING = SAMPLES / "failing"
CLEAN = SAMPLES / "clean"
FAILING_ROOT = Path("/tmp/rx")  # where the failing samples were produced
CLEAN_ROOT = Path("/tmp/rc")


def test_ruff_json_findings_are_project_relative() -> None:
    findings = read_ruff(FAILING / "ruff.json", FAILING_ROOT)
    assert [(f.rule, f.path, f.line, f.column) for f in findings] == [
        ("F401", "src/calc/bad.py", 5, 8)
    ]
    assert findings[0].message == "`os` imported but unused"
    assert findings[0].url.startswith("https://docs.astral.sh/ruff/rules/")
    assert read_ruff(CLEAN / "ruff.json", CLEAN_ROOT) == []


def test_mypy_junit_errors_become_findings() -> None:
    suite, findings = mypy_findings(FAILING / "mypy-junit.xml", FAILING_ROOT)
    assert suite.failures == 1
    assert [(f.rule, f.path, f.line, f.level) for f in findings] == [
        ("return-value", "src/calc/bad.py", 14, "error")
    ]
    assert findings[0].message.startswith("Incompatible return value type")
    clean_suite, clean_findings = mypy_findings(CLEAN / "mypy-junit.xml", CLEAN_ROOT)
    assert (clean_suite.failures, clean_findings) == (0, [])


def test_bandit_json_keeps_severity() -> None:
    findings, errors = read_bandit(FAILING / "bandit.json", FAILING_ROOT)
    assert [(f.rule, f.line, f.severity) for f in findings] == [
        ("B404", 6, "low"),
        ("B602", 10, "high"),
    ]
    assert errors == []
    assert all(f.path == "src/calc/bad.py" for f in findings)
    assert read_bandit(CLEAN / "bandit.json", CLEAN_ROOT) == ([], [])


def test_pytest_junit_totals_and_failure_location() -> None:
    suite = read_junit(FAILING / "junit-3.11.xml", FAILING_ROOT)
    assert (suite.tests, suite.passed, suite.failures, suite.errors) == (4, 3, 1, 0)
    [case] = suite.failed
    assert case.name == "tests/test_calc.py::test_broken"  # pytest's id (the traceback's file)
    assert (case.path, case.line) == ("tests/test_calc.py", 22)
    assert "assert 2 == 3" in case.message
    clean = read_junit(CLEAN / "junit-3.11.xml", CLEAN_ROOT)
    assert (clean.tests, clean.failures, clean.failed) == (3, 0, [])


def test_cobertura_totals_and_files() -> None:
    failing = read_coverage(FAILING / "coverage-3.11.xml", FAILING_ROOT)
    assert failing.percent == pytest.approx(100 * 8 / 15)
    assert {f.path: (f.covered, f.statements) for f in failing.files} == {
        "src/calc/__init__.py": (8, 8),
        "src/calc/bad.py": (0, 7),
    }
    assert read_coverage(CLEAN / "coverage.xml", CLEAN_ROOT).percent == 100.0


def test_nox_report_names_parametrized_sessions_fully() -> None:
    records = read_nox_report(FAILING / "nox-report.json", FAILING_ROOT)
    assert {n: r.status for n, r in records.items()} == {
        "lint": "failed",  # session.error() -> nox says "aborted", with the stage's reason
        "type": "failed",
        "security": "failed",
        "tests-3.11": "failed",
        "coverage": "aborted",  # its prerequisite failed: it did not run
    }
    assert records["lint"].reason.startswith("lint failed: ruff")


Parser = Callable[[Path, Path], Any]
PARSERS: dict[str, tuple[Parser, str]] = {
    "ruff": (read_ruff, "ruff.json"),
    "mypy": (mypy_findings, "mypy-junit.xml"),
    "bandit": (read_bandit, "bandit.json"),
    "junit": (read_junit, "junit-3.11.xml"),
    "coverage": (read_coverage, "coverage-3.11.xml"),
    "nox": (read_nox_report, "nox-report.json"),
}


def _damage(kind: str, original: bytes) -> bytes | None:
    if kind == "missing":
        return None
    if kind == "empty":
        return b""
    if kind == "blank":
        return b"  \n"
    if kind == "truncated":
        return original[: len(original) // 2]
    if kind == "binary":
        return b"\xff\xfe\x00garbage"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["missing", "empty", "blank", "truncated", "binary"])
@pytest.mark.parametrize("parser", sorted(PARSERS))
def test_bad_files_give_could_not_read(tmp_path: Path, parser: str, kind: str) -> None:
    parse, name = PARSERS[parser]
    damaged = _damage(kind, (FAILING / name).read_bytes())
    path = tmp_path / name
    if damaged is not None:
        path.write_bytes(damaged)
    with pytest.raises(ReadProblem) as info:
        parse(path, tmp_path)
    message = str(info.value)
    assert message.startswith(f"could not read {name}: ")
    expected = {
        "missing": "missing",
        "empty": "empty",
        "blank": "empty",
        "truncated": "truncated",
        "binary": "UTF-8",
    }[kind]
    assert expected in message


@pytest.mark.parametrize(
    ("parser", "content", "why"),
    [
        ("ruff", '{"not": "a list"}', "expected a JSON list"),
        ("ruff", '[{"code": "F401"}]', "entry 0 has no filename, message"),
        ("ruff", "[1]", "entry 0 is int"),
        ("bandit", "[]", "expected a JSON object"),
        ("bandit", '{"errors": []}', "not a bandit JSON report"),
        ("bandit", '{"results": [{"filename": "a.py"}]}', "entry 0 has no line_number"),
        ("junit", "<coverage/>", "not a JUnit report"),
        ("coverage", "<testsuite/>", "not a Cobertura report"),
        ("coverage", "<coverage/>", "no lines-valid"),
        ("coverage", '<coverage lines-valid="x"/>', "lines-valid is 'x', not a number"),
        ("nox", '{"result": 1}', "not a nox --report file"),
        ("nox", '{"sessions": [{"name": "lint"}]}', "has no 'result'"),
    ],
)
def test_malformed_content_says_why(tmp_path: Path, parser: str, content: str, why: str) -> None:
    parse, name = PARSERS[parser]
    (tmp_path / name).write_text(content, encoding="utf-8")
    with pytest.raises(ReadProblem, match="could not read") as info:
        parse(tmp_path / name, tmp_path)
    assert why in str(info.value)


def test_a_folder_in_place_of_a_file(tmp_path: Path) -> None:
    (tmp_path / "ruff.json").mkdir()
    with pytest.raises(ReadProblem, match="a folder, not a file"):
        read_ruff(tmp_path / "ruff.json", tmp_path)


def test_relative_names_and_outside_paths(tmp_path: Path) -> None:
    shutil.copy(FAILING / "ruff.json", tmp_path / "ruff.json")
    # Produced under /tmp/rx: read from another root, the absolute path stays as it was.
    [finding] = read_ruff(tmp_path / "ruff.json", tmp_path / "elsewhere")
    assert finding.path == "/tmp/rx/src/calc/bad.py"
