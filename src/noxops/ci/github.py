"""The GitHub Actions renderer: ``.github/workflows/ci.yml`` from the pipeline model."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from noxops.ci.model import TAG_PREFIX, CIJob, CIPipeline
from noxops.ci.yamldoc import Commented, dump

__all__ = ["ACTIONS", "PATH", "Action", "render"]

PATH = ".github/workflows/ci.yml"


@dataclass(frozen=True)
class Action:
    """An action pinned to a full commit SHA of its own repository (GitHub's hardening
    guide: a tag can be moved, a commit cannot), with the release it is as a comment."""

    repo: str  # owner/name (and a path inside the repository for a nested action)
    sha: str  # the commit the release tag points to
    version: str  # that release tag

    @property
    def ref(self) -> Commented:
        return Commented(f"{self.repo}@{self.sha}", self.version)


# Each is the newest release of its newest major version, read from the action's repository
# (`git rev-parse <tag>^{commit}`). Update all together: docs/ci.md says how.
ACTIONS = {
    "checkout": Action("actions/checkout", "3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "setup-python": Action(
        "actions/setup-python", "5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"
    ),
    "setup-uv": Action("astral-sh/setup-uv", "20cfd1bf945f4377ade1205e4dbc17946fc9a30d", "v10.0.1"),
    "upload-artifact": Action(
        "actions/upload-artifact", "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"
    ),
    "download-artifact": Action(
        "actions/download-artifact", "3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1"
    ),
    "upload-sarif": Action(
        "github/codeql-action/upload-sarif", "8aad20d150bbac5944a9f9d289da16a4b0d87c1e", "v4.36.2"
    ),
    # actions/cache's restore and save halves (one release): the records are saved after the
    # session, only when it passed, under a key that names what they were made from.
    "cache-restore": Action(
        "actions/cache/restore", "27d5ce7f107fe9357f9df03efb73ab90386fccae", "v5.0.5"
    ),
    "cache-save": Action(
        "actions/cache/save", "27d5ce7f107fe9357f9df03efb73ab90386fccae", "v5.0.5"
    ),
}
MATRIX_PYTHON = "${{ matrix.python }}"
MATRIX_SHARD = "${{ matrix.shard }}"
RECORDS_STEP = "records"  # the id of the step that restores the records
# A repository (or organization) variable that forces every stage to run in full.
FORCE = "${{ vars.NOXOPS_FORCE }}"
IS_PUSH = "github.event_name == 'push'"
# A pull request from a fork gets a read-only token: uploading SARIF would fail the job.
NOT_FROM_FORK = (
    "github.event_name != 'pull_request' || "
    "github.event.pull_request.head.repo.full_name == github.repository"
)
# A reference to the provider's token, not a secret.
GITHUB_TOKEN = "${{ secrets.GITHUB_TOKEN }}"  # noqa: S105  # nosec B105


def _release_refs(pipeline: CIPipeline) -> str:
    """The refs whose pushes run release jobs: the default and deploy branches, v* tags."""
    refs = [f"github.ref == 'refs/heads/{b}'" for b in pipeline.branches]
    refs.append(f"startsWith(github.ref, 'refs/tags/{TAG_PREFIX}')")
    return f"{IS_PUSH} && ({' || '.join(refs)})"


def _job_if(pipeline: CIPipeline, job: CIJob) -> str | None:
    conditions: list[str] = []
    if job.run_always:
        conditions.append("!cancelled()")
    if job.branch:
        conditions.append(f"{IS_PUSH} && github.ref == 'refs/heads/{job.branch}'")
    elif job.trigger == "release":
        conditions.append(_release_refs(pipeline))
    return " && ".join(conditions) or None


def _secret_env(job: CIJob) -> dict[str, str]:
    """The secrets the job's session reads, for its own step only (never the job's env, which
    every step, third-party actions included, would see)."""
    env = {var: f"${{{{ secrets.{var} }}}}" for var in job.optional_secrets}
    env.update({var: f"${{{{ secrets.{secret} }}}}" for var, secret in job.secrets})
    if job.registry == "ghcr.io":
        env["GITHUB_TOKEN"] = GITHUB_TOKEN
    return env


def _uv_with(pipeline: CIPipeline) -> dict[str, Any]:
    """setup-uv's settings: its cache keyed on the project's own files."""
    if not pipeline.workdir:
        return {"enable-cache": True}
    globs = [pipeline.at(name) for name in ("pyproject.toml", "uv.lock", "requirements*.txt")]
    return {"enable-cache": True, "cache-dependency-glob": "\n".join(globs) + "\n"}


def _prefix(pipeline: CIPipeline, job: CIJob, what: str = "") -> str:
    """The key prefix of the job's records (``noxops-lint-``, ``noxops-tests-3.12-shard2-``),
    or of the project's test durations (``what="durations"``)."""
    if what:
        return f"noxops-{pipeline.id(what, '-')}-"
    name = f"noxops-{pipeline.id(job.name, '-')}-"
    if job.matrix:
        name += f"{MATRIX_PYTHON}-"
    if job.shards > 1:
        name += f"shard{MATRIX_SHARD}-"
    return name


def _fingerprints(pipeline: CIPipeline) -> str:
    """hashFiles() of the session fingerprints the job's run wrote: its records' key."""
    return f"hashFiles('{pipeline.at(pipeline.records)}*.txt')"


def _restore(pipeline: CIPipeline, job: CIJob) -> list[dict[str, Any]]:
    """Before the session: the newest records of the job (this branch's, else the default
    branch's: GitHub's cache scopes), and for a shard the durations the set is split by."""
    steps: list[dict[str, Any]] = []
    if job.records:
        prefix = _prefix(pipeline, job)
        steps.append(
            {
                "name": "Restore the noxops records",
                "id": RECORDS_STEP,
                "uses": ACTIONS["cache-restore"].ref,
                "with": {
                    "path": pipeline.at(pipeline.records),
                    "key": f"{prefix}${{{{ github.sha }}}}",
                    "restore-keys": prefix,
                },
            }
        )
    if job.durations == "restore":
        prefix = _prefix(pipeline, job, "durations")
        steps.append(
            {
                "name": "Restore the test durations",
                "uses": ACTIONS["cache-restore"].ref,
                "with": {
                    "path": pipeline.at(pipeline.durations),
                    "key": f"{prefix}${{{{ github.sha }}}}",
                    "restore-keys": prefix,
                },
            }
        )
    return steps


def _save(pipeline: CIPipeline, job: CIJob) -> list[dict[str, Any]]:
    """After a session that passed: its records, keyed on its fingerprints (skipped when the
    restored records are those already: a replay); after coverage combined a set of shards:
    their durations."""
    steps: list[dict[str, Any]] = []
    if job.records:
        prefix, digest = _prefix(pipeline, job), _fingerprints(pipeline)
        matched = f"steps.{RECORDS_STEP}.outputs.cache-matched-key"
        steps.append(
            {
                "name": "Save the noxops records",
                "if": f"${{{{ !endsWith({matched}, format('-{{0}}', {digest})) }}}}",
                "uses": ACTIONS["cache-save"].ref,
                "with": {
                    "path": pipeline.at(pipeline.records),
                    "key": f"{prefix}${{{{ github.sha }}}}-${{{{ {digest} }}}}",
                },
            }
        )
    if job.durations == "save":
        found = f"hashFiles('{pipeline.at(pipeline.durations)}*')"
        steps.append(
            {
                "name": "Save the test durations",
                "if": f"${{{{ !cancelled() && {found} != '' }}}}",
                "uses": ACTIONS["cache-save"].ref,
                "with": {
                    "path": pipeline.at(pipeline.durations),
                    "key": (
                        f"{_prefix(pipeline, job, 'durations')}"
                        "${{ github.run_id }}-${{ github.run_attempt }}"
                    ),
                },
            }
        )
    return steps


def _replay_env(pipeline: CIPipeline, job: CIJob) -> dict[str, str]:
    """The job's --changed-only (``NOXOPS_CHANGED_ONLY``, read by noxops.incremental.changed),
    and ``NOXOPS_FORCE``: the repository variable that forces a full run, and with
    ``replay = "branches"`` always on the default and deploy branches and tags, which run in
    full and refresh the records (the tests' map of affected tests among them, which only a
    --changed-only run keeps)."""
    if not job.records:
        return {}
    if pipeline.replay == "always":
        return {"NOXOPS_CHANGED_ONLY": "1", "NOXOPS_FORCE": FORCE}
    refs = [f"github.ref == 'refs/heads/{b}'" for b in pipeline.branches]
    refs.append(f"startsWith(github.ref, 'refs/tags/{TAG_PREFIX}')")
    force = f"${{{{ ({' || '.join(refs)}) && '1' || vars.NOXOPS_FORCE }}}}"
    return {"NOXOPS_CHANGED_ONLY": "1", "NOXOPS_FORCE": force}


def _steps(pipeline: CIPipeline, job: CIJob) -> list[dict[str, Any]]:
    pythons = list(job.pythons)
    if job.matrix:
        pythons.insert(0, MATRIX_PYTHON)
    python_version: str = pythons[0] if len(pythons) == 1 else "\n".join(pythons) + "\n"
    checkout: dict[str, Any] = {"persist-credentials": False}
    if job.full_history:  # the version comes from git tags: a shallow clone has none
        checkout["fetch-depth"] = 0
    steps: list[dict[str, Any]] = [
        {"uses": ACTIONS["checkout"].ref, "with": checkout},
        {
            "name": "Set up Python",
            "uses": ACTIONS["setup-python"].ref,
            "with": {"python-version": python_version},
        },
        {"name": "Set up uv", "uses": ACTIONS["setup-uv"].ref, "with": _uv_with(pipeline)},
        {
            "name": "Install nox",
            "run": shlex.join(["uv", "pip", "install", "--system", *pipeline.install(job)]),
        },
        *_restore(pipeline, job),
    ]
    for art in job.downloads:
        steps.append(
            {
                "name": f"Download {art.name} of earlier jobs",
                "uses": ACTIONS["download-artifact"].ref,
                "with": {
                    "pattern": f"{art.name}-*",
                    "path": pipeline.at(art.path),
                    "merge-multiple": True,
                },
            }
        )
    secrets = _secret_env(job)
    # The image goes through GHCR (noxops.ci.handover): the token for it, on its step only.
    handover_env = {**secrets, "GITHUB_TOKEN": GITHUB_TOKEN} if job.handover else secrets
    if job.handover in ("load", "pull"):
        step: dict[str, Any] = {
            "name": "Load the built image" if job.handover == "load" else "Pull the pushed image",
            "run": shlex.join(job.handover_argv()),
        }
        if handover_env:
            step["env"] = handover_env
        steps.append(step)
    session = job.session(MATRIX_PYTHON if job.matrix else None)
    argv = job.nox_argv(MATRIX_PYTHON if job.matrix else None, MATRIX_SHARD)
    step = {"name": f"nox -s {' '.join([*job.before, session])}", "run": " ".join(argv)}
    if secrets:
        step["env"] = secrets
    steps.append(step)
    steps += _save(pipeline, job)
    if job.handover == "save":
        steps.append(
            {
                "name": "Hand the built image over (GHCR)",
                "run": shlex.join(job.handover_argv()),
                "env": handover_env,
            }
        )
    suffix = f"{job.name}-{MATRIX_PYTHON}" if job.matrix else job.name
    if job.shards > 1:  # each shard's artifact is its own
        suffix += f"-{MATRIX_SHARD}"
    for art in job.artifacts:
        steps.append(
            {
                "name": f"Keep {art.name}",
                "if": "${{ !cancelled() }}",
                "uses": ACTIONS["upload-artifact"].ref,
                "with": {
                    "name": f"{art.name}-{suffix}",
                    "path": pipeline.at(f"{art.path}/"),
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
                    "if": (
                        f"${{{{ !cancelled() && hashFiles('{pipeline.at(report.path)}') != '' "
                        f"&& ({NOT_FROM_FORK}) }}}}"
                    ),
                    "uses": ACTIONS["upload-sarif"].ref,
                    "with": {"sarif_file": pipeline.at(report.path), "category": "noxops"},
                }
            )
    return steps


def _permissions(job: CIJob) -> dict[str, str] | None:
    """Least privilege: what this job needs beyond the workflow's `contents: read`."""
    permissions: dict[str, str] = {}
    if any(r.kind == "sarif" for r in job.reports):
        permissions.update({"contents": "read", "actions": "read", "security-events": "write"})
    if job.registry == "ghcr.io" or job.handover in ("save", "load"):
        permissions["contents"] = "read"
        permissions["packages"] = "read" if job.handover in ("pull", "load") else "write"
    return permissions or None


def _job(pipeline: CIPipeline, job: CIJob) -> dict[str, Any]:
    name = f"{job.name} ({MATRIX_PYTHON})" if job.matrix else job.name
    if job.shards > 1:
        name = f"{job.name} ({MATRIX_PYTHON}, shard {MATRIX_SHARD}/{job.shards})"
    body: dict[str, Any] = {"name": name}
    if job.needs:
        body["needs"] = list(job.needs)
    condition = _job_if(pipeline, job)
    if condition:
        body["if"] = f"${{{{ {condition} }}}}"
    body["runs-on"] = pipeline.runner
    body["timeout-minutes"] = job.timeout_minutes
    permissions = _permissions(job)
    if permissions:
        body["permissions"] = permissions
    if job.environment:
        body["environment"] = {"name": job.environment}
        if job.url:
            body["environment"]["url"] = job.url
        body["concurrency"] = {
            "group": f"deploy-{pipeline.id(job.environment, '-')}",
            "cancel-in-progress": False,
        }
    if job.matrix:
        matrix: dict[str, Any] = {"python": list(job.matrix)}
        if job.shards > 1:  # python x shard: each shard of each Python is a job
            matrix["shard"] = [int(k) for k in job.shard_numbers]
        body["strategy"] = {"fail-fast": False, "matrix": matrix}
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
    env.update(_replay_env(pipeline, job))
    if job.environment:
        # Tells the deploy session it runs as this (approved) environment's job.
        env["NOXOPS_CI_ENVIRONMENT"] = job.environment
    if env:
        body["env"] = env
    if pipeline.workdir:  # `run` steps work in the project's folder (actions take `at` paths)
        body["defaults"] = {"run": {"working-directory": pipeline.workdir}}
    body["steps"] = _steps(pipeline, job)
    return body


def _on(pipeline: CIPipeline) -> dict[str, Any]:
    """The events that run the workflow. A project sharing its repository with others has a
    workflow of its own that runs only when its files change (``paths``: a pull request's
    changes against its base, a push's against the commit before it); GitHub does not apply
    ``paths`` to tags, so a v* tag runs every project's, and ``workflow_dispatch`` too."""
    push: dict[str, Any] = {
        "branches": list(dict.fromkeys([*pipeline.branches, *pipeline.other_branches])),
        "tags": [f"{TAG_PREFIX}*"],
    }
    pull_request: dict[str, Any] | None = None
    if pipeline.changes:
        push["paths"] = list(pipeline.changes)
        pull_request = {"paths": list(pipeline.changes)}
    return {"push": push, "pull_request": pull_request, "workflow_dispatch": None}


def render(pipeline: CIPipeline) -> str:
    """The workflow file's text."""
    workflow: dict[str, Any] = {
        "name": f"CI ({pipeline.key})" if pipeline.key else "CI",
        "on": _on(pipeline),
        "permissions": {"contents": "read"},
        "concurrency": {
            "group": "${{ github.workflow }}-${{ github.ref }}",
            "cancel-in-progress": "${{ github.event_name == 'pull_request' }}",
        },
        "env": {"FORCE_COLOR": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        "jobs": {job.name: _job(pipeline, job) for job in pipeline.jobs},
    }
    header = list(pipeline.header)
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
