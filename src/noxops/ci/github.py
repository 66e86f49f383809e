"""The GitHub Actions renderer: ``.github/workflows/ci.yml`` from the pipeline model."""

from __future__ import annotations

import shlex
from typing import Any

from noxops.ci.model import HEADER, Job, Pipeline
from noxops.ci.yamldoc import dump

__all__ = ["ACTIONS", "PATH", "render"]

PATH = ".github/workflows/ci.yml"

# Pinned to their current major versions.
ACTIONS = {
    "checkout": "actions/checkout@v7",
    "setup-python": "actions/setup-python@v7",
    "setup-uv": "astral-sh/setup-uv@v10",
    "upload-artifact": "actions/upload-artifact@v7",
    "download-artifact": "actions/download-artifact@v8",
    "upload-sarif": "github/codeql-action/upload-sarif@v4",
}
MATRIX_PYTHON = "${{ matrix.python }}"
IS_PUSH = "github.event_name == 'push'"


def _job_if(job: Job) -> str | None:
    conditions: list[str] = []
    if job.run_always:
        conditions.append("!cancelled()")
    if job.trigger == "push":
        conditions.append(IS_PUSH)
    if job.branch:
        conditions.append(f"github.ref == 'refs/heads/{job.branch}'")
    return " && ".join(conditions) or None


def _steps(pipeline: Pipeline, job: Job) -> list[dict[str, Any]]:
    pythons = list(job.pythons)
    if job.matrix:
        pythons.insert(0, MATRIX_PYTHON)
    python_version: str = pythons[0] if len(pythons) == 1 else "\n".join(pythons) + "\n"
    steps: list[dict[str, Any]] = [
        {"uses": ACTIONS["checkout"], "with": {"persist-credentials": False}},
        {
            "name": "Set up Python",
            "uses": ACTIONS["setup-python"],
            "with": {"python-version": python_version},
        },
        {"name": "Set up uv", "uses": ACTIONS["setup-uv"], "with": {"enable-cache": True}},
        {
            "name": "Install nox",
            "run": shlex.join(["uv", "pip", "install", "--system", *pipeline.requirements]),
        },
    ]
    for art in job.downloads:
        steps.append(
            {
                "name": f"Download {art.name} of earlier jobs",
                "uses": ACTIONS["download-artifact"],
                "with": {"pattern": f"{art.name}-*", "path": art.path, "merge-multiple": True},
            }
        )
    session = job.session(MATRIX_PYTHON if job.matrix else None)
    argv = job.nox_argv(MATRIX_PYTHON if job.matrix else None)
    steps.append({"name": f"nox -s {' '.join([*job.before, session])}", "run": " ".join(argv)})
    suffix = f"{job.name}-{MATRIX_PYTHON}" if job.matrix else job.name
    for art in job.artifacts:
        steps.append(
            {
                "name": f"Keep {art.name}",
                "if": "${{ !cancelled() }}",
                "uses": ACTIONS["upload-artifact"],
                "with": {
                    "name": f"{art.name}-{suffix}",
                    "path": f"{art.path}/",
                    "include-hidden-files": True,
                    "if-no-files-found": "ignore",
                },
            }
        )
    for report in job.reports:
        if report.kind == "sarif":
            steps.append(
                {
                    "name": "Upload SARIF to code scanning",
                    "if": f"${{{{ !cancelled() && hashFiles('{report.path}') != '' }}}}",
                    "uses": ACTIONS["upload-sarif"],
                    "with": {"sarif_file": report.path, "category": "noxops"},
                }
            )
    return steps


def _job(pipeline: Pipeline, job: Job) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": f"{job.name} ({MATRIX_PYTHON})" if job.matrix else job.name,
    }
    if job.needs:
        body["needs"] = list(job.needs)
    condition = _job_if(job)
    if condition:
        body["if"] = f"${{{{ {condition} }}}}"
    body["runs-on"] = pipeline.runner
    body["timeout-minutes"] = job.timeout_minutes
    if any(r.kind == "sarif" for r in job.reports):
        body["permissions"] = {
            "contents": "read",
            "actions": "read",
            "security-events": "write",
        }
    if job.registry == "ghcr.io":
        body["permissions"] = {"contents": "read", "packages": "write"}
    if job.environment:
        body["environment"] = {"name": job.environment}
        body["concurrency"] = {"group": f"deploy-{job.environment}", "cancel-in-progress": False}
    if job.matrix:
        body["strategy"] = {"fail-fast": False, "matrix": {"python": list(job.matrix)}}
    if job.services:
        body["services"] = {
            svc.name: {
                "image": svc.image,
                **({"env": dict(svc.env)} if svc.env else {}),
                "ports": [f"{svc.port}:{svc.port}"],
                "options": (
                    f'--health-cmd "{svc.health_cmd}" --health-interval 5s '
                    "--health-timeout 5s --health-retries 20"
                ),
            }
            for svc in job.services
        }
    env: dict[str, str] = dict(job.env)
    env.update({svc.url_var: svc.url("localhost") for svc in job.services})
    env.update({var: f"${{{{ secrets.{secret} }}}}" for var, secret in job.secrets})
    if job.registry == "ghcr.io":
        # a reference to the provider's secret, not a secret
        env["GITHUB_TOKEN"] = "${{ secrets.GITHUB_TOKEN }}"  # noqa: S105  # nosec B105
    if job.environment:
        # Tells the deploy session it runs as this (approved) environment's job.
        env["NOXOPS_CI_ENVIRONMENT"] = job.environment
    if env:
        body["env"] = env
    body["steps"] = _steps(pipeline, job)
    return body


def render(pipeline: Pipeline) -> str:
    """The workflow file's text."""
    workflow: dict[str, Any] = {
        "name": "CI",
        "on": {
            "push": {"branches": list(pipeline.branches), "tags": ["v*"]},
            "pull_request": None,
            "workflow_dispatch": None,
        },
        "permissions": {"contents": "read"},
        "concurrency": {
            "group": "${{ github.workflow }}-${{ github.ref }}",
            "cancel-in-progress": "${{ github.event_name == 'pull_request' }}",
        },
        "env": {"FORCE_COLOR": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        "jobs": {job.name: _job(pipeline, job) for job in pipeline.jobs},
    }
    header = [HEADER]
    header += [
        f"{job.environment} deploys after a manual approval: give the {job.environment!r} "
        "environment required reviewers"
        for job in pipeline.jobs
        if job.approval
    ]
    lines = dump(workflow, header).split("\n")
    start = lines.index("jobs:")
    spaced = lines[: start + 2]
    for line in lines[start + 2 :]:
        if line.startswith("  ") and not line.startswith("   "):  # the next job
            spaced.append("")
        spaced.append(line)
    return "\n".join(spaced)
