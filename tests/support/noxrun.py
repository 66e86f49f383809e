"""Running real nox on fixture projects, for the functional tests."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "FIXTURES",
    "NoxRun",
    "copy_fixture",
    "installed",
    "matrix_project",
    "noxops_init",
    "run_nox",
    "sections",
    "set_noxops",
]

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@dataclass
class NoxRun:
    """The outcome of one nox invocation."""

    returncode: int
    output: str  # stdout and stderr, interleaved

    def __str__(self) -> str:
        return f"nox exited {self.returncode}:\n{self.output}"


def copy_fixture(name: str, destination: Path) -> Path:
    """Copy ``tests/fixtures/<name>`` to ``destination/<name>`` and return the copy."""
    target = destination / name
    shutil.copytree(FIXTURES / name, target, ignore=shutil.ignore_patterns(".nox", "reports"))
    return target


def git(project: Path, *args: str) -> str:
    """What ``git args`` prints in ``project`` (a failure raises)."""
    return subprocess.run(
        ["git", *args], cwd=project, capture_output=True, text=True, check=True
    ).stdout


def commit(project: Path, message: str) -> None:
    """Commit everything in ``project``, under a test identity."""
    git(project, "add", "-A")
    git(
        project, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", message
    )


def set_noxops(project: Path, *lines: str) -> Path:
    """Put ``lines`` (``key = value``) at the top of the project's ``[tool.noxops]`` table;
    the project's ``pyproject.toml``."""
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    assert "[tool.noxops]\n" in text, f"{pyproject} has no [tool.noxops] table"
    settings = "".join(f"{line}\n" for line in lines)
    pyproject.write_text(text.replace("[tool.noxops]\n", f"[tool.noxops]\n{settings}", 1), "utf-8")
    return pyproject


def run_nox(
    project: Path,
    *args: str,
    env: dict[str, str] | None = None,
    ci: bool = False,
    timeout: float = 600,
) -> NoxRun:
    """Run ``python -m nox`` in ``project`` with this interpreter (which has noxops installed).

    ``CI`` is removed from the environment unless ``ci`` is true, so results do not depend on
    whether the suite itself runs in CI.
    """
    full_env = {k: v for k, v in os.environ.items() if k != "CI"}
    full_env.update({"NO_COLOR": "1", "FORCE_COLOR": "0"})
    if ci:
        full_env["CI"] = "true"
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "nox", "--no-color", *args],
        cwd=project,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
    return NoxRun(proc.returncode, proc.stdout)


def noxops_init(project: Path) -> str:
    """Run ``python -m noxops init`` in ``project`` (outside CI, whatever runs the suite), which
    must succeed; what it said."""
    env = {k: v for k, v in os.environ.items() if k not in {"CI", "GITHUB_ACTIONS"}}
    done = subprocess.run(
        [sys.executable, "-m", "noxops", "init"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def matrix_project(destination: Path, other: str, tools_python: str = "3.11") -> Path:
    """The clean fixture with a two-Python matrix (3.11 and ``other``)."""
    project = copy_fixture("clean_project", destination)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            "[tool.noxops]\n",
            f'[tool.noxops]\npython = ["3.11", "{other}"]\ntools_python = "{tools_python}"\n',
        )
    )
    return project


def sections(run: NoxRun) -> dict[str, str]:
    """Each session's share of the output of a sequential run."""
    parts = re.split(r"^nox > Running session (\S+)\n", run.output, flags=re.MULTILINE)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def installed(run: NoxRun) -> set[str]:
    """Sessions that ran an install themselves."""
    return {name for name, text in sections(run).items() if "uv pip install" in text}
