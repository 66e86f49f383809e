"""The merge of an affected run's coverage with the last full run's, run as the fallback
script (the plugin calls the same merge() inside the pytest process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from noxops.incremental import affected
from noxops.runtime import inject

coverage = pytest.importorskip("coverage")


def test_the_script_carries_the_full_runs_lines_across_the_edit_and_adds_the_new_run(
    tmp_path: Path,
) -> None:
    module = tmp_path / "mod.py"
    module.write_text("".join(f"x{n} = {n}\n" for n in range(1, 11)), encoding="utf-8")
    path = str(module)
    full = coverage.CoverageData(basename=str(tmp_path / "full.coverage"))
    full.add_lines({path: [1, 2, 3, 4, 5]})
    full.write()
    new = coverage.CoverageData(basename=str(tmp_path / "new.coverage"))
    new.add_lines({path: [9]})
    new.write()
    # The edit: old line 3 changed (dropped), old 4 and 5 moved down by one.
    maps = tmp_path / "maps.json"
    maps.write_text(json.dumps({path: {"1": 1, "2": 2, "4": 5, "5": 6}}), encoding="utf-8")
    script = inject.copy(f"{affected.COVERAGE_MODULE}.py", tmp_path)
    out, xml = tmp_path / "merged.coverage", tmp_path / "coverage.xml"

    inputs = [tmp_path / "full.coverage", tmp_path / "new.coverage", maps, out, xml]
    argv = [sys.executable, str(script), "merge", *map(str, inputs)]
    subprocess.run(argv, check=True, cwd=tmp_path)

    merged = coverage.CoverageData(basename=str(out))
    merged.read()
    assert sorted(merged.lines(path) or []) == [1, 2, 5, 6, 9]
    assert 'filename="mod.py"' in xml.read_text(encoding="utf-8")


def test_the_map_of_a_full_run_and_its_data_without_contexts(tmp_path: Path) -> None:
    path = str(tmp_path / "mod.py")
    data = coverage.CoverageData(basename=str(tmp_path / "run.coverage"))
    data.set_context("")
    data.add_lines({path: [1, 2]})
    for test, lines in {"t.py::test_a": [3, 4], "t.py::test_b": [4, 6]}.items():
        data.set_context(test)
        data.add_lines({path: lines})
    data.write()
    script = inject.copy(f"{affected.COVERAGE_MODULE}.py", tmp_path)
    mapping, plain = tmp_path / "map.json", tmp_path / "plain.coverage"
    argv = [sys.executable, str(script), "map", str(tmp_path / "run.coverage"), str(mapping),
            str(plain)]  # fmt: skip
    subprocess.run(argv, check=True, cwd=tmp_path)

    found = json.loads(mapping.read_text(encoding="utf-8"))
    assert found["contexts"] == ["", "t.py::test_a", "t.py::test_b"]
    assert found["files"][path] == {"1": [0], "2": [0], "3": [1], "4": [1, 2], "6": [2]}
    kept = coverage.CoverageData(basename=str(plain))
    kept.read()
    assert sorted(kept.lines(path) or []) == [1, 2, 3, 4, 6]
    assert kept.measured_contexts() == {""}  # one row per file to read in each merge
