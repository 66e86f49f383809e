"""What the functional tests share across a run."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.example_ci import build_noxops_wheel


@pytest.fixture(scope="session")
def noxops_wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding this checkout's noxops wheel, built once per run (the CI files'
    jobs find it through ``UV_FIND_LINKS``: noxops is not published)."""
    wheels = tmp_path_factory.mktemp("noxops-wheels")
    build_noxops_wheel(wheels)
    return wheels
