"""The quality gate's decisions, table by table."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from noxops.config import Config, load
from noxops.errors import ConfigError
from noxops.reports.gate import (
    apply_gate,
    bandit_blocking,
    coverage_passes,
    fail_under,
    mode_for,
)
from noxops.reports.model import Check, Finding, Status


def _config(tmp_path: Path, overrides: dict[str, Any] | None = None) -> Config:
    return load(tmp_path, overrides)


@pytest.mark.parametrize(
    ("name", "modes", "expected"),
    [
        ("lint", {}, "blocking"),
        ("lint", {"lint": "advisory"}, "advisory"),
        ("tests-3.9", {"tests-*": "advisory"}, "advisory"),
        ("tests-3.9", {"tests-*": "advisory", "tests-3.9": "off"}, "off"),
        ("tests-3.12", {"*": "advisory", "tests-*": "blocking"}, "blocking"),
        ("pylint", {"pylint": "advisory"}, "advisory"),
        ("coverage", {"tests-*": "advisory"}, "blocking"),
    ],
)
def test_mode_for(name: str, modes: dict[str, str], expected: str) -> None:
    assert mode_for(name, modes) == expected


@pytest.mark.parametrize(
    ("percent", "threshold", "passes"),
    [
        (80.0, 80.0, True),
        (79.996, 80.0, True),  # shown as 80.00%, as `coverage report` rounds it
        (79.99, 80.0, False),
        (100.0, 100.0, True),
        (0.0, 0.0, True),
        (53.3, 80.0, False),
    ],
)
def test_coverage_threshold(percent: float, threshold: float, passes: bool) -> None:
    assert coverage_passes(percent, threshold) is passes


def _bandit(*severities: str) -> list[Finding]:
    return [Finding("bandit", "B1", "m", "a.py", severity=s) for s in severities]


@pytest.mark.parametrize(
    ("severities", "limit", "blocking"),
    [
        ((), "none", 0),
        (("low",), "none", 1),
        (("low",), "low", 0),
        (("low", "medium", "high"), "low", 2),
        (("low", "medium", "high"), "medium", 1),
        (("low", "medium", "high"), "high", 0),
        (("undefined",), "none", 0),
        (("weird",), "medium", 1),  # an unknown severity counts as high
    ],
)
def test_bandit_threshold(severities: tuple[str, ...], limit: str, blocking: int) -> None:
    assert len(bandit_blocking(_bandit(*severities), limit)) == blocking


def test_fail_under_defaults_to_the_tests_setting(tmp_path: Path) -> None:
    assert fail_under(_config(tmp_path, {"tests": {"fail_under": 91}})) == 91
    chosen = _config(tmp_path, {"tests": {"fail_under": 91}, "report": {"coverage_fail_under": 50}})
    assert fail_under(chosen) == 50


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ({"checks": {"lint": "maybe"}}, "lint = 'maybe'"),
        ({"max_bandit_severity": "critical"}, "must be one of"),
        ({"coverage_fail_under": 120}, "between 0 and 100"),
    ],
)
def test_bad_report_settings_are_config_errors(
    tmp_path: Path, table: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ConfigError, match=r"tool\.noxops\.report") as info:
        _config(tmp_path, {"report": table})
    assert problem in str(info.value)


# (statuses of lint, tests-3.11, audit), modes, allow_unaudited -> gate passes, blocking checks
GATE_TABLE: list[tuple[tuple[Status, Status, Status], dict[str, str], bool, bool, list[str]]] = [
    (("passed", "passed", "passed"), {}, False, True, []),
    (("failed", "passed", "passed"), {}, False, False, ["lint"]),
    (("failed", "passed", "passed"), {"lint": "advisory"}, False, True, []),
    (("failed", "passed", "passed"), {"lint": "off"}, False, True, []),
    (("passed", "not-run", "passed"), {}, False, False, ["tests-3.11"]),
    (("passed", "not-run", "passed"), {"tests-*": "advisory"}, False, True, []),
    (("passed", "skipped", "passed"), {}, False, True, []),
    (("passed", "passed", "not-audited"), {}, False, False, ["audit"]),
    (("passed", "passed", "not-audited"), {}, True, True, []),
    (("passed", "passed", "not-audited"), {"audit": "advisory"}, False, True, []),
    (("failed", "failed", "not-audited"), {}, True, False, ["lint", "tests-3.11"]),
]


@pytest.mark.parametrize(("statuses", "modes", "allow", "passes", "blocking"), GATE_TABLE)
def test_gate_decisions(  # noqa: PLR0917 - one argument per column of the table
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    statuses: tuple[Status, Status, Status],
    modes: dict[str, str],
    allow: bool,
    passes: bool,
    blocking: list[str],
) -> None:
    monkeypatch.delenv("NOXOPS_ALLOW_UNAUDITED", raising=False)
    config = _config(
        tmp_path, {"report": {"checks": modes}, "security": {"allow_unaudited": allow}}
    )
    checks = [
        Check(name, status, "figure")
        for name, status in zip(("lint", "tests-3.11", "audit"), statuses)
    ]
    kept, passed, verdict = apply_gate(checks, config)
    assert passed is passes
    assert [c.name for c in kept if c.blocks] == blocking
    assert verdict.startswith("PASSED" if passes else "FAILED")
    assert all(c.name not in verdict for c in kept if c.status == "passed")
    if "lint" in modes and modes["lint"] == "off":
        assert "lint" not in [c.name for c in kept]


def test_unaudited_allowed_by_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOXOPS_ALLOW_UNAUDITED", "1")
    _, passed, _ = apply_gate([Check("audit", "not-audited", "x")], _config(tmp_path))
    assert passed


def test_nothing_to_judge_fails(tmp_path: Path) -> None:
    kept, passed, verdict = apply_gate([], _config(tmp_path))
    assert (kept, passed) == ([], False)
    assert "no results" in verdict


def test_verdict_separates_failures_from_missing_results(tmp_path: Path) -> None:
    checks = [
        Check("lint", "failed", "1"),
        Check("coverage", "not-run", "-"),
        Check("style", "failed", "advisory one"),
    ]
    config = dataclasses.replace(
        _config(tmp_path, {"report": {"checks": {"style": "advisory"}}}),
    )
    _, passed, verdict = apply_gate(checks, config)
    assert not passed
    assert verdict == (
        "FAILED: 1 blocking check(s) failed: lint; without a result: coverage (NOT RUN); "
        "advisory: style"
    )
