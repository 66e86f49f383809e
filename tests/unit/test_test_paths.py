"""Each test stage leaves out the folders the other test stages declare (issue #24, item 9):
with ``[tool.noxops.tests] paths = ["tests"]`` the unit tests had collected tests/smoke, whose
conftest.py needs the smoke stage's ``base_url``."""

from __future__ import annotations

from pathlib import Path

from noxops.config import Config, load
from noxops.stages import STAGES
from noxops.stages.base import ignore_others


def _project(tmp_path: Path, *folders: str, smoke: str = "") -> Config:
    text = '[project]\nname = "svc"\n\n[tool.noxops.tests]\npaths = ["tests"]\n'
    if smoke:
        text += f'\n[tool.noxops.image.smoke]\ntests = "{smoke}"\n'
    (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")
    for folder in folders:
        (tmp_path / folder).mkdir(parents=True)
    return load(tmp_path)


def _paths(config: Config, stage: str) -> list[str]:
    declared = STAGES[stage].test_paths
    assert declared is not None, f"{stage} declares no test paths"
    return declared(config)


def _ignored(config: Config, stage: str) -> list[str]:
    return ignore_others(config, stage, _paths(config, stage))


def test_the_unit_tests_leave_integration_and_smoke_out(tmp_path: Path) -> None:
    config = _project(tmp_path, "tests/unit", "tests/integration", "tests/smoke")
    assert _ignored(config, "tests") == ["--ignore=tests/integration", "--ignore=tests/smoke"]
    assert _paths(config, "integration") == ["tests/integration"]
    assert _ignored(config, "integration") == []  # nothing of the others' inside it
    assert _ignored(config, "smoke") == []


def test_only_folders_that_exist_and_lie_inside_the_stages_own(tmp_path: Path) -> None:
    """Without tests/integration, integration runs the tests' paths, smoke still left out;
    a configured smoke folder is the one left out; a folder outside the paths is not named."""
    config = _project(tmp_path, "tests/unit", "tests/e2e", "tests/smoke", smoke="tests/e2e")
    assert _ignored(config, "tests") == ["--ignore=tests/e2e"]
    assert _ignored(config, "integration") == ["--ignore=tests/e2e"]
    unit_only = ignore_others(config, "tests", ["tests/unit"])
    assert unit_only == []
