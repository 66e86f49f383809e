"""Real nox runs: the per-Python coverage XML comes from the pytest process, and from the
session's script when the plugin could not write it."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("nox")

from support.noxrun import copy_fixture, run_nox, set_noxops

from noxops.project import interpreters

pytestmark = pytest.mark.skipif(
    interpreters.find("3.11") is None, reason="needs Python 3.11 on this machine"
)

# A project's conftest that takes the plugin's instruction away: the plugin writes nothing.
NO_REPORT = 'import os\n\nos.environ.pop("NOXOPS_TEST_REPORT", None)\n'


def _project(tmp_path: Path) -> Path:
    project = copy_fixture("clean_project", tmp_path)
    set_noxops(project, 'python = ["3.11"]', 'tools_python = "3.11"')
    return project


def test_the_report_is_written_in_the_pytest_process_or_else_by_the_script(
    tmp_path: Path,
) -> None:
    project = _project(tmp_path)
    xml = project / "reports" / "coverage-3.11.xml"

    plugin = run_nox(project, "-s", "tests-3.11")
    assert plugin.returncode == 0, str(plugin)
    assert "noxops_coverage.py xml" not in plugin.output, str(plugin)
    written = xml.read_text(encoding="utf-8")
    assert 'filename="src/calc/__init__.py"' in written, written

    (project / "tests" / "unit" / "conftest.py").write_text(NO_REPORT, encoding="utf-8")
    script = run_nox(project, "-s", "tests-3.11")
    assert script.returncode == 0, str(script)
    assert "noxops_coverage.py xml" in script.output, str(script)
    # The same report, from the data file (the plugin removed last run's before this one).
    rewritten = xml.read_text(encoding="utf-8")
    assert 'filename="src/calc/__init__.py"' in rewritten, rewritten
    assert rewritten.split("<packages>")[1] == written.split("<packages>")[1]
