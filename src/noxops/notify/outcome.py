"""What a pipeline notice says: the outcome (from the report's ``summary.json`` or the command
line) and where it ran (commit, branch and CI link, from the CI provider's variables)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from noxops.ci import providers
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


def ci_context(env: Mapping[str, str], root: Optional[Path] = None) -> CIContext:
    """The commit, branch and links of this run, as the current CI provider tells them (a
    laptop's from git in ``root``; nothing from git without ``root``)."""
    run = providers.current(env).run(env, root)
    return CIContext(run.provider, run.sha, run.branch, run.url, run.job_url)


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
