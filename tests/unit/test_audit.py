"""The dependency audit never reports "no known vulnerabilities" unless it really checked."""

from __future__ import annotations

from typing import Any

import pytest

from noxops.stages.security import CANARY, classify_audit

VULNERABLE_CANARY: dict[str, Any] = {
    "dependencies": [{"name": "requests", "version": "2.5.0", "vulns": [{"id": "PYSEC-2015-17"}]}]
}
BLIND_CANARY: dict[str, Any] = {
    "dependencies": [{"name": "requests", "version": "2.5.0", "vulns": []}]
}
CLEAN: dict[str, Any] = {"dependencies": [{"name": "attrs", "version": "24.1.0", "vulns": []}]}


@pytest.mark.parametrize(
    ("project", "canary", "status"),
    [
        (CLEAN, VULNERABLE_CANARY, "audited"),
        (CLEAN, BLIND_CANARY, "not-audited"),  # "no known vulnerabilities" while auditing nothing
        (
            {"dependencies": [{"name": "attrs", "skip_reason": "Dependency not found on PyPI"}]},
            VULNERABLE_CANARY,
            "not-audited",
        ),
        (
            {
                "dependencies": [
                    {"name": "x", "version": "1", "vulns": [{"id": "CVE-1", "fix_versions": ["2"]}]}
                ]
            },
            BLIND_CANARY,
            "vulnerable",
        ),
        ({"dependencies": []}, VULNERABLE_CANARY, "audited"),
        ({"dependencies": []}, BLIND_CANARY, "not-audited"),
    ],
)
def test_classification(project: dict[str, Any], canary: dict[str, Any], status: str) -> None:
    assert classify_audit(project, canary).status == status


def test_summaries_say_what_happened() -> None:
    blind = classify_audit(CLEAN, BLIND_CANARY)
    assert blind.summary.startswith("dependency audit: NOT AUDITED:")
    assert CANARY in blind.summary
    skipped = classify_audit(
        {
            "dependencies": [
                {"name": "a", "skip_reason": "nope"},
                {"name": "b", "version": "1", "vulns": []},
            ]
        },
        VULNERABLE_CANARY,
    )
    assert "1 of 2 packages could not be looked up (first: a: nope)" in skipped.summary
    vulnerable = classify_audit(
        {
            "dependencies": [
                {"name": "x", "version": "1", "vulns": [{"id": "CVE-1", "fix_versions": ["2"]}]}
            ]
        },
        VULNERABLE_CANARY,
    )
    assert "x 1: CVE-1 (fixed in 2)" in vulnerable.summary
    assert classify_audit(CLEAN, VULNERABLE_CANARY).summary.endswith("no known vulnerabilities")
