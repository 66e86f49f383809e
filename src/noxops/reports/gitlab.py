"""GitLab Code Quality: the JSON array GitLab reads as a ``codequality`` report artifact.

Each issue has ``description``, ``check_name``, a ``fingerprint`` unique in the report and
stable while the code around it moves, a ``severity`` (info, minor, major, critical or
blocker) and ``location.path`` / ``location.lines.begin``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from noxops.reports.model import Finding, Report

__all__ = ["SEVERITIES", "code_quality", "severity"]

SEVERITIES = ("info", "minor", "major", "critical", "blocker")
_BANDIT = {"low": "minor", "medium": "major", "high": "critical"}


def severity(finding: Finding) -> str:
    """GitLab's severity for a finding."""
    if finding.tool == "bandit":
        return _BANDIT.get(finding.severity, "major")
    if finding.tool == "pytest":
        return "critical"
    if finding.tool == "ruff" and finding.rule in ("syntax-error", "E999"):
        return "blocker"
    if finding.level == "warning":
        return "minor"
    if finding.level == "note":
        return "info"
    return "major"


def code_quality(report: Report) -> list[dict[str, Any]]:
    issues: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for finding in report.findings:
        if not finding.path:
            continue
        key = "\0".join((finding.tool, finding.rule, finding.path, finding.message))
        # The same finding twice in one file gets a different fingerprint, by occurrence.
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        fingerprint = hashlib.sha256(f"{key}\0{occurrence}".encode()).hexdigest()[:32]
        issues.append(
            {
                "type": "issue",
                "description": f"{finding.rule}: {finding.message}",
                "check_name": f"{finding.tool}:{finding.rule}",
                "fingerprint": fingerprint,
                "severity": severity(finding),
                "categories": (
                    ["Security"]
                    if finding.tool == "bandit"
                    else ["Style"] if finding.tool == "ruff" else ["Bug Risk"]
                ),
                "location": {"path": finding.path, "lines": {"begin": max(1, finding.line)}},
            }
        )
    return issues
