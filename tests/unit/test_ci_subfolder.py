"""A project in a subfolder of its repository (issue #26 item 1): GitHub and GitLab read CI
files only at the repository's top, so they go there, and every job works in the project's
folder with the paths the provider reads (artifacts, reports, cache keys, stashes) given from
the top. The repository is a real git work tree."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from fixtures.ci_projects import make_project, stage

from noxops.ci import command
from noxops.config import load
from noxops.errors import NoxopsError
from noxops.stages.base import CI

yaml = pytest.importorskip("yaml")


def _repo(tmp_path: Path, folder: str, case: str = "service") -> tuple[Path, Any, Any]:
    top = tmp_path / "repo"
    config, stages = make_project(top / folder, case)
    subprocess.run(["git", "init", "-q", str(top)], check=True)
    return top, config, stages


def test_the_ci_files_go_to_the_repository_top_and_jobs_work_in_the_project(
    tmp_path: Path,
) -> None:
    top, config, stages = _repo(tmp_path, "backend")
    written = command.generate(config, "all", stages)
    assert sorted(p.relative_to(top).as_posix() for p in written) == [
        ".github/workflows/ci.yml",
        ".gitlab-ci.yml",
        "Jenkinsfile",
    ]
    assert not (top / "backend" / ".gitlab-ci.yml").exists()
    assert command.check(config, stages) == 0

    gitlab = yaml.safe_load((top / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    assert gitlab["default"]["before_script"][-1] == "cd backend"
    assert gitlab["default"]["cache"]["key"]["files"] == ["backend/pyproject.toml"]
    assert gitlab["tests"]["artifacts"]["paths"] == ["backend/reports/"]
    assert gitlab["tests"]["artifacts"]["reports"] == {"junit": "backend/reports/junit-$PYTHON.xml"}
    coverage = gitlab["coverage"]["artifacts"]["reports"]["coverage_report"]
    assert coverage["path"].startswith("backend/reports/")

    github = yaml.safe_load((top / ".github/workflows/ci.yml").read_text(encoding="utf-8"))
    for name, job in github["jobs"].items():
        assert job["defaults"] == {"run": {"working-directory": "backend"}}, name
        for step in job["steps"]:
            path = step.get("with", {}).get("path") or step.get("with", {}).get("sarif_file")
            if path:
                assert path.startswith("backend/"), (name, step)

    jenkinsfile = (top / "Jenkinsfile").read_text(encoding="utf-8")
    assert "dir('backend') {" in jenkinsfile
    assert "includes: 'backend/reports/**'" in jenkinsfile
    assert "includes: 'reports/**'" not in jenkinsfile


def test_a_project_at_the_top_keeps_its_paths(tmp_path: Path) -> None:
    _top, config, stages = _repo(tmp_path, ".")
    files = command.expected_files(config, "gitlab", stages)
    gitlab = yaml.safe_load(files[".gitlab-ci.yml"])
    assert gitlab["default"]["before_script"] == ["python -m pip install --quiet uv"]
    assert gitlab["tests"]["artifacts"]["paths"] == ["reports/"]


def test_root_names_the_top_and_must_hold_the_project(tmp_path: Path) -> None:
    top, _config, stages = _repo(tmp_path, "examples/app")
    pyproject = top / "examples/app/pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(text.replace("[tool.noxops.ci]", '[tool.noxops.ci]\nroot = "."'))
    written = command.generate(load(top / "examples/app"), "gitlab", stages)
    assert written == [top / "examples/app/.gitlab-ci.yml"]  # a stand-alone example
    pyproject.write_text(text.replace("[tool.noxops.ci]", '[tool.noxops.ci]\nroot = "../other"'))
    with pytest.raises(NoxopsError, match=r"root = '../other' does not hold the project folder"):
        command.expected_files(load(top / "examples/app"), "gitlab", stages)


def test_jenkins_runs_notify_in_the_project_folder(tmp_path: Path) -> None:
    top, _config, stages = _repo(tmp_path, "backend")
    pyproject = top / "backend" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8") + "\n[tool.noxops.notify]\n")
    stages = {**stages, "notify": stage("notify", ci=CI(stage="report"))}
    jenkinsfile = command.expected_files(load(top / "backend"), "jenkins", stages)["Jenkinsfile"]
    post = jenkinsfile[jenkinsfile.index("success {") :]
    assert post.index("dir('backend') {") < post.index("nox --no-dependencies -s notify"), post


def test_a_second_project_does_not_silently_replace_the_first_ones_pipeline(
    tmp_path: Path,
) -> None:
    top, backend, stages = _repo(tmp_path, "backend")
    frontend, _ = make_project(top / "frontend", "library")
    command.generate(backend, "gitlab", stages)
    before = (top / ".gitlab-ci.yml").read_text(encoding="utf-8")
    assert "inputs: folder=backend " in before
    with pytest.raises(NoxopsError, match=r"the pipeline of the noxops project in backend; "):
        command.generate(frontend, "gitlab", stages)
    assert (top / ".gitlab-ci.yml").read_text(encoding="utf-8") == before  # nothing lost
    assert command.generate(backend, "gitlab", stages)  # its own project regenerates it
    assert command.generate(frontend, "gitlab", stages, force=True)
    assert "inputs: folder=frontend " in (top / ".gitlab-ci.yml").read_text(encoding="utf-8")
