"""Which tests an edit reaches: the line diff and the choice between affected and full runs."""

from __future__ import annotations

import json
from pathlib import Path

from noxops import affected
from noxops.config import load

PYPROJECT = """\
[project]
name = "demo"
version = "1.0"
"""


def test_line_map_carries_untouched_lines_and_names_the_touched_ones() -> None:
    old = ["a", "b", "c", "d"]
    moved, touched = affected.line_map(old, ["a", "B", "c", "x", "d"])
    assert moved == {1: 1, 3: 3, 4: 5}
    assert touched == {2, 3, 4}  # b replaced; an insertion before d touches c and d


def _snapshot(tmp_path: Path, *, base: str = "k") -> tuple[Path, Path]:
    root = tmp_path / "demo"
    (root / "src" / "demo").mkdir(parents=True)
    (root / "tests").mkdir()
    module = root / "src" / "demo" / "__init__.py"
    module.write_text("X = 1\n\ndef f():\n    return 1\n\ndef g():\n    return 2\n")
    (root / "tests" / "test_demo.py").write_text("def test_f(): ...\ndef test_g(): ...\n")
    (root / "pyproject.toml").write_text(PYPROJECT)
    config = load(root)
    folder = affected.map_dir(config, "tests-3.11")
    (folder / "sources").mkdir(parents=True)
    path = str(module)
    (folder / "sources" / affected._safe(path)).write_text(module.read_text())
    contexts = ["", "tests/test_demo.py::test_f", "tests/test_demo.py::test_g"]
    lines = {"1": [0], "3": [0], "4": [1], "6": [0], "7": [2]}
    (folder / "map.json").write_text(json.dumps({"contexts": contexts, "files": {path: lines}}))
    meta = {
        "base": base,
        "finished": "then",
        "digests": affected.file_digests(config),
        "tests": contexts[1:],
        "failed": [],
    }
    (folder / "meta.json").write_text(json.dumps(meta))
    return root, module


def test_an_edit_selects_the_tests_that_ran_the_line(tmp_path: Path) -> None:
    root, module = _snapshot(tmp_path)
    config = load(root)
    assert affected.choose(config, "tests-3.11", "k").run == []  # nothing changed
    module.write_text(module.read_text().replace("return 2", "return 3"))
    chosen = affected.choose(config, "tests-3.11", "k")
    assert chosen.affected and chosen.run == ["tests/test_demo.py::test_g"]
    assert chosen.known == ["tests/test_demo.py::test_f", "tests/test_demo.py::test_g"]


def test_module_level_edits_select_every_test_of_the_file(tmp_path: Path) -> None:
    root, module = _snapshot(tmp_path)
    module.write_text(module.read_text().replace("X = 1", "X = 2"))
    chosen = affected.choose(load(root), "tests-3.11", "k")
    assert chosen.run == ["tests/test_demo.py::test_f", "tests/test_demo.py::test_g"]


def test_a_full_run_when_in_doubt(tmp_path: Path) -> None:
    root, _ = _snapshot(tmp_path)
    config = load(root)
    assert not affected.choose(config, "tests-3.11", "other").affected  # configuration
    (root / "data.json").write_text("{}")
    unknown = affected.choose(config, "tests-3.11", "k")
    assert not unknown.affected and "data.json" in unknown.why
    (root / "data.json").unlink()
    (root / "tests" / "conftest.py").write_text("")
    assert "conftest.py" in affected.choose(config, "tests-3.11", "k").why
    (root / "tests" / "conftest.py").unlink()
    (root / "README.md").write_text("docs\n")  # documentation: no test reads it
    assert affected.choose(config, "tests-3.11", "k").affected
    assert not affected.choose(config, "tests-3.12", "k").affected  # no map for 3.12
