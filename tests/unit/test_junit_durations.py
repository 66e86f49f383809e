"""reports.junit.durations names each test as pytest does, asking the file system once per
JUnit classname, not once per test: every full tests run reads its report back to keep the
durations (issue #28 item 4: our own CPU per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from noxops.reports.junit import durations


def _report(root: Path) -> Path:
    cases = []
    for i in range(200):
        cases.append(f'<testcase classname="tests.test_calc" name="test_{i}" time="0.5"/>')
        cases.append(f'<testcase classname="tests.test_calc.TestAdd" name="test_{i}" time="1"/>')
    cases.append('<testcase classname="gone.module" name="test_x" time="2"/>')
    cases.append('<testcase classname="" name="bare" time="3"/>')
    cases.append('<testcase classname="tests.test_calc" name="test_0" time="0.25"/>')
    path = root / "junit.xml"
    path.write_text(
        f'<testsuites><testsuite tests="{len(cases)}">{"".join(cases)}</testsuite></testsuites>',
        encoding="utf-8",
    )
    return path


def test_durations_by_pytest_id_asking_once_per_class(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_calc.py").write_text("", encoding="utf-8")
    report = _report(tmp_path)
    asked: list[Path] = []
    is_file = Path.is_file

    def counting(path: Path) -> bool:
        if tmp_path in path.parents:
            asked.append(path)
        return is_file(path)

    monkeypatch.setattr(Path, "is_file", counting)
    found = durations(report, tmp_path)
    assert found["tests/test_calc.py::test_1"] == 0.5
    assert found["tests/test_calc.py::test_0"] == 0.75  # reported twice: added up
    assert found["tests/test_calc.py::TestAdd::test_7"] == 1.0
    assert found["gone.module::test_x"] == 2.0  # no such file: JUnit's own name
    assert found["bare"] == 3.0
    assert len(found) == 402
    # tests/test_calc.py, tests/test_calc/TestAdd.py then tests/test_calc.py again, and the
    # two of gone.module: one question per classname and candidate file, not per test.
    assert len(asked) <= 5, f"{len(asked)} file system questions for 403 tests"
