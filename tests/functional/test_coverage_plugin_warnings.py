"""What noxops's pytest plugin and coverage module do in the project's pytest process leaves no
warning behind, on every Python of the matrix: a project whose pytest settings turn warnings
into errors (``filterwarnings = error``, as strict projects do) passes when its tests do.

Each Python on the machine gets its own environment with coverage and pytest (as the session's
has), and runs a small project with ``[paths]`` in its coverage settings: coverage then reports
from an in-memory copy of the data, whose SQLite connection, left open, warns when it is
collected from Python 3.13 on (pytest's PytestUnraisableExceptionWarning, an error there).

In tests/functional, not tests/unit: it already runs every Python itself, so the repository's
own tests-3.X sessions (tests/unit on each Python) would only repeat it four times.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support.plugin import write_plugin

from noxops.incremental import affected
from noxops.project import interpreters

pytest.importorskip("coverage")

PYTHONS = ("3.9", "3.10", "3.11", "3.12", "3.13")

PYTEST_INI = "[pytest]\nfilterwarnings = error\n"
COVERAGERC = "[paths]\nsource =\n    .\n    */site-packages\n"
MODULE = "def half(n):\n    return n // 2\n"
UNUSED = "def unused():\n    return 1\n"  # in the measured package, run by no test
TEST = "import pkg\nfrom pkg.calc import half\n\n\ndef test_half():\n    assert half(4) == 2\n"


@pytest.fixture(scope="module", params=PYTHONS)
def python(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Python of an environment with coverage and pytest, for each Python of the matrix."""
    version = request.param
    found = interpreters.find(version)
    if found is None:
        pytest.skip(f"needs Python {version} on this machine")
    venv = tmp_path_factory.mktemp(f"venv-{version}")
    subprocess.run([str(found.executable), "-m", "venv", str(venv)], check=True)
    exe = venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    install = [str(exe), "-m", "pip", "install", "-q", "coverage", "pytest"]
    done = subprocess.run(install, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return exe


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "pkg").mkdir(parents=True)
    (root / "pytest.ini").write_text(PYTEST_INI, encoding="utf-8")
    (root / ".coveragerc").write_text(COVERAGERC, encoding="utf-8")
    (root / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (root / "pkg" / "calc.py").write_text(MODULE, encoding="utf-8")
    (root / "pkg" / "unused.py").write_text(UNUSED, encoding="utf-8")
    (root / "test_calc.py").write_text(TEST, encoding="utf-8")
    write_plugin(tmp_path / "plugins")
    return root


def _run(
    python: Path, root: Path, data: Path, source: str = "pkg", **extra: str
) -> subprocess.CompletedProcess[str]:
    # Not measured by the coverage of this test run (its subprocess patch), only by its own;
    # nor steered by the plugin settings of a noxops session this suite may run in (tests-3.X
    # sets NOXOPS_TEST_REPORT for its own pytest).
    prefixes = ("COVERAGE_", "PYTHON", "NOXOPS_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update(PYTHONPATH=str(root.parent / "plugins"), COVERAGE_FILE=str(data), **extra)
    argv = [str(python), "-m", "coverage", "run", f"--source={source}", "-m", "pytest", "-q",
            "-p", "no:cacheprovider", "-p", affected.PLUGIN]  # fmt: skip
    return subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, check=False)


def _files(xml: Path) -> list[str]:
    return sorted(re.findall(r'filename="([^"]+)"', xml.read_text(encoding="utf-8")))


def test_the_report_written_in_the_pytest_process_leaves_no_warning(
    python: Path, tmp_path: Path
) -> None:
    root = _project(tmp_path)
    xml = tmp_path / "coverage.xml"
    run = _run(python, root, tmp_path / "data", **{affected.REPORT_ENV: str(xml)})
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout and "Warning" not in run.stdout + run.stderr, run.stdout
    assert _files(xml) == ["pkg/__init__.py", "pkg/calc.py", "pkg/unused.py"]


def test_the_merge_of_an_affected_run_in_the_pytest_process_leaves_no_warning(
    python: Path, tmp_path: Path
) -> None:
    root = _project(tmp_path)
    full, new, out = tmp_path / "full.data", tmp_path / "new.data", tmp_path / "out.data"
    first = _run(python, root, full)
    assert first.returncode == 0, first.stdout + first.stderr
    maps, xml, results = tmp_path / "maps.json", tmp_path / "coverage.xml", tmp_path / "r.json"
    maps.write_text("{}", encoding="utf-8")  # no measured file changed
    args = json.dumps([str(full), str(new), str(maps), str(out), str(xml)])
    extra = {affected.MERGE_ENV: args, affected.RESULTS_ENV: str(results)}
    run = _run(python, root, new, **extra)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Warning" not in run.stdout + run.stderr, run.stdout
    assert json.loads(results.read_text(encoding="utf-8"))["merged"] is True
    assert _files(xml) == ["pkg/__init__.py", "pkg/calc.py", "pkg/unused.py"]


def test_coverage_s_own_warning_is_shown_and_does_not_cut_the_save_short(
    python: Path, tmp_path: Path
) -> None:
    """A ``--source`` no test imports: ``coverage run`` warns when it saves, after pytest; the
    plugin saves inside pytest, where the project's filterwarnings would make the warning an
    error in the middle of the save (the files no test ran then left out of the data)."""
    root = _project(tmp_path)
    xml = tmp_path / "coverage.xml"
    run = _run(python, root, tmp_path / "data", "pkg,ghost", **{affected.REPORT_ENV: str(xml)})
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Module ghost was never imported" in run.stdout + run.stderr, run.stdout
    assert _files(xml) == ["pkg/__init__.py", "pkg/calc.py", "pkg/unused.py"]
