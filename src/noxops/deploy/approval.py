"""Is this deploy approved? Environments that need approval refuse to deploy without one.

An approval is one of:

- ``--approve`` after ``--`` on the nox command line (a person at a terminal);
- ``NOXOPS_APPROVED=1`` (or ``NOXOPS_APPROVED=<env>``) in the environment;
- GitLab CI: the job declares ``environment: <env>`` (``CI_ENVIRONMENT_NAME``) and GitLab only
  starts it once the protected environment's approval rules are met;
- GitHub Actions: GitHub exposes no variable naming the job's environment, so the job that
  declares ``environment: <env>`` (with required reviewers, so it only starts once approved)
  sets ``NOXOPS_CI_ENVIRONMENT: <env>``; noxops accepts it only inside GitHub Actions.
- Jenkins: an ``input`` step before the deploy, then ``NOXOPS_APPROVED=<env>``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from noxops.ci import providers
from noxops.errors import NoxopsError

__all__ = ["ApprovalRequired", "approval_source", "require_approval"]


class ApprovalRequired(NoxopsError):
    """The environment needs an approval and none was given."""


def approval_source(
    env: str, posargs: Sequence[str], environ: Mapping[str, str] | None = None
) -> str | None:
    """Where the approval came from, or ``None``."""
    environ = os.environ if environ is None else environ
    if "--approve" in posargs:
        return "--approve on the command line"
    approved = environ.get("NOXOPS_APPROVED", "").strip()
    if approved in {"1", "true", "yes", env}:
        return "NOXOPS_APPROVED"
    return providers.current(environ).approval(environ, env)


def require_approval(
    env: str,
    posargs: Sequence[str],
    environ: Mapping[str, str] | None = None,
    *,
    action: str = "deploy",
) -> str:
    """Where the approval came from; :class:`ApprovalRequired` naming the session to rerun
    (``deploy-<env>`` or ``rollback-<env>``) when there is none."""
    source = approval_source(env, posargs, environ)
    if source is None:
        doing = "rolling back" if action == "rollback" else "deploying to"
        raise ApprovalRequired(
            f"{doing} {env} needs an explicit approval: run `nox -s {action}-{env} -- "
            f"--approve`, set NOXOPS_APPROVED={env}, or run it in a CI job bound to the "
            f"protected environment {env!r} (see docs/deploy.md)"
        )
    return source
