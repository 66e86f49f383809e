"""Which jobs run on which event and branch, read back from each generated file.

Each provider's file is evaluated by a small interpreter of the conditions noxops writes
(GitHub `on:` and job `if:` with skipped needs, GitLab `workflow:rules` and job `rules`,
Jenkins `when { branch / tag / anyOf }`), and the result must be the table docs/ci.md states:
pull requests and release/hotfix branches run the checks (quality, tests, integration,
report); the default and deploy branches and v* tags also build and smoke-test the image;
deploy-<env> runs on its own branch only.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import Any

import pytest
from fixtures.ci_projects import declared, fake_stages, make_project

from noxops.ci import github, gitlab, jenkins
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


def github_jobs(text: str, kind: str, name: str) -> set[str]:
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


def _gitlab_rules(rules: list[dict[str, Any]] | None, variables: dict[str, str]) -> bool:
    if rules is None:
        return True
    for rule in rules:
        if "if" not in rule or _gitlab_expr(rule["if"], variables):
            return bool(rule.get("when", "on_success") != "never")
    return False


def gitlab_jobs(text: str, kind: str, name: str) -> set[str]:
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
        if job not in keywords and _gitlab_rules(body.get("rules"), variables)
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


def _jenkins_when(block: str, branch: str, tag: str) -> bool:
    """The stage's own `when` (before its nested stages/steps), as Jenkins evaluates it."""
    head = re.split(r"\n\s*(?:stages|matrix|steps|agent|parallel) \{", block, maxsplit=1)[0]
    if "when {" not in head:
        return True
    when = _block(head, head.index("when {"))
    branches = re.findall(r"\bbranch '([^']*)'", when)
    tags = re.findall(r"\btag '([^']*)'", when)
    return any(b == branch for b in branches) or any(tag and fnmatch.fnmatch(tag, t) for t in tags)


def jenkins_jobs(text: str, kind: str, name: str, pipeline: CIPipeline) -> set[str]:
    # a multibranch build: BRANCH_NAME is PR-<n> for a change request, the tag for a tag
    branch = {"pr": "PR-1", "branch": name, "tag": name}[kind]
    tag = name if kind == "tag" else ""
    ran: set[str] = set()
    for stage in pipeline.stages:
        title = jenkins.STAGE_TITLES[stage]
        outer = _block(text, text.index(f"stage('{title}') {{"))
        if not _jenkins_when(outer, branch, tag):
            continue
        for job in pipeline.in_stage(stage):
            if pipeline.notify_stage and job.name == "notify":
                continue  # not a stage: the pipeline's post runs it (see below)
            inner = _block(outer, outer.index(f"stage('{job.name}') {{"))
            if job.matrix:
                inner = _block(inner, inner.index(f"stage('{job.name} (matrix)') {{"))
            if _jenkins_when(inner, branch, tag):
                ran.add(job.name)
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
