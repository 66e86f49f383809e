"""The GitLab CI renderer: ``.gitlab-ci.yml`` from the pipeline model."""

from __future__ import annotations

import shlex
from typing import Any

from noxops.ci.model import NOX_RUNNER, TAG_PREFIX, CIJob, CIPipeline
from noxops.ci.yamldoc import dump

__all__ = ["DIND", "DOCKER_CLI", "PATH", "render"]

PATH = ".gitlab-ci.yml"
DIND = "docker:27-dind"
# Docker jobs without a [tool.noxops.ci] docker_image: Debian's docker CLI in the job image.
DOCKER_CLI = (
    "apt-get update -qq && apt-get install -y -qq --no-install-recommends docker.io >/dev/null"
)
IS_MR = '$CI_PIPELINE_SOURCE == "merge_request_event"'
# GitLab prints the total of `coverage report`; this picks the percentage out of it.
COVERAGE_RE = r"/^TOTAL.*\s(\d+(?:\.\d+)?)%$/"


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
        path = pipeline.at(report.path.replace("{python}", "$PYTHON"))
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
        {"job": name, "optional": True} if pipeline.optional_need(job, name) else name
        for name in job.needs
    ]


def _script(pipeline: CIPipeline, job: CIJob) -> list[str]:
    script = [NOX_RUNNER] if job.below_nox_floor else []
    script.append(shlex.join(["uv", "pip", "install", "--system", *pipeline.install(job)]))
    if job.docker and not pipeline.docker_image:
        script.append(DOCKER_CLI)
    if job.handover in ("load", "pull"):
        script.append(shlex.join(job.handover_argv()))
    script.append(" ".join(job.nox_argv('"$PYTHON"' if job.matrix else None)))
    if job.handover == "save":
        script.append(shlex.join(job.handover_argv()))
    return script


def _job(pipeline: CIPipeline, job: CIJob) -> dict[str, Any]:
    body: dict[str, Any] = {"stage": job.stage, "needs": _needs(pipeline, job)}
    body["image"] = pipeline.image_for(job, "$PYTHON" if job.matrix else None)
    rules = _rules(pipeline, job)
    if rules:
        body["rules"] = rules
    if job.environment:
        body["environment"] = {"name": job.environment}
        if job.url:
            body["environment"]["url"] = job.url
        body["resource_group"] = job.environment
        body["interruptible"] = False  # never stop a deployment half way
    body["timeout"] = f"{job.timeout_minutes}m"
    if job.matrix:
        body["parallel"] = {"matrix": [{"PYTHON": list(job.matrix)}]}
    services, variables = _services(pipeline, job)
    if services:
        body["services"] = services
    if variables:
        body["variables"] = variables
    body["script"] = _script(pipeline, job)
    if any(r.kind == "coverage" for r in job.reports):
        body["coverage"] = COVERAGE_RE
    body["artifacts"] = _artifacts(pipeline, job)
    return body


def render(pipeline: CIPipeline) -> str:
    """The ``.gitlab-ci.yml`` text."""
    doc: dict[str, Any] = {
        "workflow": {
            "rules": [
                {"if": IS_MR},
                {"if": "$CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS", "when": "never"},
                {"if": "$CI_COMMIT_BRANCH"},
                {"if": "$CI_COMMIT_TAG"},
            ]
        },
        "stages": pipeline.stages,
        "variables": {
            "UV_CACHE_DIR": "$CI_PROJECT_DIR/.cache/uv",
            "PIP_CACHE_DIR": "$CI_PROJECT_DIR/.cache/pip",
            "UV_LINK_MODE": "copy",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        },
        "default": {
            "interruptible": True,
            "cache": {
                "key": {"files": [pipeline.at("pyproject.toml")], "prefix": "uv"},
                "paths": [".cache/uv", ".cache/pip"],
            },
            "before_script": ["python -m pip install --quiet uv"],
        },
    }
    if pipeline.workdir:  # the project's folder: where every job's commands run
        doc["default"]["before_script"].append(shlex.join(["cd", pipeline.workdir]))
    for job in pipeline.jobs:
        doc[job.name] = _job(pipeline, job)
    return dump(doc, pipeline.header)
