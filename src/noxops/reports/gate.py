"""The quality gate: thresholds turn figures into pass/fail, modes decide what blocks."""

from __future__ import annotations

import fnmatch
import os
from typing import TYPE_CHECKING

from noxops.project.coveragerc import report_precision
from noxops.reports.model import Check, Finding
from noxops.reports.scanners import BANDIT_RANK

if TYPE_CHECKING:
    from noxops.config import Config

__all__ = [
    "BANDIT_DEFAULT",
    "apply_gate",
    "bandit_blocking",
    "bandit_limit",
    "coverage_figure",
    "coverage_passes",
    "coverage_precision",
    "fail_under",
    "mode_for",
    "percent_text",
]

STATUS_WORDS = {
    "passed": "passed",
    "failed": "FAILED",
    "not-run": "NOT RUN",
    "not-audited": "NOT AUDITED",
    "skipped": "skipped",
}


def fail_under(config: Config) -> float:
    """The coverage threshold: ``[tool.noxops.report]``'s, else ``[tool.noxops.tests]``'s.

    The one number both the ``coverage`` session (``coverage report --fail-under``) and the
    report's coverage check judge by, so they never disagree on the same figure."""
    chosen = config.report.coverage_fail_under
    return float(config.tests.fail_under if chosen is None else chosen)


def percent_text(threshold: float) -> str:
    """The threshold written so that coverage.py reads back the very same number."""
    short = f"{threshold:g}"
    return short if float(short) == threshold else repr(threshold)


def coverage_precision(config: Config) -> int:
    """The digits after the point the coverage total is rounded to before it is judged.

    coverage.py's rule (``coverage.results.should_fail_under``): the project's ``[report]
    precision``, or more when the threshold has more (79.65 is judged to 2 digits). The
    ``coverage`` session passes it as ``--precision``, so every coverage.py version rounds
    as the report does."""
    threshold = fail_under(config)
    digits = 0
    if threshold != int(threshold):
        from decimal import Decimal  # here: a session rarely needs it, and every one loads this

        exponent = Decimal(percent_text(threshold)).as_tuple().exponent
        digits = -exponent if isinstance(exponent, int) else 0
    return max(report_precision(config), digits)


def coverage_passes(percent: float, threshold: float, precision: int) -> bool:
    """Coverage passes as ``coverage report --fail-under --precision`` passes it: the total
    rounded to ``precision`` digits at or above the threshold, and 100 only when it is 100."""
    if threshold == 100.0 and percent != 100.0:
        return False
    return round(percent, precision) >= threshold


def coverage_figure(percent: float, precision: int) -> str:
    """The total as it was judged (rounded to ``precision`` digits); like coverage.py's own
    figure, never "100" unless nothing was missed."""
    near = 10.0**-precision
    if 100.0 - near < percent < 100.0:
        percent = 100.0 - near
    return f"{round(percent, precision):.{precision}f}"


BANDIT_DEFAULT = "low"  # medium and high fail: what projects that run bandit use (-ll)
_OLD_BANDIT_KEY = "[tool.noxops.report] max_bandit_severity"
_BANDIT_KEY = "[tool.noxops.security] max_bandit_severity"


def bandit_limit(config: Config) -> tuple[str, str]:
    """The highest bandit severity tolerated, and what to say about the deprecated key
    (empty when it is not set): ``[tool.noxops.security]``'s, else the deprecated
    ``[tool.noxops.report]`` one, else :data:`BANDIT_DEFAULT`.

    The one limit both the ``security`` session's verdict and the report's bandit check
    judge by, so they never disagree on the same findings."""
    chosen, old = config.security.max_bandit_severity, config.report.max_bandit_severity
    if old is None:
        note = ""
    elif chosen is None:
        chosen, note = old, f"{_OLD_BANDIT_KEY} is deprecated: move it to {_BANDIT_KEY}"
    else:
        note = f"{_OLD_BANDIT_KEY} is deprecated and ignored: {_BANDIT_KEY} is set; remove "
        note += "the old key"
    return chosen or BANDIT_DEFAULT, note


def bandit_blocking(findings: list[Finding], max_severity: str) -> list[Finding]:
    """The bandit findings above the highest tolerated severity."""
    limit = BANDIT_RANK[max_severity]
    return [f for f in findings if BANDIT_RANK.get(f.severity, 3) > limit]


def mode_for(name: str, modes: dict[str, str], default: str = "blocking") -> str:
    """A check's mode: its exact name, else the most specific matching glob, else ``default``
    (the mode its stage declares for it, blocking unless it says advisory)."""
    if name in modes:
        return modes[name]
    matches = [pattern for pattern in modes if fnmatch.fnmatchcase(name, pattern)]
    if matches:
        return modes[max(matches, key=len)]
    return default


def _unaudited_allowed(config: Config) -> bool:
    """As the security stage decides: the setting, or NOXOPS_ALLOW_UNAUDITED=1 on this machine."""
    return config.security.allow_unaudited or os.environ.get("NOXOPS_ALLOW_UNAUDITED") == "1"


def apply_gate(checks: list[Check], config: Config) -> tuple[list[Check], bool, str]:
    """Mark each check blocking or advisory; the gate passes when no blocking check failed.

    "not run" blocks like a failure: a gate must not pass on results that do not exist.
    "not audited" blocks unless ``[tool.noxops.security] allow_unaudited`` accepts it.
    "skipped" (for example a Python that is not installed locally) does not block.
    """
    kept: list[Check] = []
    for check in checks:
        mode = mode_for(check.name, config.report.checks, default=check.mode)
        if mode == "off":
            continue
        check.mode = mode
        bad = check.status in ("failed", "not-run", "not-audited")
        if check.status == "not-audited" and _unaudited_allowed(config):
            bad = False
            check.details.append(
                "accepted by [tool.noxops.security] allow_unaudited or NOXOPS_ALLOW_UNAUDITED=1"
            )
        check.blocks = mode == "blocking" and bad
        kept.append(check)
    blocking = [c for c in kept if c.blocks]
    advisory = [
        c for c in kept if c.mode == "advisory" and c.status in ("failed", "not-run", "not-audited")
    ]
    if not kept:
        return kept, False, "FAILED: no results to judge; run the pipeline (`nox`) first"
    if blocking:
        failed = [c.name for c in blocking if c.status == "failed"]
        other = [
            f"{c.name} ({'partial run' if c.partial else STATUS_WORDS[c.status]})"
            for c in blocking
            if c.status != "failed"
        ]
        parts = [f"{len(failed)} blocking check(s) failed: {', '.join(failed)}"] if failed else []
        if other:
            parts.append(f"without a result: {', '.join(other)}")
        verdict = "FAILED: " + "; ".join(parts)
    else:
        passed = sum(1 for c in kept if c.status == "passed")
        verdict = f"PASSED: {passed} of {len(kept)} checks passed, none blocking failed"
    if advisory:
        verdict += f"; advisory: {', '.join(c.name for c in advisory)}"
    return kept, not blocking, verdict
