"""Which bandit findings fail: medium severity and up by default, as projects that run bandit
have it (``bandit -ll``); low ones are shown without failing. One setting,
``[tool.noxops.security] max_bandit_severity``, and one judge for the security session's
verdict and the report's bandit check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from noxops.config import Config, load
from noxops.errors import ConfigError
from noxops.reports.collect import build_report
from noxops.reports.model import Check
from noxops.stages import STAGES
from noxops.stages.security import BANDIT, bandit_verdict

# What bandit reports for an ``assert`` (B101) and an ``import pickle`` (B403): low severity.
LOW = [("B101", "LOW", "Use of assert detected."), ("B403", "LOW", "Consider pickle.")]
MEDIUM = [("B301", "MEDIUM", "Pickle and modules that wrap it can be unsafe.")]


def _project(
    tmp_path: Path, toml: str, findings: list[tuple[str, str, str]], errors: tuple[str, ...] = ()
) -> Config:
    (tmp_path / "src" / "calc").mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "calc"\n[tool.noxops]\npython = ["3.11"]\n'
        "[tool.noxops.security]\naudit = false\n" + toml,
        encoding="utf-8",
    )
    config = load(tmp_path)
    results = [
        {"filename": "src/calc/__init__.py", "line_number": n, "test_id": rule,
         "issue_text": text, "issue_severity": severity, "issue_confidence": "HIGH"}
        for n, (rule, severity, text) in enumerate(findings, 1)
    ]  # fmt: skip
    path = BANDIT.path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    unscanned = [{"filename": name, "reason": "syntax error while parsing AST"} for name in errors]
    path.write_text(json.dumps({"results": results, "errors": unscanned}), encoding="utf-8")
    return config


def _judged(config: Config) -> tuple[list[str], Check]:
    """What the security session fails on (the rules, and files bandit could not scan), and
    the report's bandit check."""
    _lines, over, unscanned = bandit_verdict(config, BANDIT.path(config))
    report = build_report(config, STAGES.for_config(config))
    (check,) = [c for c in report.checks if c.name == "bandit"]
    return [line.split(": ")[1].split()[0] for line in over] + unscanned, check


def test_low_severity_findings_are_shown_without_failing_by_default(tmp_path: Path) -> None:
    config = _project(tmp_path, "", LOW)
    over, check = _judged(config)
    assert over == []
    assert check.status == "passed", check.summary
    assert [(f.rule, f.level) for f in check.findings] == [("B101", "warning"), ("B403", "warning")]
    assert "max tolerated severity: low" in check.summary


def test_a_medium_severity_finding_fails_both_by_default(tmp_path: Path) -> None:
    config = _project(tmp_path, "", LOW + MEDIUM)
    over, check = _judged(config)
    assert over == ["B301"]
    assert check.status == "failed"
    assert [f.rule for f in check.findings if f.level == "error"] == ["B301"]


def test_the_security_setting_decides_for_both(tmp_path: Path) -> None:
    config = _project(tmp_path, 'max_bandit_severity = "none"\n', LOW)
    over, check = _judged(config)
    assert over == ["B101", "B403"]
    assert check.status == "failed"


def test_the_report_setting_still_works_and_says_it_moved(tmp_path: Path) -> None:
    from noxops.reports.gate import bandit_limit

    config = _project(tmp_path, '[tool.noxops.report]\nmax_bandit_severity = "none"\n', LOW)
    over, check = _judged(config)
    assert over == ["B101", "B403"] and check.status == "failed"
    limit, note = bandit_limit(config)
    assert limit == "none"
    assert note == (
        "[tool.noxops.report] max_bandit_severity is deprecated: move it to "
        "[tool.noxops.security] max_bandit_severity"
    )
    assert note in check.details


def test_the_security_setting_wins_over_the_deprecated_one(tmp_path: Path) -> None:
    from noxops.reports.gate import bandit_limit

    toml = 'max_bandit_severity = "medium"\n[tool.noxops.report]\nmax_bandit_severity = "none"\n'
    config = _project(tmp_path, toml, LOW + MEDIUM)
    over, check = _judged(config)
    assert over == [] and check.status == "passed"
    assert bandit_limit(config) == (
        "medium",
        "[tool.noxops.report] max_bandit_severity is deprecated and ignored: "
        "[tool.noxops.security] max_bandit_severity is set; remove the old key",
    )


def test_an_unknown_severity_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        _project(tmp_path, 'max_bandit_severity = "critical"\n', LOW)
    text = str(info.value)
    assert "tool.noxops.security.max_bandit_severity" in text and "must be one of" in text
    assert "\n" not in text


def test_a_file_bandit_could_not_scan_fails_both(tmp_path: Path) -> None:
    config = _project(tmp_path, "", LOW, errors=("src/calc/broken.py",))
    over, check = _judged(config)
    assert over == ["bandit could not scan src/calc/broken.py: syntax error while parsing AST"]
    assert check.status == "failed"
    assert over[0] in check.details
