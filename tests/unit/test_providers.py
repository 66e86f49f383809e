"""The CI providers: each provider's real variables -> its run context, one detection rule
that every reader shares, and a toy provider declared in this one module that renders its
file and reads its run.

The variable sets are those the providers document: GitHub's "default environment variables",
GitLab's "predefined CI/CD variables", Jenkins's ``env-vars.html`` (core, git plugin and
multibranch pipelines).
"""

from __future__ import annotations

import importlib
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Optional, cast

import pytest
from fixtures.ci_projects import make_project

from noxops.ci.command import check, generate
from noxops.ci.model import HEADER, CIPipeline, build_pipeline
from noxops.ci.providers import (
    CI_PROVIDERS,
    LOCAL,
    Provider,
    RunContext,
    current,
    file_providers,
)
from noxops.ci.settings import PROVIDERS as CONFIG_PROVIDERS
from noxops.commands import doctor
from noxops.config import Config, load
from noxops.deploy.approval import approval_source
from noxops.errors import ConfigError, NoxopsError
from noxops.image import manifest
from noxops.image.tags import compute_tags, detect
from noxops.notify.outcome import ci_context

SHA = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"

GITHUB = {
    "CI": "true",
    "GITHUB_ACTIONS": "true",
    "GITHUB_ACTOR": "octocat",
    "GITHUB_WORKFLOW": "ci",
    "GITHUB_REPOSITORY": "acme/shop",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_API_URL": "https://api.github.com",
    "GITHUB_RUN_ID": "4242",
    "GITHUB_RUN_NUMBER": "17",
    "GITHUB_RUN_ATTEMPT": "1",
    "GITHUB_SHA": SHA,
    "GITHUB_HEAD_REF": "",  # set, empty, outside pull requests
    "GITHUB_BASE_REF": "",
    "RUNNER_OS": "Linux",
}
RUN = "https://github.com/acme/shop/actions/runs/4242"
GITLAB = {
    "CI": "true",
    "GITLAB_CI": "true",
    "CI_SERVER_URL": "https://gitlab.example",
    "CI_PROJECT_URL": "https://gitlab.example/acme/shop",
    "CI_DEFAULT_BRANCH": "main",
    "CI_COMMIT_SHA": SHA,
    "CI_COMMIT_SHORT_SHA": SHA[:8],
    "CI_PIPELINE_ID": "991",
    "CI_PIPELINE_URL": "https://gitlab.example/acme/shop/-/pipelines/991",
    "CI_JOB_ID": "5001",
    "CI_JOB_URL": "https://gitlab.example/acme/shop/-/jobs/5001",
    "CI_REGISTRY": "registry.gitlab.example",
    "CI_REGISTRY_IMAGE": "registry.gitlab.example/acme/shop",
}
PIPELINE, JOB = GITLAB["CI_PIPELINE_URL"], GITLAB["CI_JOB_URL"]
JENKINS = {
    "CI": "true",
    "JENKINS_URL": "https://jenkins.example/",
    "JENKINS_HOME": "/var/jenkins_home",
    "JOB_NAME": "shop/main",
    "BUILD_NUMBER": "7",
    "BUILD_ID": "7",
    "BUILD_TAG": "jenkins-shop-main-7",
    "BUILD_URL": "https://jenkins.example/job/shop/job/main/7/",
    "WORKSPACE": "/var/jenkins_home/workspace/shop_main",
    "NODE_NAME": "built-in",
    "GIT_COMMIT": SHA,
}
BUILD = JENKINS["BUILD_URL"]


def _ctx(provider: str, event: str, ref: str, branch: str, **more: Any) -> RunContext:
    return RunContext(provider, event, ref, sha=SHA, branch=branch, **more)  # type: ignore[arg-type]


CASES: dict[str, tuple[dict[str, str], RunContext]] = {
    "github push": (
        {**GITHUB, "GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/feature/x",
         "GITHUB_REF_NAME": "feature/x", "GITHUB_REF_TYPE": "branch"},
        _ctx("github", "branch", "feature/x", "feature/x", url=RUN),
    ),
    "github pull request": (
        {**GITHUB, "GITHUB_EVENT_NAME": "pull_request", "GITHUB_REF": "refs/pull/42/merge",
         "GITHUB_REF_NAME": "42/merge", "GITHUB_REF_TYPE": "branch",
         "GITHUB_HEAD_REF": "feature/x", "GITHUB_BASE_REF": "main"},
        _ctx("github", "pr", "feature/x", "feature/x", pr=42, url=RUN),
    ),
    "github tag": (
        {**GITHUB, "GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/tags/v1.2.3",
         "GITHUB_REF_NAME": "v1.2.3", "GITHUB_REF_TYPE": "tag"},
        _ctx("github", "tag", "v1.2.3", "v1.2.3", url=RUN),
    ),
    "gitlab branch": (
        {**GITLAB, "CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "feature/x",
         "CI_COMMIT_REF_NAME": "feature/x", "CI_COMMIT_REF_SLUG": "feature-x"},
        _ctx("gitlab", "branch", "feature/x", "feature/x", default_branch="main",
             url=PIPELINE, job_url=JOB),
    ),
    "gitlab merge request": (
        {**GITLAB, "CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "12",
         "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature/x",
         "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main", "CI_COMMIT_REF_NAME": "feature/x"},
        _ctx("gitlab", "pr", "feature/x", "feature/x", pr=12, default_branch="main",
             url=PIPELINE, job_url=JOB),
    ),
    "gitlab tag": (
        {**GITLAB, "CI_PIPELINE_SOURCE": "push", "CI_COMMIT_TAG": "v1.2.3",
         "CI_COMMIT_REF_NAME": "v1.2.3"},
        _ctx("gitlab", "tag", "v1.2.3", "v1.2.3", default_branch="main", url=PIPELINE,
             job_url=JOB),
    ),
    "gitlab-ci-local": (  # GitLab's variables on a laptop, GITLAB_CI=false
        {**GITLAB, "GITLAB_CI": "false", "CI_COMMIT_BRANCH": "main", "CI_COMMIT_REF_NAME": "main"},
        _ctx("gitlab", "branch", "main", "main", default_branch="main", url=PIPELINE,
             job_url=JOB),
    ),
    "jenkins multibranch branch": (
        {**JENKINS, "BRANCH_NAME": "main", "GIT_BRANCH": "main"},
        _ctx("jenkins", "branch", "main", "main", url=BUILD),
    ),
    "jenkins multibranch tag": (
        {**JENKINS, "BRANCH_NAME": "v1.2.3", "TAG_NAME": "v1.2.3",
         "TAG_TIMESTAMP": "1700000000000"},
        _ctx("jenkins", "tag", "v1.2.3", "v1.2.3", url=BUILD),
    ),
    "jenkins pull request": (
        {**JENKINS, "BRANCH_NAME": "PR-5", "CHANGE_ID": "5", "CHANGE_BRANCH": "feature/x",
         "CHANGE_TARGET": "main", "CHANGE_URL": "https://github.com/acme/shop/pull/5"},
        _ctx("jenkins", "pr", "feature/x", "PR-5", pr=5, url=BUILD),
    ),
    "jenkins freestyle job": (  # the git plugin's remote-tracking branch
        {**JENKINS, "GIT_BRANCH": "origin/main"},
        _ctx("jenkins", "branch", "main", "origin/main", url=BUILD),
    ),
    "jenkins without a configured URL": (  # core sets JENKINS_HOME, never JENKINS_URL then
        {k: v for k, v in JENKINS.items() if k not in {"JENKINS_URL", "BUILD_URL"}}
        | {"BRANCH_NAME": "main"},
        _ctx("jenkins", "branch", "main", "main"),
    ),
}  # fmt: skip


@pytest.mark.parametrize(("env", "expected"), CASES.values(), ids=CASES.keys())
def test_each_providers_variables_give_its_run_context(
    env: dict[str, str], expected: RunContext
) -> None:
    provider = current(env)
    assert provider.name == expected.provider
    assert provider.run(env, None) == expected


def _git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return proc.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A real repository with one commit on ``work``."""
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "work")
    (root / "a.txt").write_text("a\n", encoding="utf-8")
    _git(root, "add", "a.txt")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@example.test", "commit", "-qm", "a")
    return root


def test_local_reads_git_and_nothing_without_a_folder(repo: Path, tmp_path: Path) -> None:
    sha = _git(repo, "rev-parse", "HEAD")
    local = current({})
    assert local.name == LOCAL
    assert local.run({}, repo) == RunContext(LOCAL, "branch", "work", None, sha, "work")
    _git(repo, "tag", "v0.1.0")
    _git(repo, "checkout", "-q", "--detach")
    assert local.run({}, repo) == RunContext(LOCAL, "tag", "v0.1.0", None, sha, "HEAD")
    assert local.run({}, None) == RunContext(LOCAL)  # no folder: no git
    assert local.run({}, tmp_path / "nowhere") == RunContext(LOCAL)
    # Jenkins without the git plugin's GIT_COMMIT: the commit from git
    assert current(JENKINS).run({**JENKINS, "GIT_COMMIT": ""}, repo).sha == sha


def test_the_github_event_payload_names_the_default_branch_and_a_target_pr(
    tmp_path: Path,
) -> None:
    event = tmp_path / "event.json"
    event.write_text('{"repository": {"default_branch": "trunk"}, "pull_request": {"number": 9}}')
    env = {**GITHUB, "GITHUB_EVENT_NAME": "pull_request_target", "GITHUB_REF": "refs/heads/trunk",
           "GITHUB_HEAD_REF": "feature/y", "GITHUB_EVENT_PATH": str(event)}  # fmt: skip
    run = current(env).run(env, None)
    assert (run.event, run.ref, run.pr, run.default_branch) == ("pr", "feature/y", 9, "trunk")


# One detection rule per provider, whoever asks: the image tags, the notices, the approvals
# and `noxops doctor` once read four different rules.
AMBIGUOUS: dict[str, tuple[dict[str, str], str]] = {
    "nothing": ({}, LOCAL),
    "GITHUB_ACTIONS=false": ({"GITHUB_ACTIONS": "false", "GITHUB_RUN_ID": "1"}, LOCAL),
    "GITHUB_RUN_ID alone": ({"GITHUB_RUN_ID": "1", "GITHUB_REPOSITORY": "a/b"}, LOCAL),
    "BUILD_URL alone": ({"BUILD_URL": "https://builds.example/1"}, LOCAL),
    "CI_PIPELINE_URL alone": ({"CI_PIPELINE_URL": "https://ci.example/p/1"}, LOCAL),
    "JENKINS_HOME alone": ({"JENKINS_HOME": "/var/jenkins_home"}, "jenkins"),
    "JENKINS_URL alone": ({"JENKINS_URL": "https://jenkins.example/"}, "jenkins"),
    "GITLAB_CI=false": ({"GITLAB_CI": "false"}, "gitlab"),
}
_SEEN = ("CI", "GITHUB_ACTIONS", "GITHUB_RUN_ID", "GITHUB_REPOSITORY", "BUILD_URL",
         "CI_PIPELINE_URL", "CI_JOB_URL", "JENKINS_HOME", "JENKINS_URL", "GITLAB_CI")  # fmt: skip


@pytest.mark.parametrize(("env", "name"), AMBIGUOUS.values(), ids=AMBIGUOUS.keys())
def test_every_reader_names_the_same_provider(
    env: dict[str, str], name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert current(env).name == name
    assert detect(env, tmp_path).provider == ("none" if name == LOCAL else name)
    assert ci_context(env).provider == name
    for variable in _SEEN:
        monkeypatch.delenv(variable, raising=False)
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    [finding] = doctor._ci(cast(Config, None), {})
    title = "none" if name == LOCAL else CI_PROVIDERS[name].title
    assert finding.detail.startswith(title), finding.detail


def test_only_a_gitlab_server_approves_a_protected_environment() -> None:
    env = {**GITLAB, "CI_ENVIRONMENT_NAME": "production"}
    assert approval_source("production", [], env) == "GitLab protected environment production"
    # gitlab-ci-local runs the job on a laptop and enforces no approval rule
    assert approval_source("production", [], {**env, "GITLAB_CI": "false"}) is None


# -- the renderers ---------------------------------------------------------------------------


@pytest.fixture
def pipeline(tmp_path: Path) -> CIPipeline:
    config, stages = make_project(tmp_path / "library", "library")
    return build_pipeline(config, stages)


def test_each_provider_renders_the_file_ci_generate_writes(pipeline: CIPipeline) -> None:
    names = [name for name in CI_PROVIDERS if name != LOCAL]
    assert names == file_providers() == list(CONFIG_PROVIDERS)
    for name in names:
        module = importlib.import_module(f"noxops.ci.{name}")
        assert CI_PROVIDERS[name].render(pipeline) == (module.PATH, module.render(pipeline))
    with pytest.raises(NoxopsError, match="the local CI provider has no pipeline file"):
        CI_PROVIDERS[LOCAL].render(pipeline)


# -- a toy provider, declared here -----------------------------------------------------------


class ToyCI(Provider):
    """A CI system noxops does not know: TOYCI=1, its own ref variables, one file."""

    name = "toyci"
    title = "Toy CI"

    def detect(self, env: Mapping[str, str]) -> Optional[str]:
        return "TOYCI" if env.get("TOYCI") == "1" else None

    def run(self, env: Mapping[str, str], cwd: Optional[Path]) -> RunContext:
        ref = env.get("TOYCI_REF", "")
        return RunContext(
            self.name, "branch", ref, sha=env.get("TOYCI_COMMIT", ""), branch=ref,
            url=f"https://toy.example/runs/{env.get('TOYCI_RUN', '')}",
        )  # fmt: skip

    def output_file(self, env: Mapping[str, str]) -> Optional[Path]:
        return Path(env["TOYCI_OUTPUTS"]) if env.get("TOYCI_OUTPUTS") else None

    def pipeline_file(self) -> str:
        return ".toyci.yml"

    def render(self, pipeline: CIPipeline) -> tuple[str, str]:
        lines = [
            f"{job.name}: nox -s {job.name}  # after {','.join(job.needs)}" for job in pipeline.jobs
        ]
        return self.pipeline_file(), f"# {HEADER}\n" + "\n".join(lines) + "\n"


@pytest.fixture
def toy() -> Iterator[Provider]:
    provider = CI_PROVIDERS.register(ToyCI())
    yield provider
    CI_PROVIDERS.unregister(provider.name)


def test_a_toy_provider_renders_its_file_and_reads_its_run(
    toy: Provider, pipeline: CIPipeline, tmp_path: Path
) -> None:
    path, text = toy.render(pipeline)
    written = tmp_path / path
    written.write_text(text, encoding="utf-8")
    jobs = written.read_text(encoding="utf-8").splitlines()[1:]  # after noxops's header
    assert [line.split(":")[0] for line in jobs] == [job.name for job in pipeline.jobs]
    assert "lint: nox -s lint" in jobs[0]

    env = {"TOYCI": "1", "TOYCI_REF": "feature/x", "TOYCI_COMMIT": SHA, "TOYCI_RUN": "77",
           "TOYCI_OUTPUTS": str(tmp_path / "outputs")}  # fmt: skip
    assert current(env) is toy
    assert current({}) is CI_PROVIDERS[LOCAL]
    # every reader asks it: the image tags, the notices
    ref = detect(env, tmp_path)
    assert (ref.provider, ref.name, ref.sha) == ("toyci", "feature/x", SHA)
    assert compute_tags(ref) == ["feature-x", f"feature-x-{SHA[:7]}", f"sha-{SHA[:7]}"]
    ctx = ci_context(env)
    assert (ctx.provider, ctx.branch, ctx.url) == (
        "toyci",
        "feature/x",
        "https://toy.example/runs/77",
    )
    # and its output sink: the build's outputs go to its file
    assert manifest.write_github_output(manifest.Manifest(project="p", version="1.0"), env)
    assert "version=1.0\n" in (tmp_path / "outputs").read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="already registered"):
        CI_PROVIDERS.register(ToyCI())


def test_ci_generate_writes_a_toy_providers_file(tmp_path: Path) -> None:
    """Declaring the provider is all it takes: [tool.noxops.ci] providers accepts it and
    ``noxops ci generate`` writes and checks its file like the built-in providers'."""
    config, stages = make_project(tmp_path / "library", "library")
    with pytest.raises(ConfigError, match="'toyci' is not a CI provider"):
        load(config.root, {"ci": {"providers": ["toyci"]}})
    CI_PROVIDERS.register(ToyCI())
    try:
        config = load(config.root, {"ci": {"providers": ["github", "toyci"]}})
        written = generate(config, "all", stages)
        assert sorted(p.name for p in written) == [".toyci.yml", "ci.yml"]
        jobs = (config.root / ".toyci.yml").read_text(encoding="utf-8").splitlines()
        assert "lint: nox -s lint  # after " in jobs
        assert check(config, stages) == 0  # what was written is what it would write
    finally:
        CI_PROVIDERS.unregister("toyci")
