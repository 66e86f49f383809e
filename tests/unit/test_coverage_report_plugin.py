"""The per-Python coverage XML, written by noxops's pytest plugin at the end of a real
``coverage run -m pytest`` (in the pytest process), and the script the session falls back on."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support.plugin import write_plugin

from noxops.incremental import affected

coverage = pytest.importorskip("coverage")

MODULE = """\
def half(n):
    if n % 2:
        return None
    return n // 2


def unused():
    return 1
"""
TEST = """\
from calc import half


def test_half():
    assert half(4) == 2
"""


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (root / "calc.py").write_text(MODULE, encoding="utf-8")
    (root / "test_calc.py").write_text(TEST, encoding="utf-8")
    write_plugin(tmp_path / "plugins")
    return root


def _script(tmp_path: Path, root: Path, xml: Path) -> subprocess.CompletedProcess[str]:
    """The session's fallback: the same module, run as a script on the saved data."""
    module = tmp_path / "plugins" / f"{affected.COVERAGE_MODULE}.py"
    argv = [sys.executable, str(module), "xml", str(xml)]
    env = _env(tmp_path)
    return subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, check=False)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    # Not measured by the coverage of this test run (its subprocess patch), only by its own.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    env.update(PYTHONPATH=str(tmp_path / "plugins"), COVERAGE_FILE=str(tmp_path / "data"))
    env.update(extra)
    return env


def _run(root: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "coverage", "run", "--source=calc", "-m", "pytest", "-q",
            "-p", "no:cacheprovider", "-p", affected.PLUGIN]  # fmt: skip
    return subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, check=False)


def _lines(xml: Path) -> list[tuple[str, str]]:
    """(line number, hits) of every line in a Cobertura report."""
    text = xml.read_text(encoding="utf-8")
    return re.findall(r'<line number="(\d+)" hits="(\d+)"', text)


def test_the_plugin_writes_the_report_the_script_would(tmp_path: Path) -> None:
    root = _project(tmp_path)
    xml = tmp_path / "coverage-3.x.xml"
    run = _run(root, _env(tmp_path, **{affected.REPORT_ENV: str(xml)}))
    assert run.returncode == 0, run.stdout + run.stderr
    assert xml.is_file() and not Path(f"{xml}.partial").exists()
    # Lines 1-4 ran (the odd branch's return did not), the unused function's body did not.
    assert _lines(xml) == [("1", "1"), ("2", "1"), ("3", "0"), ("4", "1"), ("7", "1"),
                           ("8", "0")]  # fmt: skip

    # The same report as the session's script makes from the data file coverage saved.
    again = tmp_path / "again.xml"
    script = _script(tmp_path, root, again)
    assert script.returncode == 0, script.stdout + script.stderr
    assert _lines(again) == _lines(xml)
    packages = [x.read_text(encoding="utf-8").split("<packages>")[1] for x in (xml, again)]
    assert packages[0] == packages[1]


def test_a_report_that_cannot_be_written_leaves_the_run_and_its_data_alone(
    tmp_path: Path,
) -> None:
    root = _project(tmp_path)
    xml = tmp_path / "coverage.xml"
    xml.mkdir()  # a folder in the way: the report cannot take its place
    run = _run(root, _env(tmp_path, **{affected.REPORT_ENV: str(xml)}))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout
    assert xml.is_dir() and not list(xml.iterdir())
    assert not Path(f"{xml}.partial").exists()
    data = coverage.CoverageData(basename=str(tmp_path / "data"))
    data.read()
    assert sorted(data.lines(str(root / "calc.py")) or []) == [1, 2, 4, 7]
    # The session's script then says why, in one line, and leaves nothing half-written.
    script = _script(tmp_path, root, xml)
    assert script.returncode == 1 and script.stderr.startswith("noxops: "), script.stderr
    assert str(xml) in script.stderr and "Traceback" not in script.stderr, script.stderr
    assert not Path(f"{xml}.partial").exists() and not list(xml.iterdir())


def test_without_the_variable_the_plugin_writes_no_report(tmp_path: Path) -> None:
    root = _project(tmp_path)
    run = _run(root, _env(tmp_path))
    assert run.returncode == 0, run.stdout + run.stderr
    assert not list(tmp_path.rglob("*.xml"))


UNUSED_TEST = """\
from calc import unused


def test_unused():
    assert unused() == 1
"""


def test_parallel_data_is_this_runs_own_combined_by_the_script(tmp_path: Path) -> None:
    """[run] parallel = true (issue #24, item 10): every run saves a file of its own beside
    the data file (``data.<host>.<pid>.<random>``). The session erases that prefix's files
    before the run, so an earlier run's (here: one that ran unused()) never joins this one's,
    and the script combines this run's into the data file and writes the XML from it (the
    plugin leaves it to the script: worker processes save when `coverage run` ends)."""
    from noxops.stages.tests import _erase_data

    root = _project(tmp_path)
    (root / ".coveragerc").write_text("[run]\nparallel = True\n", encoding="utf-8")
    data, xml = tmp_path / "data", tmp_path / "coverage-3.x.xml"
    env = _env(tmp_path, **{affected.REPORT_ENV: str(xml)})
    (root / "test_unused.py").write_text(UNUSED_TEST, encoding="utf-8")
    earlier = _run(root, env)
    assert earlier.returncode == 0, earlier.stdout + earlier.stderr
    (root / "test_unused.py").unlink()
    assert [p.name.startswith("data.") for p in tmp_path.glob("data*")] == [True]

    _erase_data(data)
    run = _run(root, env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert not xml.exists()  # left to the script
    script = _script(tmp_path, root, xml)
    assert script.returncode == 0, script.stdout + script.stderr
    assert sorted(p.name for p in tmp_path.glob("data*")) == ["data"]
    # this run's lines only: unused() ran in the earlier run, not in this one
    assert _lines(xml) == [("1", "1"), ("2", "1"), ("3", "0"), ("4", "1"), ("7", "1"),
                           ("8", "0")]  # fmt: skip
