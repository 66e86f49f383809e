"""What a pipeline notice says: the outcome (from the report's ``summary.json`` or the command
line) and where it ran (commit, branch and CI link, from the CI provider's variables)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from noxops.errors import NoxopsError

__all__ = [
    "STATUSES",
    "CIContext",
    "Outcome",
    "ci_context",
    "normalise_status",
    "read_outcome",
]

# The statuses a notice can carry; the first word of each is what CI systems call it.
STATUSES = ("success", "failure", "cancelled", "unstable", "unknown")
_ALIASES = {
    "passed": "success",
    "failed": "failure",
    "canceled": "cancelled",
    "aborted": "cancelled",
}


@dataclass(frozen=True)
class CIContext:
    """Where the pipeline ran: empty strings for what is not known."""

    provider: str = "local"
    commit: str = ""
    branch: str = ""
    url: str = ""  # the pipeline or build
    job_url: str = ""  # the job, when the provider tells it apart


def _git(root: Path, *args: str) -> str:
    try:
        proc = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return proc.stdout.strip() if proc.returncode == 0 else ""


def ci_context(env: Mapping[str, str], root: Optional[Path] = None) -> CIContext:
    """The commit, branch and links of this run: GitHub Actions, GitLab CI, Jenkins, else git."""
    if env.get("GITHUB_ACTIONS") == "true" or env.get("GITHUB_RUN_ID"):
        server, repo, run = (
            env.get("GITHUB_SERVER_URL", "https://github.com"),
            env.get("GITHUB_REPOSITORY", ""),
            env.get("GITHUB_RUN_ID", ""),
        )
        return CIContext(
            provider="github",
            commit=env.get("GITHUB_SHA", ""),
            branch=env.get("GITHUB_HEAD_REF") or env.get("GITHUB_REF_NAME", ""),
            url=f"{server}/{repo}/actions/runs/{run}" if repo and run else "",
        )
    if env.get("GITLAB_CI") or env.get("CI_PIPELINE_URL") or env.get("CI_JOB_URL"):
        return CIContext(
            provider="gitlab",
            commit=env.get("CI_COMMIT_SHA", ""),
            branch=env.get("CI_COMMIT_REF_NAME", ""),
            url=env.get("CI_PIPELINE_URL", ""),
            job_url=env.get("CI_JOB_URL", ""),
        )
    if env.get("JENKINS_URL") or env.get("BUILD_URL"):
        return CIContext(
            provider="jenkins",
            commit=env.get("GIT_COMMIT", ""),
            branch=env.get("BRANCH_NAME") or env.get("GIT_BRANCH", ""),
            url=env.get("BUILD_URL", ""),
        )
    if root is None:
        return CIContext()
    return CIContext(
        commit=_git(root, "rev-parse", "HEAD"),
        branch=_git(root, "rev-parse", "--abbrev-ref", "HEAD"),
    )


@dataclass(frozen=True)
class Outcome:
    """The pipeline's outcome as a notice tells it."""

    project: str
    status: str  # one of STATUSES
    verdict: str = ""  # the report's one-line verdict
    failed: tuple[str, ...] = ()  # the checks that made the gate fail
    advisory: tuple[str, ...] = ()  # checks that failed without failing the gate
    message: str = ""
    report: str = ""  # the summary it was read from, project-relative ("" without one)
    generated: str = ""
    ci: CIContext = field(default_factory=CIContext)

    @property
    def ok(self) -> bool:
        return self.status == "success"


def normalise_status(status: str) -> str:
    """A status word as CI systems spell it (``passed`` -> ``success``); errors name the choices."""
    word = _ALIASES.get(status.lower(), status.lower())
    if word not in STATUSES:
        raise NoxopsError(
            f"--status {status!r}: use one of {', '.join(STATUSES)} (or passed, failed, aborted)"
        )
    return word


def read_outcome(
    summary: Path,
    *,
    project: str,
    root: Path,
    env: Mapping[str, str],
    status: Optional[str] = None,
    message: str = "",
) -> Outcome:
    """The outcome from ``summary`` (the report's summary.json) when it exists, with ``status``
    and ``message`` from the command line over it. Without either, the status is "unknown"."""
    ctx = ci_context(env, root)
    chosen = normalise_status(status) if status else None
    if not summary.is_file():
        return Outcome(
            project=project,
            status=chosen or "unknown",
            verdict="" if chosen else f"no report: {_rel(summary, root)} was not written",
            message=message,
            ci=ctx,
        )
    try:
        data = json.loads(summary.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("checks", []), list):
            raise ValueError("not a noxops summary")
    except (OSError, ValueError) as exc:
        raise NoxopsError(
            f"could not read {_rel(summary, root)}: {exc}; run `nox -s report` again, or pass "
            "--status to notify without it"
        ) from None
    checks = [c for c in data.get("checks", []) if isinstance(c, dict)]
    failed = tuple(str(c.get("name")) for c in checks if c.get("blocks"))
    advisory = tuple(
        str(c.get("name")) for c in checks if not c.get("blocks") and c.get("status") == "failed"
    )
    return Outcome(
        project=str(data.get("project") or project),
        status=chosen or ("success" if data.get("passed") else "failure"),
        verdict=str(data.get("verdict", "")),
        failed=failed,
        advisory=advisory,
        message=message,
        report=_rel(summary, root),
        generated=str(data.get("generated", "")),
        ci=ctx,
    )


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
