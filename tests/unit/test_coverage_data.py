"""Coverage data measured in another checkout (a CI job's tests in another runner slot):
the folder it was measured in travels inside the data file, and the coverage stage reads its
files as this folder's (noxops.reports.coveragedata)."""

from __future__ import annotations

from pathlib import Path

import pytest

from noxops.errors import NoxopsError
from noxops.reports import coveragedata

coverage = pytest.importorskip("coverage")


def _data(path: Path, lines: dict[str, list[int]], arcs: bool = False) -> Path:
    data = coverage.CoverageData(basename=str(path))
    if arcs:
        data.add_arcs({name: [(-1, n) for n in found] for name, found in lines.items()})
    else:
        data.add_lines(lines)
    data.write()
    return path


def _lines(path: Path) -> dict[str, list[int]]:
    data = coverage.CoverageData(basename=str(path))
    data.read()
    return {name: sorted(data.lines(name) or []) for name in data.measured_files()}


def test_the_origin_travels_inside_the_data_and_coverage_still_reads_it(tmp_path: Path) -> None:
    slot = "/builds/t1/0/acme/shop"
    data = _data(tmp_path / ".coverage.3.12", {f"{slot}/src/shop/cart.py": [1, 2, 5]})
    assert coveragedata.origin(data) is None  # coverage's own file: no origin yet
    assert coveragedata.mark_origin(data, Path(slot))
    assert coveragedata.origin(data) == slot
    assert _lines(data) == {f"{slot}/src/shop/cart.py": [1, 2, 5]}  # coverage reads it as before


def test_a_file_that_is_not_coverage_data_has_no_origin_and_gets_none(tmp_path: Path) -> None:
    other = tmp_path / ".coverage.3.12"
    other.write_text("not a database\n", encoding="utf-8")
    assert not coveragedata.mark_origin(other, tmp_path)
    assert coveragedata.origin(other) is None
    assert other.read_text(encoding="utf-8") == "not a database\n"
    assert not coveragedata.mark_origin(tmp_path / "missing", tmp_path)
    assert not (tmp_path / "missing").exists()  # never created


@pytest.mark.parametrize("arcs", [False, True], ids=["lines", "arcs"])
def test_relocate_moves_only_the_files_under_the_old_folder(tmp_path: Path, arcs: bool) -> None:
    old, new = "/builds/t1/0/acme/shop", "/builds/t1/2/acme/shop"
    source = _data(
        tmp_path / "source",
        {
            f"{old}/src/shop/cart.py": [1, 2, 5],
            f"{old}/tests/test_cart.py": [1, 3],
            f"{old}2/src/other.py": [4],  # a sibling folder whose name starts the same
            "/usr/lib/python3/dist-packages/six.py": [7],
        },
        arcs=arcs,
    )
    coveragedata.mark_origin(source, Path(old))
    target = tmp_path / "target"
    assert coveragedata.relocate(source, target, old, new) == 2
    assert _lines(target) == {
        f"{new}/src/shop/cart.py": [1, 2, 5],
        f"{new}/tests/test_cart.py": [1, 3],
        f"{old}2/src/other.py": [4],
        "/usr/lib/python3/dist-packages/six.py": [7],
    }
    assert coveragedata.origin(target) == new
    assert coveragedata.origin(source) == old  # the run's own file is left as it was
    assert f"{old}/src/shop/cart.py" in _lines(source)


def test_a_file_that_cannot_be_relocated_says_what_and_leaves_no_copy(tmp_path: Path) -> None:
    source = tmp_path / ".coverage.3.12"
    source.write_text("not a database\n", encoding="utf-8")
    target = tmp_path / "copy"
    with pytest.raises(
        NoxopsError, match=r"measured in /a, could not be moved to /b: .*nox -s tests"
    ):
        coveragedata.relocate(source, target, "/a", "/b")
    assert not target.exists()
