"""What the tests that run ``examples/service``'s generated CI files on this machine share.

The example as a CI checkout would see it (a git repository on ``main``), the wheel of this
checkout's noxops (it is not published; the jobs find it through ``UV_FIND_LINKS`` and
``NOXOPS_REQUIREMENT``), and where the local ``python:3.X-slim`` stand-ins keep their scripts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = [
    "EXAMPLE",
    "REPO",
    "STANDIN_SCRIPTS",
    "build_noxops_wheel",
    "checkout_example",
    "commit_all",
]

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "service"
# The stand-in python:3.X-slim images are pyenv builds whose scripts folder is not on PATH
# (the official images install to /usr/local/bin; the 3.11 stand-in does too).
STANDIN_SCRIPTS = [
    "/root/.pyenv/versions/3.9.18/bin",
    "/root/.pyenv/versions/3.10.13/bin",
    "/root/.pyenv/versions/3.12.1/bin",
    "/root/.pyenv/versions/3.13.0/bin",
]


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.email=ci@example.invalid", "-c", "user.name=ci", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def checkout_example(project: Path, source: Path = EXAMPLE, folder: str = "") -> str:
    """Copies the example (or ``source``) to ``project`` (into its ``folder``) as a one-commit
    repository on ``main``; its commit."""
    shutil.copytree(
        source,
        project / folder,
        ignore=shutil.ignore_patterns(".venv", ".nox", "reports", "build"),
    )
    _git(project, "init", "-q", "-b", "main")
    _git(project, "remote", "add", "origin", "https://example.invalid/acme/service.git")
    return commit_all(project, "the example")


def commit_all(project: Path, message: str) -> str:
    """Commits everything in the repository ``project``; the commit."""
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", message)
    return _git(project, "rev-parse", "HEAD")


def build_noxops_wheel(wheels: Path) -> Path:
    """Builds this checkout's noxops wheel into ``wheels`` (uv when found, else pip)."""
    uv = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
    if uv:
        argv = [uv, "build", "--wheel", "-q", "--out-dir", str(wheels), str(REPO)]
    else:
        argv = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels)]
        argv.append(str(REPO))
    # a TLS-intercepting proxy may stand before the index: uv trusts the system CA bundle
    env = {**os.environ, "UV_NATIVE_TLS": "true"}
    subprocess.run(argv, check=True, capture_output=True, env=env)
    (wheel,) = wheels.glob("noxops-*.whl")
    return wheel
