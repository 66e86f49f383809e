"""SARIF 2.1.0 for GitHub code scanning: one run per tool, repository-relative paths."""

from __future__ import annotations

from typing import Any

from noxops.reports.model import Finding, Report

__all__ = ["SARIF_SCHEMA", "SARIF_VERSION", "sarif"]

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
_TOOLS = {
    "ruff": "https://docs.astral.sh/ruff/",
    "flake8": "https://flake8.pycqa.org/",
    "mypy": "https://mypy.readthedocs.io/",
    "bandit": "https://bandit.readthedocs.io/",
    "pylint": "https://pylint.readthedocs.io/",
}
_BANDIT_SCORE = {"low": "3.0", "medium": "6.0", "high": "8.5"}


def _uri(path: str) -> str:
    from urllib.parse import quote

    return quote(path.replace("\\", "/").lstrip("/"), safe="/")


def _result(finding: Finding, index: int) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": max(1, finding.line)}
    if finding.column:
        region["startColumn"] = max(1, finding.column)
    return {
        "ruleId": finding.rule,
        "ruleIndex": index,
        "level": finding.level,
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": _uri(finding.path), "uriBaseId": "%SRCROOT%"},
                    "region": region,
                }
            }
        ],
    }


def _rule(finding: Finding) -> dict[str, Any]:
    rule: dict[str, Any] = {"id": finding.rule, "shortDescription": {"text": finding.rule}}
    if finding.url.startswith(("http://", "https://")):
        rule["helpUri"] = finding.url
    if finding.tool == "bandit" and finding.severity in _BANDIT_SCORE:
        rule["properties"] = {"security-severity": _BANDIT_SCORE[finding.severity]}
    return rule


def sarif(report: Report) -> dict[str, Any]:
    """The SARIF log: a run for each of ruff, flake8, mypy, bandit and pylint (empty runs
    included)."""
    runs = []
    for tool, uri in _TOOLS.items():
        findings = [f for f in report.findings if f.tool == tool and f.path]
        rules: dict[str, int] = {}
        rule_list: list[dict[str, Any]] = []
        results = []
        for finding in findings:
            if finding.rule not in rules:
                rules[finding.rule] = len(rule_list)
                rule_list.append(_rule(finding))
            results.append(_result(finding, rules[finding.rule]))
        runs.append(
            {
                "tool": {"driver": {"name": tool, "informationUri": uri, "rules": rule_list}},
                "automationDetails": {"id": f"noxops/{tool}/"},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        )
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": runs}
