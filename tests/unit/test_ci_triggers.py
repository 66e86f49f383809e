"""Which jobs run on which event and branch, read back from each generated file.

Each provider's file is evaluated by a small interpreter of the conditions noxops writes
(GitHub `on:` and job `if:` with skipped needs, GitLab `workflow:rules` and job `rules`,
Jenkins `when { branch / tag / anyOf }`), and the result must be the table docs/ci.md states:
pull requests and release/hotfix branches run the checks (quality, tests, integration,
report); the default and deploy branches and v* tags also build and smoke-test the image;
deploy-<env> runs on its own branch only.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from fixtures.ci_projects import declared, fake_stages, make_project, make_repository

from noxops.ci import command, github, gitlab, jenkins
from noxops.ci.model import CIPipeline, build_pipeline
from noxops.config import load

yaml = pytest.importorskip("yaml")

CHECKS = {"lint", "type", "security", "audit-licenses", "tests", "coverage", "integration"}
CHECKS |= {"report"}
RELEASE = {"build", "docs", "smoke"}
# event -> (kind, ref name) ; kind: pr, branch or tag
EVENTS = {
    "pull request": ("pr", "feature/x"),
    "feature branch": ("branch", "feature/x"),
    "release branch": ("branch", "release/1.2"),
    "hotfix branch": ("branch", "hotfix/1.2.1"),
    "develop": ("branch", "develop"),
    "main": ("branch", "main"),
    "tag": ("tag", "v1.2.0"),
}
EXPECTED: dict[str, set[str]] = {
    "pull request": CHECKS,
    "release branch": CHECKS,
    "hotfix branch": CHECKS,
    "develop": CHECKS | RELEASE | {"deploy-staging"},
    "main": CHECKS | RELEASE | {"deploy-production"},
    "tag": CHECKS | RELEASE,
}
# A feature branch runs the checks through its pull request on GitHub; GitLab and Jenkins
# (multibranch) also run them for the branch's pushes (GitLab: unless a merge request is open).
FEATURE = {"github": set(), "gitlab": CHECKS, "jenkins": CHECKS}


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> CIPipeline:
    config, stages = make_project(tmp_path_factory.mktemp("triggers") / "service", "service")
    return build_pipeline(config, stages)


# -- GitHub ---------------------------------------------------------------------------------


def _github_expr(expr: str, event: str, ref: str) -> bool:
    text = expr.strip()
    text = text.removeprefix("${{").removesuffix("}}")
    text = text.replace("!cancelled()", "True")
    text = re.sub(r"startsWith\(github\.ref, '([^']*)'\)", r"ref.startswith('\1')", text)
    text = text.replace("github.event_name", "event").replace("github.ref", "ref")
    text = text.replace("&&", " and ").replace("||", " or ")
    assert re.fullmatch(r"[\w\s'()=./*-]*", text), f"unexpected condition {expr!r}"
    return bool(eval(text, {"__builtins__": {}}, {"event": event, "ref": ref}))  # noqa: S307


def _glob(path: str, pattern: str) -> bool:
    """GitHub's, GitLab's and Ant's ``**``: any characters, folders included."""
    return fnmatch.fnmatchcase(path, pattern.replace("**", "*"))


def github_jobs(text: str, kind: str, name: str, changed: Sequence[str] = ()) -> set[str]:
    """The jobs a push/pull request runs; ``changed``: the files it changes (a workflow's
    ``paths`` filter needs one of them, except on a tag: GitHub does not evaluate it there)."""
    workflow = yaml.safe_load(text)
    triggers = workflow[True]
    if kind == "pr":
        event, ref = "pull_request", "refs/pull/1/merge"
    else:
        event = "push"
        ref = f"refs/tags/{name}" if kind == "tag" else f"refs/heads/{name}"
        patterns = triggers["push"]["tags" if kind == "tag" else "branches"]
        if not any(fnmatch.fnmatch(name, p.replace("**", "*")) for p in patterns):
            return set()
    paths = (triggers[event] or {}).get("paths")
    if paths is not None and kind != "tag" and not any(_glob(f, p) for f in changed for p in paths):
        return set()
    ran: set[str] = set()
    for job, body in workflow["jobs"].items():  # needs come first in the file
        condition = body.get("if")
        tolerant = condition is not None and "!cancelled()" in condition
        if not tolerant and not set(body.get("needs", [])) <= ran:
            continue  # a skipped need skips the job
        if condition is None or _github_expr(condition, event, ref):
            ran.add(job)
    return ran


# -- GitLab ---------------------------------------------------------------------------------


def _gitlab_expr(expr: str, variables: dict[str, str]) -> bool:
    def one(term: str) -> bool:
        term = term.strip()
        if m := re.fullmatch(r'\$(\w+) == "([^"]*)"', term):
            return variables.get(m[1]) == m[2]
        if m := re.fullmatch(r"\$(\w+) =~ /(.*)/", term):
            return bool(re.search(m[2], variables.get(m[1], "")))
        if m := re.fullmatch(r"\$(\w+)", term):
            return bool(variables.get(m[1]))
        raise AssertionError(f"unexpected rule {expr!r}")

    return all(one(t) for t in expr.split("&&"))


def _gitlab_changes(changes: Any, variables: dict[str, str], changed: Sequence[str]) -> bool:
    """``rules: changes``: true in a tag pipeline (GitLab has nothing to compare there),
    else when a changed file matches (``changed`` stands for the merge request's changes,
    the push's, or the branch's since ``compare_to``)."""
    if variables.get("CI_COMMIT_TAG"):
        return True
    paths = changes["paths"] if isinstance(changes, dict) else changes
    return any(_glob(f, p) for f in changed for p in paths)


def _gitlab_rules(
    rules: list[dict[str, Any]] | None, variables: dict[str, str], changed: Sequence[str] = ()
) -> bool:
    if rules is None:
        return True
    for rule in rules:
        if "if" in rule and not _gitlab_expr(rule["if"], variables):
            continue
        if "changes" in rule and not _gitlab_changes(rule["changes"], variables, changed):
            continue
        return bool(rule.get("when", "on_success") != "never")
    return False


def _gitlab_job(doc: dict[str, Any], job: str) -> dict[str, Any]:
    """The job with what it `extends` (a key the job does not set comes from the template)."""
    body = doc[job]
    return {**doc[body["extends"]], **body} if "extends" in body else body


def gitlab_jobs(text: str, kind: str, name: str, changed: Sequence[str] = ()) -> set[str]:
    doc = yaml.safe_load(text)
    variables = {
        "pr": {"CI_PIPELINE_SOURCE": "merge_request_event"},
        "branch": {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": name},
        "tag": {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_TAG": name},
    }[kind]
    if not _gitlab_rules(doc["workflow"]["rules"], variables):
        return set()
    keywords = {"workflow", "stages", "variables", "default"}
    ran = {
        job
        for job, body in doc.items()
        if job not in keywords
        and not job.startswith(".")  # a template (extends:), not a job
        and _gitlab_rules(_gitlab_job(doc, job).get("rules"), variables, changed)
    }
    for job in ran:  # a pipeline whose jobs need an absent job would not even be created
        for need in doc[job]["needs"]:
            if isinstance(need, str):
                assert need in ran, f"{job} needs {need}, which is not in the pipeline"
    return ran


# -- Jenkins --------------------------------------------------------------------------------


def _block(text: str, start: int) -> str:
    depth = 0
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0 and text[i] == "}":
            return text[start : i + 1]
    raise AssertionError("unbalanced")


JENKINS_NO_CHANGES = "expression { currentBuild.changeSets.isEmpty() }"


def _jenkins_when(block: str, branch: str, tag: str, changed: Sequence[str] = ()) -> bool:
    """The stage's own `when` (before its nested stages/steps), as Jenkins evaluates it: any
    of its conditions (`anyOf`, or the one it holds); ``changed``: the build's changelog
    (empty on a branch's first build, a tag's, a rebuild)."""
    head = re.split(r"\n\s*(?:stages|matrix|steps|agent|parallel) \{", block, maxsplit=1)[0]
    if "when {" not in head:
        return True
    when = _block(head, head.index("when {"))
    branches = re.findall(r"\bbranch '([^']*)'", when)
    tags = re.findall(r"\btag '([^']*)'", when)
    changesets = re.findall(r"\bchangeset '([^']*)'", when)
    return (
        any(b == branch for b in branches)
        or any(tag and fnmatch.fnmatch(tag, t) for t in tags)
        or any(_glob(f, p) for f in changed for p in changesets)
        or (JENKINS_NO_CHANGES in when and not changed)
    )


def jenkins_jobs(
    text: str, kind: str, name: str, pipeline: CIPipeline, changed: Sequence[str] = ()
) -> set[str]:
    """The jobs (stages) a build runs; in a Jenkinsfile shared by several projects, inside
    the stage named after ``pipeline.key``, prefixed with it (``backend: lint``)."""
    # a multibranch build: BRANCH_NAME is PR-<n> for a change request, the tag for a tag
    branch = {"pr": "PR-1", "branch": name, "tag": name}[kind]
    tag = name if kind == "tag" else ""
    prefix = f"{pipeline.key}: " if pipeline.key else ""
    if pipeline.key:
        text = _block(text, text.index(f"stage('{pipeline.key}') {{"))
        if not _jenkins_when(text, branch, tag, changed):
            return set()
    ran: set[str] = set()
    for stage in pipeline.stages:
        title = prefix + jenkins.STAGE_TITLES[stage]
        outer = _block(text, text.index(f"stage('{title}') {{"))
        if not _jenkins_when(outer, branch, tag):
            continue
        for job in pipeline.in_stage(stage):
            if pipeline.notify_stage and job.name == "notify":
                continue  # not a stage: the pipeline's post runs it (see below)
            inner = _block(outer, outer.index(f"stage('{prefix}{job.name}') {{"))
            if job.matrix:
                inner = _block(inner, inner.index(f"stage('{prefix}{job.name} (matrix)') {{"))
            if _jenkins_when(inner, branch, tag):
                ran.add(pipeline.id(job.name))
    return ran


# -- the table ------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["github", "gitlab", "jenkins"])
@pytest.mark.parametrize("event", list(EVENTS))
def test_which_jobs_run_on_each_event_and_branch(
    pipeline: CIPipeline, provider: str, event: str
) -> None:
    kind, name = EVENTS[event]
    if provider == "github":
        ran = github_jobs(github.render(pipeline), kind, name)
    elif provider == "gitlab":
        ran = gitlab_jobs(gitlab.render(pipeline), kind, name)
    else:
        ran = jenkins_jobs(jenkins.render(pipeline), kind, name, pipeline)
    expected = FEATURE[provider] if event == "feature branch" else EXPECTED[event]
    assert ran == expected


# A project with a Sonar project and notifications: sonar and notify get their jobs.
NOTIFYING = """
[project]
name = "svc"
[tool.noxops.report]
sonar_project_key = "acme_svc"
[tool.noxops.notify]
"""


@pytest.fixture(scope="module")
def notifying(tmp_path_factory: pytest.TempPathFactory) -> CIPipeline:
    root = tmp_path_factory.mktemp("notifying")
    (root / "pyproject.toml").write_text(NOTIFYING, encoding="utf-8")
    extra = (declared("sonar"), declared("notify"))
    return build_pipeline(load(root), fake_stages(integration=False, image=False, extra=extra))


def _after(graph: dict[str, list[str]], job: str) -> set[str]:
    """Every job ``job`` waits for, directly or not."""
    seen: set[str] = set()
    todo = list(graph[job])
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += graph[name]
    return seen


@pytest.mark.parametrize("provider", ["github", "gitlab", "jenkins"])
@pytest.mark.parametrize("event", ["main", "pull request", "tag"])
def test_notify_and_sonar_run_after_the_report(
    notifying: CIPipeline, provider: str, event: str
) -> None:
    """notify sends the report's summary.json, sonar reads its reports: on every provider
    and event they run, and only once the report job is done (else "outcome: unknown")."""
    kind, name = EVENTS[event]
    if provider == "github":
        text = github.render(notifying)
        ran = github_jobs(text, kind, name)
        jobs = yaml.safe_load(text)["jobs"]
        graph = {job: list(body.get("needs", [])) for job, body in jobs.items()}
    elif provider == "gitlab":
        text = gitlab.render(notifying)
        ran = gitlab_jobs(text, kind, name)
        doc = yaml.safe_load(text)
        graph = {
            job: [n if isinstance(n, str) else n["job"] for n in body["needs"]]
            for job, body in doc.items()
            if isinstance(body, dict) and "script" in body
        }
    else:
        text = jenkins.render(notifying)
        ran = jenkins_jobs(text, kind, name, notifying)
        stages, post = text.split("\n    post {", 1)
        report = _block(stages, stages.index("stage('Report') {"))
        # Stages run in order and these are not in a `parallel` beside the report.
        assert "parallel" not in report
        assert report.index("stage('report')") < report.index("stage('sonar')")
        assert "stage('notify')" not in stages  # the pipeline's post runs it, after all
        for status in ("failure", "success"):
            block = _block(post, post.index(f"{status} {{"))
            assert block.index("checkout scm") < block.index("unstash 'reports-report'")
            assert block.index("unstash 'reports-report'") < block.index("-s notify")
        assert {"report", "sonar"} <= ran
        return
    assert {"report", "sonar", "notify"} <= ran
    assert "report" in _after(graph, "notify")
    assert "report" in _after(graph, "sonar")


def test_gitlab_branch_pipelines_stop_while_a_merge_request_is_open(pipeline: CIPipeline) -> None:
    rules = yaml.safe_load(gitlab.render(pipeline))["workflow"]["rules"]
    open_mr = {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "feature/x"}
    open_mr["CI_OPEN_MERGE_REQUESTS"] = "acme/svc!1"
    assert not _gitlab_rules(rules, open_mr)  # the merge request pipeline runs instead


def test_docs_state_the_same_table() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "ci.md").read_text(encoding="utf-8")
    table = docs[docs.index("<!-- triggers -->") : docs.index("<!-- /triggers -->")]
    rows = {
        line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
        for line in table.splitlines()
        if line.startswith("| ") and not line.startswith("| event")
    }
    assert set(rows) == {
        "pull/merge request",
        "push: feature/*",
        "push: release/*, hotfix/*",
        "push: develop",
        "push: main",
        "tag v*",
    }
    assert rows["pull/merge request"][:3] == ["yes", "—", "—"]
    assert rows["push: develop"][:3] == ["yes", "yes", "staging"]
    assert rows["push: main"][:3] == ["yes", "yes", "production (after approval)"]
    assert rows["tag v*"][:3] == ["yes", "yes", "—"]
    assert rows["push: release/*, hotfix/*"][:3] == ["yes", "—", "—"]


# -- a repository holding two projects --------------------------------------------------------

PROJECTS = ("backend", "frontend")
# A file a push or pull request changes -> the projects whose jobs it runs (a tag runs both).
CHANGES = {
    "backend/svc/app.py": {"backend"},
    "frontend/pyproject.toml": {"frontend"},
    "README.md": set(),
}


@pytest.fixture(scope="module")
def two_projects(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[dict[str, str], dict[str, CIPipeline]]:
    """The files `noxops ci generate` writes for a repository with a service in backend/ and
    another in frontend/, and each one's pipeline (its jobs, its key)."""
    top = tmp_path_factory.mktemp("monorepo") / "repo"
    configs, stages_of = make_repository(top, {p: "service" for p in PROJECTS})
    backend = configs["backend"]
    files = command.expected_files(backend, "all", stages_of(backend), others=stages_of)
    pipelines = {
        p: dataclasses.replace(build_pipeline(configs[p], stages_of(configs[p])), key=p)
        for p in PROJECTS
    }
    return files, pipelines


def _two_ran(
    provider: str,
    two: tuple[dict[str, str], dict[str, CIPipeline]],
    kind: str,
    name: str,
    changed: Sequence[str],
) -> set[str]:
    """Every job that runs, as ``<project>:<job>``."""
    files, pipelines = two
    if provider == "github":  # one workflow per project
        return {
            f"{p}:{job}"
            for p in PROJECTS
            for job in github_jobs(files[f".github/workflows/ci-{p}.yml"], kind, name, changed)
        }
    if provider == "gitlab":
        return gitlab_jobs(files[".gitlab-ci.yml"], kind, name, changed)
    text = files["Jenkinsfile"]
    return {job for p in PROJECTS for job in jenkins_jobs(text, kind, name, pipelines[p], changed)}


@pytest.mark.parametrize("provider", ["github", "gitlab", "jenkins"])
@pytest.mark.parametrize("event", list(EVENTS))
@pytest.mark.parametrize("changed", list(CHANGES))
def test_each_projects_jobs_run_when_its_files_change(
    two_projects: tuple[dict[str, str], dict[str, CIPipeline]],
    provider: str,
    event: str,
    changed: str,
) -> None:
    """The table above for the project whose folder changed, nothing for the other one; a
    v* tag releases both, whatever it changed."""
    kind, name = EVENTS[event]
    ran = _two_ran(provider, two_projects, kind, name, [changed])
    jobs = FEATURE[provider] if event == "feature branch" else EXPECTED[event]
    touched = set(PROJECTS) if kind == "tag" else CHANGES[changed]
    assert ran == {f"{p}:{job}" for p in touched for job in jobs}


@pytest.mark.parametrize(
    ("provider", "changed", "touched"),
    [
        ("github", ".github/workflows/ci-backend.yml", {"backend"}),
        ("gitlab", ".gitlab-ci.yml", set(PROJECTS)),
        ("jenkins", "Jenkinsfile", set(PROJECTS)),
    ],
)
def test_a_change_to_the_pipeline_file_runs_the_jobs_it_holds(
    two_projects: tuple[dict[str, str], dict[str, CIPipeline]],
    provider: str,
    changed: str,
    touched: set[str],
) -> None:
    ran = _two_ran(provider, two_projects, "pr", "feature/x", [changed])
    assert ran == {f"{p}:{job}" for p in touched for job in EXPECTED["pull request"]}


def test_jenkins_runs_every_project_when_the_build_has_no_changelog(
    two_projects: tuple[dict[str, str], dict[str, CIPipeline]],
) -> None:
    """`changeset` is false when the build has no changelog: a branch's (or pull request's)
    first build, a rebuild. Then every project runs; and the changelog exists before the
    projects' conditions are read: a first stage checks out (the pipeline has `agent none`)."""
    ran = _two_ran("jenkins", two_projects, "branch", "main", [])
    assert ran == {f"{p}:{job}" for p in PROJECTS for job in EXPECTED["main"]}
    text = two_projects[0]["Jenkinsfile"]
    stages = _block(text, text.index("    stages {"))
    first = re.search(r"stage\('([^']*)'\) \{", stages)
    assert first is not None and first[1] == "Changes"
    changes = _block(stages, first.start())
    assert "agent any" in changes and "when" not in changes
    assert stages.index("stage('Changes')") < stages.index("stage('backend')")


def test_gitlab_needs_stay_in_the_project_and_branches_compare_to_the_default_one(
    two_projects: tuple[dict[str, str], dict[str, CIPipeline]],
) -> None:
    """A branch's pipeline compares with the default branch (its latest pipeline covers all
    it changed, and a new branch does not run everything); the default and deploy branches
    compare each push with the one before; a merge request with its target."""
    doc = yaml.safe_load(two_projects[0][".gitlab-ci.yml"])
    compared = 0
    for job, body in doc.items():
        if not isinstance(body, dict) or "script" not in body:
            continue
        project = job.split(":", 1)[0]
        assert project in PROJECTS, job
        assert body["extends"] == f".{project}"
        for need in body["needs"]:
            assert (need if isinstance(need, str) else need["job"]).startswith(f"{project}:")
        for rule in _gitlab_job(doc, job).get("rules", []):
            changes = rule.get("changes", {})
            assert changes == {} or changes["paths"] == [f"{project}/**", ".gitlab-ci.yml"]
            if "compare_to" in changes:
                compared += 1
                assert rule["if"] == "$CI_COMMIT_BRANCH", (job, rule)
                assert changes["compare_to"] == "refs/heads/main"
    assert compared
    assert doc[".backend"]["before_script"][-1] == "cd backend"
    assert doc[".frontend"]["cache"]["key"]["files"] == ["frontend/pyproject.toml"]


@pytest.mark.parametrize("provider", ["github", "gitlab", "jenkins"])
def test_a_project_runs_when_code_it_uses_from_outside_its_folder_changes(
    tmp_path: Path, provider: str
) -> None:
    """[tool.noxops.ci] changes: the backend imports shared/ (and builds its image from the
    top), so a change there runs its jobs; the frontend's stay skipped."""
    top = tmp_path / "repo"
    configs, stages_of = make_repository(top, {p: "service" for p in PROJECTS})
    pyproject = top / "backend" / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(
        text.replace("[tool.noxops.ci]", '[tool.noxops.ci]\nchanges = ["shared/**"]')
    )
    backend = load(top / "backend")
    files = command.expected_files(backend, "all", stages_of(backend), others=stages_of)
    pipelines = {
        p: dataclasses.replace(build_pipeline(load(top / p), stages_of(configs[p])), key=p)
        for p in PROJECTS
    }
    ran = _two_ran(provider, (files, pipelines), "pr", "feature/x", ["shared/greetings/hi.py"])
    assert ran == {f"backend:{job}" for job in EXPECTED["pull request"]}
