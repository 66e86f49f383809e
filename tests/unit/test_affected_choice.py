"""Which tests an edit reaches: the line diff and the choice between affected and full runs."""

from __future__ import annotations

import json
import random
from pathlib import Path

from noxops.config import load
from noxops.incremental import affected

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


def test_line_map_of_random_edits_is_consistent() -> None:
    """Whatever the edit (at the start, the end, repeated lines), every untouched line maps to
    an equal line, in order, and every line is either carried or touched."""
    rng = random.Random(18)  # noqa: S311 - reproducible edits, not secrets
    for _ in range(500):
        old = [rng.choice("abc") for _ in range(rng.randint(0, 12))]
        new = list(old)
        for _ in range(rng.randint(1, 3)):
            at = rng.randint(0, len(new))
            kind = rng.choice(("insert", "delete", "replace"))
            if kind == "insert" or not new:
                new.insert(at, rng.choice("abcx"))
            elif kind == "delete":
                del new[min(at, len(new) - 1)]
            else:
                new[min(at, len(new) - 1)] = "x"
        moved, touched = affected.line_map(old, new)
        assert all(old[o - 1] == new[n - 1] for o, n in moved.items()), (old, new, moved)
        pairs = sorted(moved.items())
        assert all(a[1] < b[1] for a, b in zip(pairs, pairs[1:])), (old, new, moved)
        assert set(range(1, len(old) + 1)) <= set(moved) | touched, (old, new, moved, touched)
        if old != new:
            assert touched, (old, new)


def test_line_map_of_a_long_file_compares_only_the_edited_lines() -> None:
    old = [f"line {n}" for n in range(20000)]
    new = [*old[:9000], "edited", *old[9001:]]
    moved, touched = affected.line_map(old, new)
    assert touched == {9001} and len(moved) == 19999 and moved[20000] == 20000


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
    # That line ran while the tests were collected: which tests exist may differ now.
    assert not chosen.narrow


def test_collection_is_narrowed_only_when_no_changed_line_ran_at_collection(
    tmp_path: Path,
) -> None:
    root, module = _snapshot(tmp_path)
    config = load(root)
    original = module.read_text()
    module.write_text(original.replace("return 2", "return 3"))  # ran in test_g only
    body = affected.choose(config, "tests-3.11", "k")
    assert body.narrow and body.whole == []
    # A changed test file is collected whole: its new tests are not in the map.
    test_file = root / "tests" / "test_demo.py"
    test_file.write_text(test_file.read_text() + "def test_h(): ...\n")
    with_test = affected.choose(config, "tests-3.11", "k")
    assert with_test.narrow and with_test.whole == ["tests/test_demo.py"]
    module.write_text(original.replace("def g():", "def g():  # edited"))  # ran on import
    assert not affected.choose(config, "tests-3.11", "k").narrow


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
