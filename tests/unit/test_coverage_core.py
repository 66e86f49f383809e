"""Which coverage core the tests stage asks for: sys.monitoring only where it measures the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from noxops.config import Config, load
from noxops.stages.tests import coverage_core

SYSMON = {"COVERAGE_CORE": "sysmon"}


def _config(tmp_path: Path, extra: str = "") -> Config:
    (tmp_path / "pyproject.toml").write_text(f'[project]\nname = "p"\n{extra}')
    return load(tmp_path)


@pytest.mark.parametrize(
    ("python", "expected"),
    [("3.9", {}), ("3.10", {}), ("3.11", {}), ("3.12", SYSMON), ("3.13", SYSMON), ("3.14", {})],
)
def test_sysmon_on_3_12_and_3_13_only(
    tmp_path: Path, python: str, expected: dict[str, str]
) -> None:
    assert coverage_core(_config(tmp_path), python, {}) == expected


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("pyproject.toml", "[tool.coverage.run]\nbranch = true\n"),
        ("pyproject.toml", '[tool.coverage.run]\ncore = "ctrace"\n'),
        (".coveragerc", "[run]\nbranch = True\n"),
        ("setup.cfg", "[coverage:run]\nbranch = True\n"),
        ("tox.ini", "[coverage:run]\ntimid = True\n"),
    ],
)
def test_not_when_the_project_measures_branches_or_picks_a_core(
    tmp_path: Path, name: str, text: str
) -> None:
    if name == "pyproject.toml":
        config = _config(tmp_path, text)
    else:
        config = _config(tmp_path)
        (tmp_path / name).write_text(text)
    assert coverage_core(config, "3.12", {}) == {}


def test_unrelated_branch_keys_and_the_environment(tmp_path: Path) -> None:
    config = _config(tmp_path, '[tool.release]\nbranch = "main"\n')
    (tmp_path / "setup.cfg").write_text("[metadata]\nbranch = main\n")
    assert coverage_core(config, "3.13", {}) == SYSMON
    assert coverage_core(config, "3.13", {"COVERAGE_CORE": "ctrace"}) == {}
    assert coverage_core(config, "3.13", {"COVERAGE_RCFILE": "x.ini"}) == {}
