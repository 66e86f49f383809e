"""The quality gate's decisions, table by table."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import coverage.config
import pytest
from coverage import Coverage
from coverage.results import should_fail_under

from noxops.config import Config, load
from noxops.errors import ConfigError
from noxops.reports.gate import (
    apply_gate,
    bandit_blocking,
    coverage_figure,
    coverage_passes,
    coverage_precision,
    fail_under,
    mode_for,
    percent_text,
)
from noxops.reports.model import Check, Finding, Status

# coverage.py reads .coveragerc.toml only in newer releases (not 7.10, which Python 3.9
# gets); noxops reads it either way and passes --precision itself, so both judge alike.
_READS_TOML_RC = ".coveragerc.toml" in Path(coverage.config.__file__).read_text(encoding="utf-8")


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
    ("percent", "threshold", "precision", "passes", "figure"),
    [
        (80.0, 80.0, 0, True, "80"),
        (79.6, 80.0, 0, True, "80"),  # coverage.py rounds to its precision first
        (79.6, 80.0, 2, False, "79.60"),
        (79.996, 80.0, 2, True, "80.00"),
        (79.99, 80.0, 2, False, "79.99"),
        (79.63, 79.65, 2, False, "79.63"),  # the threshold's own digits (see coverage_precision)
        (99.997, 100.0, 2, False, "99.99"),  # 100 must really be 100, and never reads "100"
        (99.6, 100.0, 0, False, "99"),
        (99.6, 90.0, 0, True, "99"),
        (100.0, 100.0, 0, True, "100"),
        (0.0, 0.0, 0, True, "0"),
        (53.3, 80.0, 1, False, "53.3"),
    ],
)
def test_coverage_threshold(
    percent: float, threshold: float, precision: int, passes: bool, figure: str
) -> None:
    assert coverage_passes(percent, threshold, precision) is passes
    assert passes is not should_fail_under(percent, threshold, precision)  # coverage.py's rule
    assert coverage_figure(percent, precision) == figure


@pytest.mark.parametrize(
    ("files", "precision"),
    [
        ({}, 0),
        ({"pyproject.toml": "[tool.coverage.report]\nprecision = 2\n"}, 2),
        # coverage.py's own file is the one it uses, even empty
        ({"pyproject.toml": "[tool.coverage.report]\nprecision = 2\n", ".coveragerc": ""}, 0),
        (
            {"pyproject.toml": "[tool.coverage.report]\nprecision = 2\n", ".coveragerc": "[run]\n"},
            0,
        ),
        ({".coveragerc": "[report]\nprecision = 3\n[coverage:report]\nprecision = 1\n"}, 1),
        ({".coveragerc.toml": "[report]\nprecision = 4\n"}, 4),
        ({"setup.cfg": "[report]\nprecision = 4\n[coverage:report]\nprecision = 2\n"}, 2),
        (
            {
                "setup.cfg": "[coverage:run]\nbranch = true\n",
                "tox.ini": "[coverage:report]\nprecision = 1\n",
            },
            0,
        ),
        ({"tox.ini": "[coverage:report]\nprecision = 1\n"}, 1),
        ({"custom.ini": "[report]\nprecision = 3\n", "COVERAGE_RCFILE": "custom.ini"}, 3),
    ],
)
def test_coverage_precision_is_read_as_coverage_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str], precision: int
) -> None:
    monkeypatch.delenv("COVERAGE_RCFILE", raising=False)
    monkeypatch.chdir(tmp_path)
    for name, text in files.items():
        if name == "COVERAGE_RCFILE":
            monkeypatch.setenv(name, text)
        else:
            (tmp_path / name).write_text(text, encoding="utf-8")
    assert coverage_precision(_config(tmp_path)) == precision
    if ".coveragerc.toml" in files and not _READS_TOML_RC:
        pass  # this coverage.py predates .coveragerc.toml; the session passes --precision
    else:
        assert Coverage().get_option("report:precision") == precision  # coverage.py agrees
    more = _config(tmp_path, {"tests": {"fail_under": 79.625}})  # its digits count too
    assert coverage_precision(more) == max(precision, 3)
    assert percent_text(79.625) == "79.625"


def test_a_precision_coverage_would_refuse_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "setup.cfg").write_text("[coverage:report]\nprecision = two\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        coverage_precision(_config(tmp_path))
    assert str(caught.value) == (
        "setup.cfg: [coverage:report] precision: 'two' is not a number of digits after the "
        "point; write one, e.g. precision = 2"
    )


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
