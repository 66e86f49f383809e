"""`noxops init` on several layouts, then real `nox -l` and `nox -s lint`; `noxops doctor`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support.noxrun import copy_fixture, run_nox

from noxops.project import interpreters

pytestmark = pytest.mark.slow


def _noxops(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in {"CI", "GITHUB_ACTIONS"}}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "noxops", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        check=False,
    )


def _strip_noxops(project: Path) -> Path:
    """A project that has never seen noxops: no noxfile, no [tool.noxops]."""
    (project / "noxfile.py").unlink()
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(text[: text.index("[tool.noxops]")] + '[tool.isort]\nprofile = "black"\n')
    return project


@pytest.fixture
def src_project(tmp_path: Path) -> Path:
    return _strip_noxops(copy_fixture("clean_project", tmp_path))


@pytest.fixture
def flat_project(tmp_path: Path) -> Path:
    project = _strip_noxops(copy_fixture("clean_project", tmp_path))
    (project / "src" / "calc").rename(project / "calc")
    (project / "src").rmdir()
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            "[dependency-groups]",
            '[tool.hatch.build.targets.wheel]\npackages = ["calc"]\n\n[dependency-groups]',
        )
    )
    # services its tests use, and a Dockerfile
    (project / "tests" / "integration").mkdir()
    (project / "tests" / "integration" / "test_db.py").write_text(
        "import psycopg\nimport redis\n\n\ndef test_nothing() -> None:\n"
        "    assert psycopg and redis\n"
    )
    (project / "Dockerfile").write_text("FROM python:3.11-slim\n")
    return project


def test_init_src_layout_then_nox_lint_passes(src_project: Path) -> None:
    dry = _noxops("init", "--dry-run", cwd=src_project)
    assert dry.returncode == 0, dry.stderr
    assert "src layout" in dry.stdout and "would write" in dry.stdout
    assert not (src_project / "noxfile.py").exists()  # a dry run writes nothing

    done = _noxops("init", cwd=src_project)
    assert done.returncode == 0, done.stderr
    noxfile = (src_project / "noxfile.py").read_text()
    assert noxfile.startswith("# /// script\n# dependencies = [")  # PEP 723: `uvx nox` works
    assert "noxops.sessions()" in noxfile
    table = (src_project / "pyproject.toml").read_text()
    # requires-python >=3.9: up to 3.13 where it is installed, else 3.12
    matrix = '"3.9", "3.10", "3.11", "3.12"' + (', "3.13"' if interpreters.find("3.13") else "")
    assert f"python = [{matrix}]" in table
    assert "[tool.noxops.integration]" not in table and "[tool.noxops.image]" not in table

    listed = run_nox(src_project, "-l")
    assert listed.returncode == 0, listed
    assert "* tests-3.12" in listed.output
    lint = run_nox(src_project, "-s", "lint")
    assert lint.returncode == 0, lint


def test_init_flat_layout_with_services_and_dockerfile(flat_project: Path) -> None:
    done = _noxops("init", cwd=flat_project)
    assert done.returncode == 0, done.stderr
    assert "flat layout, sources calc" in done.stdout
    assert "services postgres, redis" in done.stdout and "Dockerfile yes" in done.stdout
    table = (flat_project / "pyproject.toml").read_text()
    assert 'src = ["calc"]' in table
    assert 'services = ["postgres", "redis"]' in table
    assert "[tool.noxops.image]" in table
    listed = run_nox(flat_project, "-l")
    assert listed.returncode == 0, listed
    lint = run_nox(flat_project, "-s", "lint")
    assert lint.returncode == 0, lint
    assert "black --check --diff calc tests noxfile.py" in lint.output


def test_init_never_overwrites_without_force(src_project: Path) -> None:
    assert _noxops("init", cwd=src_project).returncode == 0
    again = _noxops("init", cwd=src_project)
    assert again.returncode == 2
    assert "exists; pass --force" in again.stderr and "Traceback" not in again.stderr
    (src_project / "noxfile.py").unlink()
    table_again = _noxops("init", cwd=src_project)
    assert table_again.returncode == 2
    assert "already has a [tool.noxops] table" in table_again.stderr
    forced = _noxops("init", "--force", cwd=src_project)
    assert forced.returncode == 0, forced.stderr
    assert (src_project / "pyproject.toml").read_text().count("[tool.noxops]") == 1


def test_init_without_pyproject_is_a_clear_error(tmp_path: Path) -> None:
    result = _noxops("init", cwd=tmp_path)
    assert result.returncode == 2
    assert "pyproject.toml not found" in result.stderr and "Traceback" not in result.stderr


def test_from_nothing_to_a_passing_nox(src_project: Path) -> None:
    assert _noxops("init", cwd=src_project).returncode == 0
    # The one more command. No vulnerability database is reachable from this machine, which
    # the audit must report as such: the machine-wide switch accepts that without editing
    # the project.
    run = run_nox(src_project, env={"NOXOPS_ALLOW_UNAUDITED": "1"})
    assert run.returncode == 0, run
    assert "NOT AUDITED" in run.output


def test_doctor_on_a_healthy_project(src_project: Path) -> None:
    result = _noxops("doctor", cwd=src_project)
    assert "Python 3.11" in result.stdout
    assert "uv" in result.stdout and "CI provider" in result.stdout


def test_doctor_reports_a_missing_python_with_its_fix(src_project: Path, tmp_path: Path) -> None:
    pyproject = src_project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.noxops]\npython = ["3.11", "3.42"]\n')
    result = _noxops("doctor", cwd=src_project)
    assert "warn  Python 3.42" in result.stdout
    assert "fix: pyenv install 3.42" in result.stdout
    assert "tests-3.42 will be skipped" in result.stdout
    in_ci = _noxops("doctor", cwd=src_project, env={"CI": "true"})
    assert in_ci.returncode == 1
    assert "FAIL  Python 3.42" in in_ci.stdout


def test_doctor_with_no_python_at_all_and_no_engine(src_project: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    pyproject = src_project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.noxops]\npython = ["3.9"]\n')
    (src_project / "Dockerfile").write_text("FROM python:3.11-slim\n")
    env = {
        "PATH": str(empty),  # a Python (and every binary) removed from PATH
        "PYENV_ROOT": str(empty),
        "UV_PYTHON_INSTALL_DIR": str(empty),
        "XDG_CACHE_HOME": str(empty),
        "HOME": str(empty),
        "DOCKER_HOST": f"unix://{empty}/docker.sock",  # an engine that is not running
    }
    result = _noxops("doctor", cwd=src_project, env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "Python 3.9" in out and "tests cannot run" in out
    assert "FAIL  Docker engine" in out
    assert "build, smoke and load need it" in out and "then start the engine" in out
    assert "problem(s) stop an enabled stage here" in out


def test_doctor_says_which_provider_serves_each_service(src_project: Path, tmp_path: Path) -> None:
    pyproject = src_project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + '\n[tool.noxops.integration]\nservices = ["postgres", "redis"]\n'
    )
    given = _noxops(
        "doctor",
        cwd=src_project,
        env={
            "DATABASE_URL": "postgresql://u:secret@127.0.0.1:5/db",
            "REDIS_URL": "redis://127.0.0.1:6/0",
        },
    )
    # (the label column is as wide as the longest label shown)
    assert re.search(r"service postgres +url \(DATABASE_URL is set\)", given.stdout)
    assert re.search(r"service redis +url \(REDIS_URL is set\)", given.stdout)
    assert "secret" not in given.stdout
    forced = _noxops(
        "doctor",
        cwd=src_project,
        env={"NOXOPS_PROVIDER": "docker", "DOCKER_HOST": f"unix://{tmp_path}/no.sock"},
    )
    assert forced.returncode == 1
    assert "FAIL  services" in forced.stdout and "provider 'docker' cannot run" in forced.stdout
