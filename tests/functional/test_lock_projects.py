"""Issue #24 items 2 and 3: noxops agrees with a project locked with uv.

The fixture is shaped like a small service: its dependencies and tools are ranges in
pyproject.toml (``six>=1.15``, ``mypy>=1.10``), its uv.lock (made by ``uv lock``) holds older
releases than the newest ones (six 1.16.0, mypy 1.11.2), its stubs live in a ``typing``
group, and ``[tool.mypy] python_version = "3.10"`` while its matrix starts at 3.9. The type
session must install what the lock says and pass where the project's own way (``uv sync
--frozen``, then mypy) passes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.noxrun import copy_fixture, run_nox

pytestmark = pytest.mark.slow


def _run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=project, capture_output=True, text=True, check=False, timeout=600
    )


def _committed(project: Path) -> Path:
    (project / ".gitignore").write_text(".nox/\nreports/\n.venv/\n__pycache__/\n")
    for args in (("init", "-q"), ("add", "-A")):
        _run(project, "git", *args).check_returncode()
    _run(
        project, "git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit",
        "-qm", "init",
    ).check_returncode()  # fmt: skip
    return project


def test_type_follows_uv_lock_and_agrees_with_the_projects_own_mypy(tmp_path: Path) -> None:
    project = _committed(copy_fixture("uvlock_project", tmp_path))
    run = run_nox(project, "-s", "type")
    assert run.returncode == 0, run
    assert (
        "type: mypy 1.11.2 (uv.lock), target Python 3.10 ([tool.mypy] python_version); "
        "groups: test, typing"
    ) in run.output, run
    assert "--python-version" not in run.output, run
    site = next((project / ".nox" / "type" / "lib").glob("python3.*/site-packages"))
    installed = sorted(p.name for p in site.glob("*.dist-info"))
    # the locked releases, not the newest ones (six 1.17.0, mypy 2.x)
    for dist in ("six-1.16.0", "mypy-1.11.2", "types_six-1.16.21.20240513"):
        assert f"{dist}.dist-info" in installed, installed

    # The project's own way: its locked environment with its typing group, then mypy.
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    assert uv, "uv is needed to check the project's own way"
    synced = _run(project, uv, "sync", "--frozen", "--group", "typing", "-p", sys.executable)
    assert synced.returncode == 0, synced.stderr
    own = _run(project, str(project / ".venv" / "bin" / "mypy"))
    assert (own.returncode == 0) == (run.returncode == 0), own.stdout + own.stderr
    assert "no issues found" in own.stdout, own.stdout
