"""The runner image runs a project's noxops sessions as a non-root user."""

from __future__ import annotations

from pathlib import Path

from smoke.conftest import project_copy, run_image


def test_runs_as_a_non_root_user_with_the_tools(runner_image: str) -> None:
    proc = run_image(runner_image, "sh", "-c", "id -u && nox --version 2>&1 && uv --version")
    assert proc.returncode == 0, proc.stderr
    uid, nox_version, uv_version = proc.stdout.split("\n")[:3]
    assert uid != "0"
    assert nox_version.strip()
    assert uv_version.startswith("uv ")


def test_lists_a_projects_sessions(runner_image: str, tmp_path: Path) -> None:
    project = project_copy("clean_project", tmp_path)
    proc = run_image(runner_image, "nox", "-l", project=project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for session in ("lint", "type", "security", "tests-3.11", "coverage"):
        assert f"* {session}" in proc.stdout, proc.stdout


def test_lint_passes_on_a_clean_project(runner_image: str, tmp_path: Path) -> None:
    project = project_copy("clean_project", tmp_path)
    proc = run_image(runner_image, "nox", "-s", "lint", project=project)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "Session lint was successful" in output
    assert (project / "reports" / "ruff.json").is_file()


def test_lint_fails_on_a_broken_project(runner_image: str, tmp_path: Path) -> None:
    project = project_copy("broken_project", tmp_path)
    proc = run_image(runner_image, "nox", "-s", "lint", project=project)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert "F401" in output
