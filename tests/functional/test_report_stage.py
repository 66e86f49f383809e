"""Real nox runs: the report stage over a real pipeline, on a clean and a failing project.

The failing copy of ``tests/fixtures/report_project`` gets exactly one lint error and one
failing test; after ``nox``, ``nox -s report`` must show exactly those two failures, write
every format and exit non-zero. The clean one exits zero.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from support.noxrun import NoxRun, copy_fixture, run_nox

pytestmark = pytest.mark.slow
pytest.importorskip("nox")

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "report_samples"
OUTPUTS = (
    "summary.json",
    "report.html",
    "gl-code-quality-report.json",
    "noxops.sarif",
    "sonar-project.properties",
)


def _rows(run: NoxRun) -> dict[str, str]:
    """The table's rows: check -> status word."""
    lines = run.output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("CHECK "))
    rows: dict[str, str] = {}
    for line in lines[start + 2 :]:
        if not line.strip():
            break
        name, status = re.split(r"\s{2,}", line)[:2]
        rows[name] = status
    return rows


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_fixture("report_project", tmp_path_factory.mktemp("failing"))
    init = project / "src" / "calc" / "__init__.py"
    init.write_text(
        init.read_text().replace(
            "from __future__ import annotations\n",
            "from __future__ import annotations\n\nimport os\n",
        )
    )
    with (project / "tests" / "test_calc.py").open("a") as fh:
        fh.write("\n\ndef test_broken() -> None:\n    assert add(1, 1) == 3\n")
    return project


def test_failing_project_reports_exactly_its_two_failures(failing: Path, tmp_path: Path) -> None:
    pipeline = run_nox(failing)
    assert pipeline.returncode != 0, pipeline
    # The report session ran last in the plain `nox` run, without requiring the others.
    assert pipeline.output.rindex("Running session report") > pipeline.output.rindex(
        "Running session tests-3.11"
    )

    summary_md = tmp_path / "step-summary.md"
    run = run_nox(
        failing,
        "-s",
        "report",
        env={"GITHUB_STEP_SUMMARY": str(summary_md), "GITHUB_ACTIONS": "true"},
    )
    assert run.returncode != 0, run
    rows = _rows(run)
    assert {name for name, status in rows.items() if status == "FAILED"} == {
        "lint",
        "tests-3.11",
    }, run
    assert rows["type"] == rows["bandit"] == "passed"
    assert rows["coverage"] == "NOT RUN"  # nox did not run it: its tests failed
    assert "src/calc/__init__.py:5: F401" in run.output
    assert "FAILED tests/test_calc.py::test_broken (tests/test_calc.py:22)" in run.output
    assert "gate: FAILED: 2 blocking check(s) failed: lint, tests-3.11" in run.output
    assert "\x1b[" not in run.output  # NO_COLOR

    reports = failing / "reports"
    for name in OUTPUTS:
        assert (reports / name).stat().st_size > 0, name
    data = json.loads((reports / "summary.json").read_text())
    assert data["exit_code"] == 1
    assert [c["name"] for c in data["checks"] if c["status"] == "failed"] == ["lint", "tests-3.11"]

    # Each session's full log, linked from the summaries.
    lint_log = (reports / "sessions" / "lint.log").read_text()
    assert "ruff check" in lint_log and "F401" in lint_log
    assert "1 failed, 3 passed" in (reports / "sessions" / "tests-3.11.log").read_text()
    assert "`reports/sessions/lint.log`" in summary_md.read_text()
    assert 'href="sessions/lint.log"' in (reports / "report.html").read_text()

    # GitHub annotation for the lint finding; GitLab and SARIF carry it too.
    assert "::error file=src/calc/__init__.py,line=5,col=8,title=ruff F401::" in run.output
    quality = json.loads((reports / "gl-code-quality-report.json").read_text())
    assert {i["check_name"] for i in quality} == {"ruff:F401", "pytest:failed"}
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((SAMPLES / "sarif-schema-2.1.0.json").read_text())
    log = json.loads((reports / "noxops.sarif").read_text())
    jsonschema.Draft4Validator(schema).validate(log)
    [ruff] = [r for r in log["runs"] if r["tool"]["driver"]["name"] == "ruff"]
    uri = ruff["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "src/calc/__init__.py"


def test_clean_project_passes_and_report_alone_is_not_a_pass(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    project = copy_fixture("report_project", tmp_path_factory.mktemp("clean"))
    before = run_nox(project, "-s", "report")
    assert before.returncode != 0, before  # nothing ran: not run is never a pass
    assert set(_rows(before).values()) == {"NOT RUN"}, before
    assert "Running session lint" not in before.output  # it requires nothing

    pipeline = run_nox(project)
    assert pipeline.returncode == 0, pipeline
    run = run_nox(project, "-s", "report")
    assert run.returncode == 0, run
    assert set(_rows(run).values()) == {"passed"}, run
    assert "gate: PASSED" in run.output
    sessions = {p.stem for p in (project / "reports" / "sessions").glob("*.json")}
    assert {"lint", "type", "security", "tests-3.11", "coverage", "report"} <= sessions
