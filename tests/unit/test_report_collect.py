"""One result per check from a reports folder: real samples, damaged files, stale files, CLI."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from noxops.cli import main
from noxops.config import Config, load
from noxops.reports.collect import build_report, expected_checks
from noxops.reports.model import Check, Report
from noxops.reports.terminal import render
from noxops.stages import STAGES

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "report_samples"
PYPROJECT = """\
[project]
name = "calc"
[tool.noxops]
python = ["3.11"]
[tool.noxops.security]
audit = {audit}
"""


def _report(config: Config, nox_report: Path | None = None) -> Report:
    """The report over every stage noxops declares for ``config``."""
    return build_report(config, STAGES.for_config(config), nox_report)


def _expected(config: Config) -> dict[str, str]:
    return expected_checks(config, STAGES.for_config(config))


@pytest.fixture(autouse=True)
def _ci(monkeypatch: pytest.MonkeyPatch) -> None:
    # In CI a missing Python is a failure; do not let this machine's Pythons decide.
    monkeypatch.setenv("CI", "true")
    monkeypatch.delenv("NOXOPS_ALLOW_UNAUDITED", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


def _project(
    tmp_path: Path,
    sample: str | None,
    root: str,
    overrides: dict[str, Any] | None = None,
    audit: bool = True,
) -> Config:
    """A project whose reports folder holds a copy of a sample (produced under ``root``)."""
    (tmp_path / "pyproject.toml").write_text(
        PYPROJECT.format(audit=str(audit).lower()), encoding="utf-8"
    )
    reports = tmp_path / "reports"
    if sample is not None:
        shutil.copytree(SAMPLES / sample, reports, ignore=shutil.ignore_patterns("nox-report.json"))
    else:
        reports.mkdir()
    config = load(tmp_path, overrides)
    return dataclasses.replace(config, root=Path(root), reports_dir=str(reports))


def _by_name(report: Report) -> dict[str, Check]:
    return {c.name: c for c in report.checks}


def test_failing_sample(tmp_path: Path) -> None:
    config = _project(tmp_path, "failing", "/tmp/rx", {"security": {"allow_unaudited": True}})
    report = _report(config)
    checks = _by_name(report)
    assert {n: c.status for n, c in checks.items()} == {
        "lint": "failed",
        "type": "failed",
        "bandit": "failed",
        "audit": "not-audited",
        "tests-3.11": "failed",
        "coverage": "not-run",
    }
    assert checks["lint"].summary == "1 ruff finding(s)"
    assert checks["tests-3.11"].summary == "3 passed, 1 failed"
    assert checks["coverage"].summary == "not run: it needs tests-3.11, which did not pass"
    assert checks["audit"].summary.startswith("not audited: the vulnerability service")
    assert not checks["audit"].blocks  # allow_unaudited
    assert checks["lint"].log == "reports/sessions/lint.log"
    assert checks["type"].duration == pytest.approx(1.211, abs=5)
    assert not report.passed and report.exit_code == 1
    assert [f.tool for f in report.findings] == ["ruff", "mypy", "bandit", "bandit", "pytest"]


def test_clean_sample_passes(tmp_path: Path) -> None:
    report = _report(_project(tmp_path, "clean", "/tmp/rc", audit=False))
    assert {c.name: c.status for c in report.checks} == {
        "lint": "passed",
        "type": "passed",
        "bandit": "passed",
        "tests-3.11": "passed",
        "coverage": "passed",
    }
    assert _by_name(report)["coverage"].summary == "100% (min 80%)"
    assert report.passed and report.exit_code == 0
    assert report.coverage_files == [("src/calc/__init__.py", 100.0, 8, 8)]


def test_coverage_threshold_from_report_settings(tmp_path: Path) -> None:
    # The failing sample's per-Python coverage, as if it were the combined one: 53.3%.
    config = _project(tmp_path, "clean", "/tmp/rc", {"report": {"coverage_fail_under": 90}})
    shutil.copy(SAMPLES / "failing" / "coverage-3.11.xml", config.reports / "coverage.xml")
    coverage = _by_name(_report(config))["coverage"]
    assert (coverage.status, coverage.summary) == ("failed", "53% (min 90%)")
    assert coverage.blocks


def test_nothing_ran_is_not_a_pass(tmp_path: Path) -> None:
    report = _report(_project(tmp_path, None, str(tmp_path)))
    assert {c.status for c in report.checks} == {"not-run"}
    assert [c.name for c in report.checks] == [
        "lint",
        "type",
        "bandit",
        "audit",
        "tests-3.11",
        "coverage",
    ]
    assert all(c.summary.startswith("could not read reports/") for c in report.checks)
    assert not report.passed


@pytest.mark.parametrize(
    ("file", "content", "check"),
    [
        ("ruff.json", "", "lint"),
        ("ruff.json", '[{"filename": ', "lint"),
        ("mypy-junit.xml", "<testsuite><testcase", "type"),
        ("bandit.json", "{}", "bandit"),
        ("junit-3.11.xml", "", "tests-3.11"),
        ("coverage.xml", "<coverage>", "coverage"),
        ("audit.json", '{"status": "maybe"}', "audit"),
    ],
)
def test_unreadable_report_is_not_run_never_a_pass(
    tmp_path: Path, file: str, content: str, check: str
) -> None:
    config = _project(tmp_path, "clean", "/tmp/rc")
    shutil.rmtree(config.reports / "sessions")  # no session says otherwise
    (config.reports / file).write_text(content, encoding="utf-8")
    report = _report(config)
    result = _by_name(report)[check]
    assert result.status == "not-run"
    assert result.summary.startswith("could not read /")  # the reports are outside the root
    assert f"/reports/{file}: " in result.summary
    assert result.problems == [result.summary]
    assert result.blocks and not report.passed


def test_a_failed_session_with_an_unreadable_report_is_failed(tmp_path: Path) -> None:
    config = _project(tmp_path, "failing", "/tmp/rx")
    (config.reports / "ruff.json").unlink()
    lint = _by_name(_report(config))["lint"]
    assert lint.status == "failed"
    assert "lint failed: lint failed: ruff" in lint.summary
    assert "reports/ruff.json: the file is missing" in lint.summary


def test_stale_report_is_not_trusted(tmp_path: Path) -> None:
    config = _project(tmp_path, "clean", "/tmp/rc")
    record = config.reports / "sessions" / "lint.json"
    data = json.loads(record.read_text())
    data["started"] = "2099-01-01T00:00:00+00:00"  # the session started after ruff.json
    record.write_text(json.dumps(data))
    lint = _by_name(_report(config))["lint"]
    assert lint.status == "not-run"
    assert "older than the last lint session" in lint.summary


def test_session_failure_overrides_a_clean_report(tmp_path: Path) -> None:
    config = _project(tmp_path, "clean", "/tmp/rc")
    record = config.reports / "sessions" / "lint.json"
    data = json.loads(record.read_text())
    data.update(status="failed", reason="lint failed: black, isort")
    record.write_text(json.dumps(data))
    lint = _by_name(_report(config))["lint"]
    assert lint.status == "failed"
    assert lint.summary == "no ruff findings; session failed: lint failed: black, isort"


def test_timed_out_and_skipped_sessions(tmp_path: Path) -> None:
    config = _project(tmp_path, "clean", "/tmp/rc")
    sessions = config.reports / "sessions"
    for name, status, reason in [
        ("type", "timed-out", "type timed out after 5s"),
        ("tests-3.11", "skipped", "Python interpreter 3.11 not found"),
    ]:
        data = json.loads((sessions / f"{name}.json").read_text())
        data.update(status=status, reason=reason)
        (sessions / f"{name}.json").write_text(json.dumps(data))
    checks = _by_name(_report(config))
    assert checks["type"].status == "failed"
    assert "timed-out" in checks["type"].summary
    assert checks["tests-3.11"].status == "skipped"
    assert not checks["tests-3.11"].blocks


def test_other_sessions_and_unreadable_records(tmp_path: Path) -> None:
    config = _project(tmp_path, "clean", "/tmp/rc", audit=False)
    sessions = config.reports / "sessions"
    (sessions / "docs.json").write_text(
        json.dumps({"name": "docs", "status": "failed", "reason": "sphinx", "duration": 2})
    )
    (sessions / "broken.json").write_text("{")
    report = _report(config)
    docs = _by_name(report)["docs"]
    assert (docs.status, docs.summary, docs.blocks) == ("failed", "session failed: sphinx", True)
    assert "sessions/broken.json: not valid JSON" in report.verdict


def test_nox_report_fills_in_what_noxops_did_not_record(tmp_path: Path) -> None:
    config = _project(tmp_path, "failing", "/tmp/rx", audit=False)
    shutil.rmtree(config.reports / "sessions")
    report = _report(config, SAMPLES / "failing" / "nox-report.json")
    checks = _by_name(report)
    assert checks["coverage"].summary == (
        "not run: Prerequisite session tests-3.11 was not successful"
    )
    assert checks["lint"].duration == pytest.approx(1.34, abs=0.01)


def test_expected_checks_follow_the_configuration(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT.format(audit="false"), encoding="utf-8")
    assert list(_expected(load(tmp_path))) == [
        "lint",
        "type",
        "bandit",
        "tests-3.11",
        "coverage",
    ]
    narrowed = load(tmp_path, {"default_sessions": ["lint", "tests"], "type": {"enabled": False}})
    assert list(_expected(narrowed)) == ["lint", "tests-3.11"]


def test_build_manifest(tmp_path: Path) -> None:
    config = _project(tmp_path, "clean", "/tmp/rc")
    (config.reports / "build-manifest.json").write_text(
        json.dumps(
            {
                "project": "calc",
                "version": "1.0.0",
                "image": "ghcr.io/acme/calc",
                "tags": ["1.0.0", "latest"],
                "image_id": "sha256:0123456789abcdef0123",
                "digest": None,
                "wheel": "calc-1.0.0-py3-none-any.whl",
                "pushed": False,
            }
        )
    )
    build = _by_name(_report(config))["build"]
    assert build.status == "passed"
    assert build.summary == (
        "ghcr.io/acme/calc:1.0.0, sha256:0123456789ab, calc-1.0.0-py3-none-any.whl"
    )
    assert "build" not in _expected(config)  # build is not in a plain `nox`


# -- the command ----------------------------------------------------------------------------


def _write_project(tmp_path: Path, sample: str) -> Path:
    tmp_path.mkdir()
    (tmp_path / "pyproject.toml").write_text(PYPROJECT.format(audit="false"), encoding="utf-8")
    shutil.copytree(SAMPLES / sample, tmp_path / "reports")
    return tmp_path


def test_command_exit_codes_and_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    clean = _write_project(tmp_path / "clean", "clean")
    assert main(["report", "--root", str(clean), "--no-color"]) == 0
    out = capsys.readouterr().out
    assert "gate: PASSED" in out and "\x1b[" not in out
    for name in (
        "summary.json",
        "report.html",
        "gl-code-quality-report.json",
        "noxops.sarif",
        "sonar-project.properties",
    ):
        assert (clean / "reports" / name).stat().st_size > 0

    failing = _write_project(tmp_path / "failing", "failing")
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    nox_report = failing / "reports" / "nox-report.json"
    code = main(["report", "--root", str(failing), "--nox-report", str(nox_report)])
    assert code == 1
    out = capsys.readouterr().out
    assert "::error file=" in out
    assert summary.read_text().startswith("## noxops report: calc")
    data = json.loads((failing / "reports" / "summary.json").read_text())
    assert data["exit_code"] == 1 and data["counts"]["failed"] == 4


def test_command_user_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--root", str(tmp_path / "nope")]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert main(["report", "--root", str(tmp_path), "--nox-report", "missing.json"]) == 2
    assert "nox --report FILE" in capsys.readouterr().err


def test_a_corrupt_session_record_is_never_a_pass(tmp_path: Path) -> None:
    config = _project(tmp_path, "clean", "/tmp/rc", audit=False)
    (config.reports / "sessions" / "lint.json").write_text('{"name": "lint", "sta')
    report = _report(config)
    lint = _by_name(report)["lint"]
    assert lint.status == "failed"
    assert "record is unreadable" in lint.summary
    assert not report.passed


def test_a_killed_session_reads_as_not_finished_not_as_the_last_outcome(tmp_path: Path) -> None:
    config = _project(tmp_path, "clean", "/tmp/rc", audit=False)
    record = config.reports / "sessions" / "tests-3.11.json"
    data = json.loads(record.read_text())
    # What the wrapper writes before the work starts; a SIGKILL leaves it there.
    data.update(status="started", reason="did not finish (killed, or still running)")
    data.update(started="2099-01-01T00:00:00+00:00", duration=None, finished=None)
    record.write_text(json.dumps(data))
    report = _report(config)
    tests = _by_name(report)["tests-3.11"]
    assert tests.status == "failed"
    assert "did not finish" in tests.summary
    assert not report.passed


def test_an_audit_from_another_run_is_not_trusted(tmp_path: Path) -> None:
    config = _project(tmp_path, "clean", "/tmp/rc")
    sessions = config.reports / "sessions"
    lint = json.loads((sessions / "lint.json").read_text())
    lint.update(name="security", run="this-run", status="failed", reason="pip-audit crashed")
    (sessions / "security.json").write_text(json.dumps(lint))
    # Left by an earlier run, and rewritten within the same second: mtimes cannot tell.
    (config.reports / "audit.json").write_text(
        json.dumps({"status": "audited", "audited": 3, "run": "an-earlier-run"})
    )
    audit = _by_name(_report(config))["audit"]
    assert audit.status == "not-audited"
    assert "not from the last security run" in audit.summary
    (config.reports / "audit.json").write_text(
        json.dumps({"status": "audited", "audited": 3, "run": "this-run"})
    )
    assert _by_name(_report(config))["audit"].summary.startswith("3 package(s) audited")


PLANTED = {"status": "audited", "audited": 42, "run": "planted"}


@pytest.mark.parametrize(
    ("record", "why"),
    [
        (None, "no record of the security session"),
        ('{"name": "security", "sta', "its record is unreadable"),
        ({"name": "security", "status": "success", "run": ""}, "records no run id"),
        ({"name": "security", "status": "success", "run": "another"}, "not from the last"),
    ],
    ids=["record-missing", "record-corrupt", "run-empty", "another-run"],
)
def test_a_planted_audit_is_not_audited(
    tmp_path: Path, record: dict[str, str] | str | None, why: str
) -> None:
    """An audit.json trusted without this run's security record (issue #25, 4) had the report
    say "42 package(s) audited, no known vulnerabilities"."""
    config = _project(tmp_path, "clean", "/tmp/rc")
    security = config.reports / "sessions" / "security.json"
    if record is None:
        security.unlink()
    else:
        security.write_text(record if isinstance(record, str) else json.dumps(record))
    (config.reports / "audit.json").write_text(json.dumps(PLANTED))
    report = _report(config)
    audit = _by_name(report)["audit"]
    assert audit.status == "not-audited"
    assert audit.summary.startswith("not audited: ") and why in audit.summary
    assert "no known vulnerabilities" not in audit.summary
    assert audit.blocks and not report.passed
    assert "NOT AUDITED" in render(report)


def test_a_replayed_result_names_the_commit_of_the_run_it_replays(tmp_path: Path) -> None:
    """The report's line for a replayed check says which commit's run it shows ("replayed
    from <commit>", from the session's run record in reports/fingerprints), only when that
    record is the run that finished then."""
    config = _project(tmp_path, "failing", "/tmp/rx", {"security": {"allow_unaudited": True}})
    record = config.reports / "sessions" / "lint.json"
    data = json.loads(record.read_text())
    data.update(replayed=True, replayed_from="2026-11-27T09:00:00Z")
    record.write_text(json.dumps(data))
    run = config.reports / "fingerprints" / "lint.json"
    run.parent.mkdir()
    commit = "4f1c2a9e0b7d" + "0" * 28
    run.write_text(json.dumps({"session": "lint", "finished": "2026-11-27T09:00:00Z",
                               "commit": commit}))  # fmt: skip
    lint = _by_name(_report(config))["lint"]
    note = "(replayed from 4f1c2a9e0b7d: unchanged since 2026-11-27 09:00:00 UTC, not rerun)"
    assert lint.summary.endswith(note)
    assert all(f.message.endswith(note) for f in lint.findings)
    run.write_text(json.dumps({"session": "lint", "finished": "2026-11-28T10:00:00Z",
                               "commit": commit}))  # fmt: skip  # a later run's record
    lint = _by_name(_report(config))["lint"]
    assert lint.summary.endswith("(unchanged since 2026-11-27 09:00:00 UTC, not rerun)")


def test_replayed_and_selected_results_say_so_everywhere(tmp_path: Path) -> None:
    from noxops.reports.github import annotation_commands

    config = _project(tmp_path, "failing", "/tmp/rx", {"security": {"allow_unaudited": True}})
    record = config.reports / "sessions" / "lint.json"
    data = json.loads(record.read_text())
    data.update(replayed=True, replayed_from="2026-11-27T09:00:00Z")
    record.write_text(json.dumps(data))
    selection = config.reports / "selection" / "tests-3.11.json"
    selection.parent.mkdir()
    selection.write_text(
        json.dumps({"mode": "affected", "selected": 4, "known": 40, "base": "then", "summary": "x"})
    )
    report = _report(config)
    checks = _by_name(report)
    lint = checks["lint"]
    assert lint.status == "failed" and lint.replayed == "2026-11-27T09:00:00Z"
    assert lint.summary.endswith("(unchanged since 2026-11-27 09:00:00 UTC, not rerun)")
    assert lint.to_dict()["replayed"] is True
    assert all("not rerun" in f.message for f in lint.findings)
    assert any("not rerun" in line for line in annotation_commands(report))
    assert not checks["type"].replayed and checks["type"].to_dict()["replayed"] is False
    tests = checks["tests-3.11"]
    assert tests.selected == "x" and "affected tests only: 4 of 40" in tests.summary
    assert "not a full run" in tests.summary
