"""What the generated CI files hold for what a project configures (issue #26): jobs only for
what it enables, no template placeholder left, the tags for a version from git, SARIF
uploads that a fork's pull request does not break."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fixtures.ci_projects import declared, fake_stages, make_project

from noxops.ci import github, gitlab, jenkins
from noxops.ci.command import expected_files
from noxops.ci.model import CIPipeline, build_pipeline
from noxops.ci.providers import CI_PROVIDERS
from noxops.config import load
from noxops.errors import NoxopsError

yaml = pytest.importorskip("yaml")

OPT_IN = (declared("sonar"), declared("notify"))


def pipeline_of(root: Path, pyproject: str) -> CIPipeline:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    stages = fake_stages(integration=False, image=False, extra=OPT_IN)
    return build_pipeline(load(root), stages)


def jobs(pipeline: CIPipeline) -> set[str]:
    return {job.name for job in pipeline.jobs}


def test_sonar_and_notify_get_jobs_only_when_configured(tmp_path: Path) -> None:
    bare = pipeline_of(tmp_path / "bare", '[project]\nname = "lib"\n')
    assert not {"sonar", "notify"} & jobs(bare)
    assert "stage('notify')" not in jenkins.render(bare)
    assert "-s notify" not in jenkins.render(bare)  # nor in the pipeline's post

    sonar = pipeline_of(
        tmp_path / "sonar",
        '[project]\nname = "lib"\n[tool.noxops.report]\nsonar_organization = "acme"\n',
    )
    assert {"sonar"} == {"sonar", "notify"} & jobs(sonar)

    own = tmp_path / "own"
    own.mkdir()
    (own / "sonar-project.properties").write_text("sonar.projectKey=lib\n", encoding="utf-8")
    assert "sonar" in jobs(pipeline_of(own, '[project]\nname = "lib"\n'))

    notify = pipeline_of(tmp_path / "notify", '[project]\nname = "lib"\n[tool.noxops.notify]\n')
    assert {"notify"} == {"sonar", "notify"} & jobs(notify)
    assert "-s notify" in jenkins.render(notify)


def test_no_generated_file_leaves_a_template_placeholder(tmp_path: Path) -> None:
    """The Jenkins integration job had run in docker.image('python:{python}-slim')."""
    config, stages = make_project(tmp_path / "svc", "service")  # postgres and redis sidecars
    files = expected_files(config, "all", stages)  # refuses a file with a placeholder left
    assert "docker.image('python:3.12-slim').inside(" in files["Jenkinsfile"]
    for text in files.values():
        assert not re.search(r"(?<!\$)\{(python|host|port)\}", text)


def test_a_placeholder_left_is_one_clear_error(tmp_path: Path) -> None:
    config, stages = make_project(tmp_path / "lib", "library")
    broken = ("Jenkinsfile", "// x\nimage 'python:{python}-slim'\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(CI_PROVIDERS["jenkins"], "render", lambda pipeline: broken)
        mp.setattr("noxops.ci.command._providers", lambda config, which: ["jenkins"])
        with pytest.raises(
            NoxopsError, match=r"Jenkinsfile line 2 leaves the placeholder \{python\}"
        ):
            expected_files(config, "jenkins", stages)


GIT_VERSION = """
[build-system]
requires = ["hatchling", "hatch-vcs"]
build-backend = "hatchling.build"
[project]
name = "lib"
dynamic = ["version"]
[tool.hatch.version]
source = "vcs"
"""


@pytest.mark.parametrize("plugin", ["hatch-vcs", "setuptools-scm>=8", "setuptools_scm[toml]"])
def test_a_version_from_git_tags_checks_out_the_whole_history(tmp_path: Path, plugin: str) -> None:
    text = GIT_VERSION.replace('"hatch-vcs"', f'"{plugin}"')
    config, stages = make_project(tmp_path / "app", "worker")  # has a build job
    (config.root / "pyproject.toml").write_text(text + '[tool.noxops]\npython = ["3.12"]\n')
    pipeline = build_pipeline(load(config.root), stages)
    assert [j.name for j in pipeline.jobs if j.full_history] == ["build"]
    workflow = yaml.safe_load(github.render(pipeline))["jobs"]
    assert workflow["build"]["steps"][0]["with"]["fetch-depth"] == 0
    assert "fetch-depth" not in workflow["lint"]["steps"][0]["with"]
    doc = yaml.safe_load(gitlab.render(pipeline))
    assert doc["build"]["variables"]["GIT_DEPTH"] == "0"
    assert "GIT_DEPTH" not in doc["lint"].get("variables", {})


def test_a_static_version_keeps_the_shallow_clone(tmp_path: Path) -> None:
    config, stages = make_project(tmp_path / "app", "worker")
    pipeline = build_pipeline(config, stages)
    assert not any(j.full_history for j in pipeline.jobs)
    assert "fetch-depth" not in github.render(pipeline)


def _github_if(expr: str, event: str, head: str, repository: str = "acme/svc") -> bool:
    text = expr.strip().removeprefix("${{").removesuffix("}}")
    text = re.sub(r"hashFiles\('[^']*'\) != ''", "True", text).replace("!cancelled()", "True")
    text = text.replace("github.event.pull_request.head.repo.full_name", repr(head))
    text = text.replace("github.event_name", repr(event)).replace(
        "github.repository", repr(repository)
    )
    text = text.replace("&&", " and ").replace("||", " or ")
    assert re.fullmatch(r"[\w\s'()=!/.-]*", text), text
    return bool(eval(text, {"__builtins__": {}}))  # noqa: S307


def test_sarif_is_uploaded_except_for_a_pull_request_from_a_fork(tmp_path: Path) -> None:
    config, stages = make_project(tmp_path / "svc", "service")
    workflow = yaml.safe_load(github.render(build_pipeline(config, stages)))["jobs"]
    uploads = [
        step
        for body in workflow.values()
        for step in body["steps"]
        if "upload-sarif" in str(step.get("uses", ""))
    ]
    assert uploads
    for step in uploads:
        assert _github_if(step["if"], "push", "")
        assert _github_if(step["if"], "pull_request", "acme/svc")  # a branch of the repository
        assert not _github_if(step["if"], "pull_request", "someone/svc")  # a fork: read-only token
