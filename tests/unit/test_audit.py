"""The dependency audit never reports "no known vulnerabilities" unless it really checked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from noxops.runtime import inject
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


def _dist(site: Path, name: str, version: str, *requires: str) -> None:
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {r}" for r in requires]
    (info / "METADATA").write_text("\n".join(lines) + "\n")


def test_requirements_behind_extras_are_audited(tmp_path: Path) -> None:
    """``psycopg[binary]`` installs psycopg-binary: it is in what pip-audit checks."""
    site = tmp_path / "site"
    _dist(site, "app", "1.0", "psycopg[binary]>=3", 'pytest; extra == "dev"')
    _dist(site, "psycopg", "3.2.1", 'psycopg-binary==3.2.1; extra == "binary"',
          'psycopg-c==3.2.1; extra == "c"', "typing-extensions>=4")  # fmt: skip
    _dist(site, "psycopg-binary", "3.2.1")
    _dist(site, "psycopg-c", "3.2.1")
    _dist(site, "typing-extensions", "4.12.0")
    _dist(site, "pytest", "8.0.0")
    script = inject.copy("noxops_list_deps.py", tmp_path)
    out = subprocess.run(
        [sys.executable, "-S", str(script), "app"], capture_output=True, text=True, check=True,
        env={"PYTHONPATH": str(site)},
    ).stdout.split()  # fmt: skip
    assert "psycopg==3.2.1" in out
    assert "psycopg-binary==3.2.1" in out  # behind the extra the project asks for
    assert "typing-extensions==4.12.0" in out
    assert "psycopg-c==3.2.1" not in out  # an extra nobody asked for
    assert "pytest==8.0.0" not in out  # the project's own optional extra
