"""Files a full run's tests write into the project (HTML, logs, caches) are the run's output,
not its input: a later run selects the affected tests whether they are there (the same work
tree) or not (a fresh checkout, as in CI), and a real edit is still seen."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from support.plugin import write_plugin

from noxops.config import load
from noxops.incremental import affected

SESSION = "tests-3.11"
PYPROJECT = """\
[project]
name = "demo"
version = "1.0"

[tool.pytest.ini_options]
pythonpath = ["src"]
"""
MODULE = "def f():\n    return 1\n\n\ndef g():\n    return 2\n"
TESTS = """\
from pathlib import Path

from demo import f, g


def test_f():
    # As pyparsing's examples do: a diagram written into the work tree.
    (Path(__file__).parents[1] / "diagram.html").write_text("<html>%d</html>" % f())
    assert f() == 1


def test_g():
    assert g() == 2
"""


def _full_run(root: Path, work: Path) -> None:
    """What tests-<python> does for a full run: choose, pytest under coverage with a context
    per test (noxops's plugin), the map, and keep_full_run."""
    config = load(root)
    selection = affected.choose(config, SESSION, "k")
    assert not selection.affected, selection.why
    plugins = write_plugin(work / "plugins")
    data, results = work / "run.coverage", work / "results.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE_", "NOXOPS_"))}
    env.update(PYTHONPATH=str(plugins), COVERAGE_FILE=str(data), COVERAGE_CORE="ctrace")
    env.update({affected.CONTEXTS_ENV: "1", affected.RESULTS_ENV: str(results)})
    argv = [sys.executable, "-m", "coverage", "run", "--source=src", "-m", "pytest",
            "-p", "no:cacheprovider", "-p", affected.PLUGIN, "tests"]  # fmt: skip
    run = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    mapping, plain = work / "map.json", work / "plain.coverage"
    module = str(plugins / f"{affected.COVERAGE_MODULE}.py")
    subprocess.run([sys.executable, module, "map", str(data), str(mapping), str(plain)],
                   cwd=root, env=env, check=True)  # fmt: skip
    affected.keep_full_run(
        config, SESSION, base="k", before=selection.before, mapping=mapping, data=plain,
        results=json.loads(results.read_text(encoding="utf-8")),
    )  # fmt: skip


def test_files_the_full_run_wrote_do_not_make_every_later_run_full(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    (root / "src" / "demo").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "tests" / "data.txt").write_text("input\n")  # read by no test, but an input
    module = root / "src" / "demo" / "__init__.py"
    module.write_text(MODULE)
    (root / "tests" / "test_demo.py").write_text(TESTS)
    _full_run(root, tmp_path)
    assert (root / "diagram.html").is_file()
    module.write_text(MODULE.replace("return 2", "return 3"))  # the change to test

    # The same work tree, the diagram still there.
    same = affected.choose(load(root), SESSION, "k")
    assert same.affected, same.why
    assert same.run == ["tests/test_demo.py::test_g"]

    # A fresh checkout at the same place (CI): no diagram.
    used = tmp_path / "used"
    root.rename(used)
    shutil.copytree(used, root, ignore=shutil.ignore_patterns("diagram.html"))
    fresh = affected.choose(load(root), SESSION, "k")
    assert fresh.affected, fresh.why
    assert fresh.run == ["tests/test_demo.py::test_g"]

    # A file the run did not write is still an input: an edit to it runs every test.
    (root / "tests" / "data.txt").write_text("edited\n")
    edited = affected.choose(load(root), SESSION, "k")
    assert not edited.affected and "tests/data.txt changed" in edited.why


def test_a_source_edited_while_the_full_run_ran_is_not_taken_as_run(tmp_path: Path) -> None:
    """The map is of the source as the tests ran it: edited since (by hand, or by a test),
    it is never taken for output, and the next run is a full one."""
    root = tmp_path / "demo"
    (root / "src" / "demo").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT)
    module = root / "src" / "demo" / "__init__.py"
    module.write_text(MODULE)
    (root / "tests" / "test_demo.py").write_text(TESTS)
    config = load(root)
    before = affected.choose(config, SESSION, "k").before
    module.write_text(MODULE.replace("return 2", "return 3"))  # while the tests ran
    mapping, data = tmp_path / "map.json", tmp_path / "plain.coverage"
    contexts = ["", "tests/test_demo.py::test_f", "tests/test_demo.py::test_g"]
    lines = {"1": [0], "2": [1], "5": [0], "6": [2]}
    mapping.write_text(json.dumps({"contexts": contexts, "files": {str(module): lines}}))
    data.write_bytes(b"")
    affected.keep_full_run(
        config, SESSION, base="k", before=before, mapping=mapping, data=data,
        results={"collected": contexts[1:], "failed": []},
    )  # fmt: skip
    later = affected.choose(config, SESSION, "k")
    assert not later.affected and "src/demo/__init__.py" in later.why, later
