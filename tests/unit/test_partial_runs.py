"""Arguments for pytest after ``--`` that keep the suite from running are a partial run
(:func:`noxops.incremental.affected.partial_selection`), so the report never shows their exit code
0 as the suite's result."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from noxops.incremental import affected

# pytest exits 0 with each of these and runs no test: only fixtures are set up, or shown.
RUN_NOTHING = ["--setup-only", "--setup-plan", "--fixtures", "--fixtures-per-test"]


@pytest.mark.parametrize("option", RUN_NOTHING)
def test_options_that_run_no_test_make_a_partial_run(tmp_path: Path, option: str) -> None:
    (tmp_path / "test_it.py").write_text("def test_fails():\n    assert False\n")
    junit = tmp_path / "junit.xml"
    argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={junit}"]
    done = subprocess.run(
        [*argv, option], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr  # a failing test, yet exit 0
    assert "<failure" not in junit.read_text(encoding="utf-8")
    selection = affected.partial_selection(["-v", option])
    assert selection is not None and selection.why == option
