"""The opt-in pylint stage on the broken fixture, by real nox: its findings reach the report
as advisory (shown, with path and line, in every format) and the gate still passes; a
project that makes pylint blocking fails it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.noxrun import copy_fixture, run_nox, set_noxops

pytestmark = pytest.mark.slow
pytest.importorskip("nox")


def _enable(project: Path) -> None:
    pyproject = set_noxops(project, 'default_sessions = ["pylint"]')
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(text + "\n[tool.noxops.pylint]\nenabled = true\n", "utf-8")


def test_pylint_findings_are_advisory(tmp_path: Path) -> None:
    project = copy_fixture("broken_project", tmp_path)
    _enable(project)
    listed = run_nox(project, "-l")
    assert "* pylint -> Run pylint" in listed.output, listed
    run = run_nox(project, "-s", "pylint", "report")
    assert run.returncode == 0, run
    assert "Session pylint was successful" in run.output
    summary = json.loads((project / "reports" / "summary.json").read_text(encoding="utf-8"))
    [check] = [c for c in summary["checks"] if c["name"] == "pylint"]
    assert (check["status"], check["mode"], check["blocks"]) == ("failed", "advisory", False)
    assert summary["passed"] is True
    assert summary["verdict"].endswith("advisory: pylint"), summary["verdict"]
    rules = {(f["rule"], f["path"], f["line"]) for f in check["findings"]}
    # greeting() (line 9) has no docstring: convention C0116 (missing-function-docstring).
    assert ("C0116", "src/broken/__init__.py", 9) in rules, rules
    assert all(f["tool"] == "pylint" for f in check["findings"])
    sarif = json.loads((project / "reports" / "noxops.sarif").read_text(encoding="utf-8"))
    assert any(r["ruleId"] == "C0116" for run_ in sarif["runs"] for r in run_["results"])
    page = (project / "reports" / "report.html").read_text(encoding="utf-8")
    assert "src/broken/__init__.py:9" in page

    with (project / "pyproject.toml").open("a", encoding="utf-8") as fh:
        fh.write('[tool.noxops.report]\nchecks = { pylint = "blocking" }\n')
    blocking = run_nox(project, "-s", "report")
    assert blocking.returncode != 0, blocking
    assert "1 blocking check(s) failed: pylint" in blocking.output
