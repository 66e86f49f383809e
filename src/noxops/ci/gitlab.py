"""The GitLab CI renderer: ``.gitlab-ci.yml`` from the pipeline model."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import Any

from noxops.ci.model import CI_STAGES, NOX_RUNNER, TAG_PREFIX, CIJob, CIPipeline
from noxops.ci.yamldoc import dump

__all__ = ["DIND", "DOCKER_CLI", "PATH", "UV_PRUNE", "render", "render_many"]

PATH = ".gitlab-ci.yml"
DIND = "docker:27-dind"
# Docker jobs without a [tool.noxops.ci] docker_image: Debian's docker CLI in the job image.
DOCKER_CLI = (
    "apt-get update -qq && apt-get install -y -qq --no-install-recommends docker.io >/dev/null"
)
IS_MR = '$CI_PIPELINE_SOURCE == "merge_request_event"'
# GitLab prints the total of `coverage report`; this picks the percentage out of it.
COVERAGE_RE = r"/^TOTAL.*\s(\d+(?:\.\d+)?)%$/"
# The last command of every job, before GitLab saves uv's cache (uv's GitLab CI guide): it
# drops the pre-built wheels, faster downloaded again than carried in the cache (thousands of
# files restored and saved by every job), and keeps the wheels uv built from source.
UV_PRUNE = "uv cache prune --ci"
# The first command of every job: uv, unless the job's image has it already (astral's
# ghcr.io/astral-sh/uv:python3.X-bookworm-slim, a team's own CI image; [tool.noxops.ci] image).
UV_INSTALL = "command -v uv >/dev/null 2>&1 || python -m pip install --quiet uv"


def _rules(pipeline: CIPipeline, job: CIJob) -> list[dict[str, Any]] | None:
    if job.branch:
        rule: dict[str, Any] = {"if": f'$CI_COMMIT_BRANCH == "{job.branch}"'}
        if job.approval:
            rule["when"] = "manual"
        return [rule]
    if job.trigger == "release":  # no rule matches a merge request or another branch
        rules: list[dict[str, Any]] = [{"if": f"$CI_COMMIT_TAG =~ /^{TAG_PREFIX}/"}]
        rules += [{"if": f'$CI_COMMIT_BRANCH == "{b}"'} for b in pipeline.branches]
        if job.run_always:
            for rule in rules:
                rule["when"] = "always"
        return rules
    if job.run_always:
        return [{"when": "always"}]
    return None


def _services(pipeline: CIPipeline, job: CIJob) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The job's service containers and its variables (service URLs, Docker, secrets)."""
    services: list[dict[str, Any]] = []
    variables: dict[str, str] = dict(job.env)
    for svc in job.services:
        entry: dict[str, Any] = {"name": svc.image, "alias": svc.name}
        if svc.env:
            entry["variables"] = dict(svc.env)
        services.append(entry)
        variables[svc.url_var] = svc.url(svc.name)
    if job.docker and pipeline.docker_engine == "dind":
        services.append({"name": DIND, "alias": "docker"})
        variables.update(
            {
                "DOCKER_HOST": "tcp://docker:2376",
                "DOCKER_TLS_CERTDIR": "/certs",
                "DOCKER_TLS_VERIFY": "1",
                "DOCKER_CERT_PATH": "/certs/client",
            }
        )
    elif job.docker:  # the runner mounts the host's socket into the job container
        variables["DOCKER_HOST"] = "unix:///var/run/docker.sock"
    variables.update({var: f"${secret}" for var, secret in job.secrets})
    if job.full_history:  # the version comes from git tags: a shallow clone has none
        variables["GIT_DEPTH"] = "0"
    return services, variables


def _artifacts(pipeline: CIPipeline, job: CIJob) -> dict[str, Any]:
    """Artifacts and reports, from the repository's top (where GitLab reads paths)."""
    reports: dict[str, Any] = {}
    for report in job.reports:
        path = pipeline.at(report.path.replace("{python}", "$PYTHON").replace("{shard}", "$SHARD"))
        if report.kind == "junit":
            reports["junit"] = path
        elif report.kind == "coverage":
            reports["coverage_report"] = {"coverage_format": "cobertura", "path": path}
        elif report.kind == "codequality":
            reports["codequality"] = path
    artifacts: dict[str, Any] = {
        "when": "always",
        "expire_in": "30 days" if job.stage == "build" else "1 week",
        "paths": [pipeline.at(f"{art.path}/") for art in job.artifacts],
    }
    if reports:
        artifacts["reports"] = reports
    return artifacts


def _needs(pipeline: CIPipeline, job: CIJob) -> list[Any]:
    return [
        (
            {"job": pipeline.id(name), "optional": True}
            if pipeline.optional_need(job, name)
            else pipeline.id(name)
        )
        for name in job.needs
    ]


def _when_changed(pipeline: CIPipeline, rules: list[dict[str, Any]] | None) -> Any:
    """``rules`` that also ask for a change under ``pipeline.changes`` (a project sharing the
    pipeline with others). A tag runs everything (GitLab has nothing to compare a tag with,
    and a tag releases every project); a merge request compares with its target branch; a
    push to the default or a deploy branch with the commit before it; any other branch with
    the default branch (``compare_to``), so that a new branch does not run everything and
    its latest pipeline covers all it changed."""
    if not pipeline.changes:
        return rules
    paths = {"paths": list(pipeline.changes)}
    since_default = {**paths, "compare_to": f"refs/heads/{pipeline.default_branch}"}
    out: list[dict[str, Any]] = []
    for rule in rules if rules is not None else [{}]:
        when = {key: value for key, value in rule.items() if key != "if"}
        condition = rule.get("if")
        if condition is None:  # every pipeline the workflow runs
            out.append({"if": "$CI_COMMIT_TAG", **when})
            out.append({"if": IS_MR, "changes": paths, **when})
            for branch in pipeline.branches:
                pushed = f'$CI_COMMIT_BRANCH == "{branch}"'
                out += [{"if": pushed, "changes": paths, **when}, {"if": pushed, "when": "never"}]
            out.append({"if": "$CI_COMMIT_BRANCH", "changes": since_default, **when})
        elif "$CI_COMMIT_TAG" in condition:
            out.append(rule)
        else:  # a push to the default or a deploy branch
            out.append({"if": condition, "changes": paths, **when})
    return out


def _replay_line(pipeline: CIPipeline, job: CIJob) -> list[str]:
    """``replay = "branches"``: the job's session runs with --changed-only
    (``NOXOPS_CHANGED_ONLY``, read by noxops.incremental.changed), forced on a tag and on the
    default and deploy branches (``NOXOPS_FORCE``): those run in full and refresh the records,
    the tests' map of affected tests among them, which only a --changed-only run keeps
    ("always": a job variable)."""
    if not job.records or pipeline.replay != "branches":
        return []
    full = ['[ -n "$CI_COMMIT_TAG" ]']
    full += [f'[ "$CI_COMMIT_BRANCH" = "{b}" ]' for b in pipeline.branches]
    return [
        f"if {' || '.join(full)}; then export NOXOPS_CHANGED_ONLY=1 NOXOPS_FORCE=1;"
        " else export NOXOPS_CHANGED_ONLY=1; fi"
    ]


def _uv_cache(pipeline: CIPipeline) -> dict[str, Any]:
    """uv's cache, keyed on the project's pyproject.toml, as each job leaves it after
    :data:`UV_PRUNE`. Not pip's: pip only downloads uv itself, a pre-built wheel."""
    return {
        "key": {"files": [pipeline.at("pyproject.toml")], "prefix": "uv"},
        "paths": [".cache/uv"],
    }


def _records_cache(pipeline: CIPipeline, name: str, path: str) -> dict[str, Any]:
    """A cache of ``path`` under ``name`` for the branch (the merge request's source branch),
    falling back to the default branch's: GitLab keeps protected and unprotected branches'
    caches apart unless the project shares them (docs/ci.md says what that means here)."""
    return {
        "key": f"{name}-$CI_COMMIT_REF_SLUG",
        "fallback_keys": [f"{name}-$CI_DEFAULT_BRANCH"],
        "paths": [pipeline.at(path)],
    }


def _caches(pipeline: CIPipeline, job: CIJob) -> list[dict[str, Any]] | None:
    """The job's caches when it has more than the shared one (a job's ``cache`` replaces the
    default's): its session records with uv's cache in the same entry (saved when it passed;
    one archive to restore and save, not two), and the test durations a shard reads and the
    coverage job saves. Pull-push ones first: gitlab-ci-local stops at the first entry whose
    policy does not match the step it is at."""
    if not job.records and not job.durations:
        return None
    name = f"noxops-{pipeline.id(job.name, '-')}"
    if job.matrix:
        name += "-$PYTHON"
    if job.shards > 1:
        name += "-shard$SHARD"
    if job.records:
        records = _records_cache(pipeline, name, pipeline.records)
        caches = [{**records, "paths": [*records["paths"], *_uv_cache(pipeline)["paths"]]}]
    else:
        caches = [_uv_cache(pipeline)]
    durations = _records_cache(
        pipeline, f"noxops-{pipeline.id('durations', '-')}", pipeline.durations
    )
    if job.durations == "restore":
        caches.append({**durations, "policy": "pull"})
    elif job.durations == "save":
        caches.append({**durations, "policy": "push", "when": "always"})
    return caches


def _script(pipeline: CIPipeline, job: CIJob) -> list[str]:
    script = [NOX_RUNNER] if job.below_nox_floor else []
    script.append(shlex.join(["uv", "pip", "install", "--system", *pipeline.install(job)]))
    if job.docker and not pipeline.docker_image:
        script.append(DOCKER_CLI)
    if job.handover in ("load", "pull"):
        script.append(shlex.join(job.handover_argv()))
    script += _replay_line(pipeline, job)
    script.append(" ".join(job.nox_argv('"$PYTHON"' if job.matrix else None, '"$SHARD"')))
    if job.handover == "save":
        script.append(shlex.join(job.handover_argv()))
    script.append(UV_PRUNE)  # after a failure nothing runs, and the cache is not saved
    return script


def _job(pipeline: CIPipeline, job: CIJob) -> dict[str, Any]:
    body: dict[str, Any] = {"extends": f".{pipeline.key}"} if pipeline.key else {}
    body.update({"stage": job.stage, "needs": _needs(pipeline, job)})
    body["image"] = pipeline.image_for(job, "$PYTHON" if job.matrix else None)
    rules = _rules(pipeline, job)
    if rules:  # else the template's, when the project shares the pipeline (see _defaults)
        body["rules"] = _when_changed(pipeline, rules)
    if job.environment:
        body["environment"] = {"name": job.environment}
        if job.url:
            body["environment"]["url"] = job.url
        body["resource_group"] = pipeline.id(job.environment, "-")
        body["interruptible"] = False  # never stop a deployment half way
    body["timeout"] = f"{job.timeout_minutes}m"
    if job.matrix:
        axes: dict[str, Any] = {"PYTHON": list(job.matrix)}
        if job.shards > 1:  # PYTHON x SHARD: each shard of each Python is a job
            axes["SHARD"] = job.shard_numbers
        body["parallel"] = {"matrix": [axes]}
    services, variables = _services(pipeline, job)
    if job.records:
        variables.update(_replay_variables(pipeline))
    if services:
        body["services"] = services
    if variables:
        body["variables"] = variables
    caches = _caches(pipeline, job)
    if caches:
        body["cache"] = caches
    body["script"] = _script(pipeline, job)
    if any(r.kind == "coverage" for r in job.reports):
        body["coverage"] = COVERAGE_RE
    body["artifacts"] = _artifacts(pipeline, job)
    return body


def _replay_variables(pipeline: CIPipeline) -> dict[str, str]:
    """``replay = "always"``: --changed-only on every pipeline (``NOXOPS_FORCE=1``, a variable
    of the pipeline or project, still runs everything in full)."""
    return {"NOXOPS_CHANGED_ONLY": "1"} if pipeline.replay == "always" else {}


def _defaults(pipeline: CIPipeline) -> dict[str, Any]:
    """What every job of ``pipeline`` shares: the uv cache keyed on its pyproject.toml, uv
    installed, its folder as the working one; in a pipeline shared with other projects, the
    rules of the jobs that have none of their own (they run on every event, when its files
    change)."""
    before = [UV_INSTALL]
    if pipeline.workdir:  # the project's folder: where every job's commands run
        before.append(shlex.join(["cd", pipeline.workdir]))
    shared: dict[str, Any] = {"cache": _uv_cache(pipeline), "before_script": before}
    if pipeline.changes:
        shared["rules"] = _when_changed(pipeline, None)
    return shared


def _document(stages: list[str]) -> dict[str, Any]:
    return {
        "workflow": {
            "rules": [
                {"if": IS_MR},
                {"if": "$CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS", "when": "never"},
                {"if": "$CI_COMMIT_BRANCH"},
                {"if": "$CI_COMMIT_TAG"},
            ]
        },
        "stages": stages,
        "variables": {
            "UV_CACHE_DIR": "$CI_PROJECT_DIR/.cache/uv",
            "UV_LINK_MODE": "copy",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        },
        "default": {"interruptible": True},
    }


def render(pipeline: CIPipeline) -> str:
    """The ``.gitlab-ci.yml`` text."""
    doc = _document(pipeline.stages)
    doc["default"].update(_defaults(pipeline))
    for job in pipeline.jobs:
        doc[job.name] = _job(pipeline, job)
    return dump(doc, pipeline.header)


def render_many(pipelines: Sequence[CIPipeline], header: Sequence[str]) -> str:
    """One ``.gitlab-ci.yml`` for several projects of a repository, each with a ``key``: its
    jobs are named ``<key>:<job>``, need only one another, share a template ``.<key>`` (its
    cache, its folder) and run when its files change (``rules: changes``)."""
    used = {stage for pipeline in pipelines for stage in pipeline.stages}
    doc = _document([stage for stage in CI_STAGES if stage in used])
    for pipeline in pipelines:
        doc[f".{pipeline.key}"] = _defaults(pipeline)
        for job in pipeline.jobs:
            doc[pipeline.id(job.name)] = _job(pipeline, job)
    return dump(doc, header)
