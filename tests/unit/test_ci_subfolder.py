"""A project in a subfolder of its repository (issue #26 item 1): GitHub and GitLab read CI
files only at the repository's top, so they go there, and every job works in the project's
folder with the paths the provider reads (artifacts, reports, cache keys, stashes) given from
the top. The repository is a real git work tree."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fixtures.ci_projects import make_project, make_repository, stage

from noxops.ci import command, gitlab
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
    doc = yaml.safe_load(files[".gitlab-ci.yml"])
    assert doc["default"]["before_script"] == [gitlab.UV_INSTALL]
    assert doc["tests"]["artifacts"]["paths"] == ["reports/"]


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


def _rels(top: Path, paths: list[Path]) -> list[str]:
    return sorted(p.relative_to(top).as_posix() for p in paths)


SHARED = [
    ".github/workflows/ci-backend.yml",
    ".github/workflows/ci-frontend.yml",
    ".gitlab-ci.yml",
    "Jenkinsfile",
]


def test_two_projects_get_one_pipeline_whichever_generates_it(tmp_path: Path) -> None:
    """Both projects are found from either one; the files are the same bytes whichever
    project generates them, and `noxops ci check` is clean in both."""
    top = tmp_path / "repo"
    configs, stages_of = make_repository(top, {"backend": "service", "frontend": "library"})
    backend, frontend = configs["backend"], configs["frontend"]
    assert command.projects(frontend) == [top / "backend", top / "frontend"]
    written = command.generate(backend, "all", stages_of(backend), others=stages_of)
    assert _rels(top, written) == SHARED
    first = {rel: (top / rel).read_bytes() for rel in SHARED}
    again = command.generate(frontend, "all", stages_of(frontend), others=stages_of)
    assert {p.relative_to(top).as_posix(): p.read_bytes() for p in again} == first
    out = io.StringIO()
    assert command.check(backend, stages_of(backend), out, others=stages_of) == 0, out.getvalue()
    assert command.check(frontend, stages_of(frontend), out, others=stages_of) == 0

    # The header records every folder; each workflow its own.
    gitlab = (top / ".gitlab-ci.yml").read_text(encoding="utf-8")
    assert "# inputs: folders=backend,frontend noxops=" in gitlab
    assert " backend/[tool.noxops.ci]=" in gitlab and " frontend/[tool.noxops]=" in gitlab
    assert "// inputs: folders=backend,frontend " in (top / "Jenkinsfile").read_text()
    workflow = (top / ".github/workflows/ci-frontend.yml").read_text(encoding="utf-8")
    assert "# inputs: folder=frontend " in workflow
    doc = yaml.safe_load(workflow)
    assert doc["name"] == "CI (frontend)"
    paths = ["frontend/**", ".github/workflows/ci-frontend.yml"]
    assert doc[True]["push"]["paths"] == paths and doc[True]["pull_request"]["paths"] == paths


def test_adding_a_project_is_drift_in_the_others(tmp_path: Path) -> None:
    top = tmp_path / "repo"
    cases = {"backend": "service", "frontend": "library"}
    configs, stages_of = make_repository(top, cases)
    backend = configs["backend"]
    command.generate(backend, "all", stages_of(backend), others=stages_of)

    worker, _ = make_project(top / "worker", "worker")
    cases["worker"] = "worker"
    for config in (backend, configs["frontend"]):
        out = io.StringIO()
        assert command.check(config, stages_of(config), out, others=stages_of) == 1
        report = out.getvalue()
        assert ".github/workflows/ci-worker.yml is missing" in report
        assert ".gitlab-ci.yml is out of date: the projects it holds" in report
        assert "Jenkinsfile is out of date" in report
        assert '+"worker:lint":' in report  # the diff shows the new project's jobs

    written = command.generate(worker, "all", stages_of(worker), others=stages_of)
    assert _rels(top, written) == sorted([*SHARED, ".github/workflows/ci-worker.yml"])
    assert "folders=backend,frontend,worker " in (top / ".gitlab-ci.yml").read_text()
    for config in (backend, configs["frontend"], worker):
        assert command.check(config, stages_of(config), io.StringIO(), others=stages_of) == 0


def test_a_second_project_takes_over_the_first_ones_files(tmp_path: Path) -> None:
    """The first project alone had the files of a repository of its own (ci.yml recording
    folder=backend); once a second one is there, ci.yml is an earlier layout's: check says
    so, generate removes it (noxops wrote it) and writes a workflow per project."""
    top = tmp_path / "repo"
    cases = {"backend": "service"}
    configs, stages_of = make_repository(top, cases)
    backend = configs["backend"]
    alone = command.generate(backend, "all", stages_of(backend), others=stages_of)
    assert _rels(top, alone) == [".github/workflows/ci.yml", ".gitlab-ci.yml", "Jenkinsfile"]
    assert "inputs: folder=backend " in (top / ".gitlab-ci.yml").read_text(encoding="utf-8")

    frontend, _ = make_project(top / "frontend", "worker")
    cases["frontend"] = "worker"
    out = io.StringIO()
    assert command.check(frontend, stages_of(frontend), out, others=stages_of) == 1
    assert ".github/workflows/ci.yml is a workflow noxops wrote for an earlier layout" in (
        out.getvalue()
    )
    written = command.generate(frontend, "all", stages_of(frontend), others=stages_of)
    assert _rels(top, written) == SHARED
    assert not (top / ".github/workflows/ci.yml").exists()
    assert command.check(backend, stages_of(backend), io.StringIO(), others=stages_of) == 0

    # a project's own workflow (no noxops header) is never removed
    own = top / ".github/workflows/ci.yml"
    own.write_text("name: theirs\non: push\njobs: {}\n", encoding="utf-8")
    command.generate(backend, "all", stages_of(backend), others=stages_of)
    assert own.read_text(encoding="utf-8").startswith("name: theirs")


def test_projects_inside_a_project_or_with_a_root_elsewhere_are_not_the_repositorys(
    tmp_path: Path,
) -> None:
    """A project's test fixtures and a stand-alone example (root = ".") keep the project
    alone: its files are exactly those of a repository holding only it."""
    top = tmp_path / "repo"
    configs, stages_of = make_repository(top, {"backend": "service"})
    backend = configs["backend"]
    fixture, _ = make_project(top / "backend/tests/fixtures/app", "worker")
    make_project(top / "examples/app", "worker")
    pyproject = top / "examples/app/pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(text.replace("[tool.noxops.ci]", '[tool.noxops.ci]\nroot = "."'))
    for hidden in (".venv/lib/thing", "node_modules/pkg"):
        make_project(top / hidden, "worker")
    assert command.projects(backend) == [top / "backend"]
    files = command.expected_files(backend, "all", stages_of(backend), others=stages_of)
    assert sorted(files) == [".github/workflows/ci.yml", ".gitlab-ci.yml", "Jenkinsfile"]
    assert "inputs: folder=backend noxops=" in files[".gitlab-ci.yml"]

    # the fixture itself would put its files at the repository's top: one line says why not
    with pytest.raises(NoxopsError, match=r"is inside the noxops project in backend/ "):
        command.expected_files(fixture, "all", stages_of(backend))


def test_a_project_without_a_noxops_table_is_not_replaced_silently(tmp_path: Path) -> None:
    """A project that has no [tool.noxops] table is not found by the others; its pipeline
    at the top is not replaced by theirs without --force (one line says how to share it)."""
    top = tmp_path / "repo"
    _top, backend, stages = _repo(tmp_path, "backend", "library")  # no [tool.noxops] table
    command.generate(backend, "gitlab", stages)
    before = (top / ".gitlab-ci.yml").read_text(encoding="utf-8")
    frontend, _ = make_project(top / "frontend", "worker")
    with pytest.raises(NoxopsError, match=r"project in backend, which has no \[tool.noxops\] "):
        command.generate(frontend, "gitlab", stages)
    assert (top / ".gitlab-ci.yml").read_text(encoding="utf-8") == before  # nothing lost
    assert command.generate(frontend, "gitlab", stages, force=True)
    assert "inputs: folder=frontend " in (top / ".gitlab-ci.yml").read_text(encoding="utf-8")


def test_jenkins_notifies_for_a_project_only_when_its_stages_ran(tmp_path: Path) -> None:
    """The pipeline's post runs each notifying project's notify in its folder, only when one
    of its stages left a stash: a project whose files did not change sends no notice."""
    top = tmp_path / "repo"
    _configs, stages_of = make_repository(top, {"backend": "service", "frontend": "library"})
    with (top / "backend/pyproject.toml").open("a", encoding="utf-8") as fh:
        fh.write("[tool.noxops.notify]\n")

    def with_notify(config: Any) -> dict[str, Any]:
        return {**stages_of(config), "notify": stage("notify", ci=CI(stage="report"))}

    backend = load(top / "backend")
    files = command.expected_files(backend, "jenkins", with_notify(backend), others=with_notify)
    post = files["Jenkinsfile"][files["Jenkinsfile"].index("        success {") :]
    steps = ["ran['backend'] = true", "if (ran['backend'])", "dir('backend') {", "-s notify"]
    assert [post.index(s) for s in steps] == sorted(post.index(s) for s in steps), post
    assert "'reports-frontend-" not in post  # the frontend declares no notify


def test_changes_are_paths_from_the_repository_top(tmp_path: Path) -> None:
    _top, config, _stages = _repo(tmp_path, "backend")
    pyproject = config.root / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(text.replace("[tool.noxops.ci]", '[tool.noxops.ci]\nchanges = ["../x"]'))
    with pytest.raises(NoxopsError, match=r"changes.*'\.\./x' is not a path from the repo"):
        load(config.root)


def test_a_project_whose_files_now_go_elsewhere_leaves_the_top_to_the_others(
    tmp_path: Path,
) -> None:
    """backend's files were at the top; with root = "." they go beside it, so frontend's
    pipeline takes the top without --force (backend's project is not lost: it has a table)."""
    top = tmp_path / "repo"
    cases = {"backend": "service"}
    configs, stages_of = make_repository(top, cases)
    command.generate(configs["backend"], "gitlab", stages_of(configs["backend"]))
    pyproject = top / "backend/pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(text.replace("[tool.noxops.ci]", '[tool.noxops.ci]\nroot = "."'))
    frontend, _ = make_project(top / "frontend", "worker")
    assert command.generate(frontend, "gitlab", stages_of(configs["backend"]))
    assert "inputs: folder=frontend " in (top / ".gitlab-ci.yml").read_text(encoding="utf-8")
