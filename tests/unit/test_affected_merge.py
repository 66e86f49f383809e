"""The merge of an affected run's coverage with the last full run's, run as the fallback
script (the plugin calls the same merge() inside the pytest process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from noxops import affected

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
    script = tmp_path / f"{affected.MERGE_MODULE}.py"
    script.write_text(affected.MERGE_SOURCE, encoding="utf-8")
    out, xml = tmp_path / "merged.coverage", tmp_path / "coverage.xml"

    inputs = [tmp_path / "full.coverage", tmp_path / "new.coverage", maps, out, xml]
    subprocess.run([sys.executable, str(script), *map(str, inputs)], check=True, cwd=tmp_path)

    merged = coverage.CoverageData(basename=str(out))
    merged.read()
    assert sorted(merged.lines(path) or []) == [1, 2, 5, 6, 9]
    assert 'filename="mod.py"' in xml.read_text(encoding="utf-8")
