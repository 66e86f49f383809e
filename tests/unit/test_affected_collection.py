"""Narrowed collection in an affected run: noxops's pytest plugin, in a real pytest run,
collects only the test files, classes and functions that hold a test to run, and runs exactly
the tests a full collection would have run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from support.plugin import write_plugin

from noxops.incremental import affected

A = """\
import pytest


class TestOne:
    def test_x(self):
        pass

    def test_y(self):
        pass


class TestTwo:
    def test_z(self):
        pass


@pytest.mark.parametrize("n", [1, 2])
def test_p(n):
    pass


def test_q():
    pass
"""
# Imported only when collected: it says so in the marker file.
B = """\
import os

with open(os.environ["IMPORTED"], "a", encoding="utf-8") as fh:
    fh.write("test_b\\n")


def test_b1():
    pass
"""
C = """\
def test_c1():
    pass


def test_c2():
    pass


def test_c_new():  # added since the full run: not in the map
    pass
"""
NEW = """\
def test_new():  # a new test file
    pass
"""
KNOWN = [
    "tests/test_a.py::TestOne::test_x", "tests/test_a.py::TestOne::test_y",
    "tests/test_a.py::TestTwo::test_z", "tests/test_a.py::test_p[1]",
    "tests/test_a.py::test_p[2]", "tests/test_a.py::test_q", "tests/test_b.py::test_b1",
    "tests/test_c.py::test_c1", "tests/test_c.py::test_c2",
]  # fmt: skip
RUN = ["tests/test_a.py::TestOne::test_x", "tests/test_a.py::test_p[2]",
       "tests/test_c.py::test_c1"]  # fmt: skip
# What runs, either way: the chosen tests and every test the map does not know.
EXPECTED = [*RUN, "tests/test_c.py::test_c_new", "tests/test_new.py::test_new"]


def _run(tmp_path: Path, *, narrow: bool) -> tuple[list[str], str, list[str]]:
    """(the tests that ran, pytest's output, the test files imported that say so)."""
    root = tmp_path / ("narrow" if narrow else "wide")
    (root / "tests").mkdir(parents=True)
    (root / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    for name, text in {"test_a": A, "test_b": B, "test_c": C, "test_new": NEW}.items():
        (root / "tests" / f"{name}.py").write_text(text, encoding="utf-8")
    plugins = write_plugin(tmp_path / "plugins")
    plan = root / "selection.json"
    whole = ["tests/test_c.py"]
    plan.write_text(json.dumps({"known": KNOWN, "run": RUN, "narrow": narrow, "whole": whole}))
    results, imported = root / "results.json", root / "imported.txt"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE_", "NOXOPS_"))}
    env.update(PYTHONPATH=str(plugins), IMPORTED=str(imported))
    env.update({affected.SELECT_ENV: str(plan), affected.RESULTS_ENV: str(results)})
    argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", affected.PLUGIN,
            "tests"]  # fmt: skip
    run = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    ran = json.loads(results.read_text(encoding="utf-8"))["collected"]
    marks = imported.read_text(encoding="utf-8").split() if imported.exists() else []
    return sorted(ran), run.stdout, marks


def test_a_narrowed_collection_runs_the_same_tests_and_collects_less(tmp_path: Path) -> None:
    wide, wide_out, wide_imports = _run(tmp_path, narrow=False)
    narrow, narrow_out, narrow_imports = _run(tmp_path, narrow=True)
    assert wide == sorted(EXPECTED)
    assert narrow == wide
    assert "collected 11 items / 6 deselected / 5 selected" in wide_out, wide_out
    # test_b holds none of them: not even imported. In test_a only TestOne and test_p are
    # collected; test_c (changed) and test_new (unknown) in full.
    assert wide_imports == ["test_b"] and narrow_imports == []
    assert "collected 8 items / 3 deselected / 5 selected" in narrow_out, narrow_out
