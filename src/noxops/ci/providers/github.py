"""GitHub Actions: its default variables, ``$GITHUB_OUTPUT``, the step summary, annotations,
ghcr.io with the job's token, and environments with required reviewers."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Optional

from noxops.ci.providers.base import Event, Provider, RunContext

__all__ = ["GitHub"]

_PULL_REF = re.compile(r"^refs/pull/(\d+)/(?:merge|head)$")


def _payload(env: Mapping[str, str]) -> dict[str, Any]:
    """The event payload (``$GITHUB_EVENT_PATH``), as docker/metadata-action reads it."""
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return payload if isinstance(payload, dict) else {}


def _ref(env: Mapping[str, str], payload: Mapping[str, Any]) -> tuple[Event, str, Optional[int]]:
    """The event, the ref's name and the PR number, from ``$GITHUB_REF`` and the payload."""
    ref, head = env.get("GITHUB_REF", ""), env.get("GITHUB_HEAD_REF", "")
    pull = _PULL_REF.match(ref)
    if pull:
        return "pr", head, int(pull[1])
    # pull_request_target runs on the base branch's ref; the payload names the PR
    request = payload.get("pull_request")
    number = request.get("number") if isinstance(request, dict) else None
    if env.get("GITHUB_EVENT_NAME", "").startswith("pull_request") and isinstance(number, int):
        return "pr", head, number
    if ref.startswith("refs/tags/"):
        return "tag", ref[len("refs/tags/") :], None
    if ref.startswith("refs/heads/"):
        return "branch", ref[len("refs/heads/") :], None
    name = env.get("GITHUB_REF_NAME", "")
    return ("branch" if name else "unknown"), name, None


def _file(env: Mapping[str, str], name: str) -> Optional[Path]:
    value = env.get(name)
    return Path(value) if value else None


class GitHub(Provider):
    name = "github"
    title = "GitHub Actions"
    renderer = "noxops.ci.github"
    annotations = True

    def detect(self, env: Mapping[str, str]) -> Optional[str]:
        # GitHub: "Always set to true when GitHub Actions is running the workflow."
        return "GITHUB_ACTIONS" if env.get("GITHUB_ACTIONS") == "true" else None

    def run(self, env: Mapping[str, str], cwd: Optional[Path]) -> RunContext:
        payload = _payload(env)
        repository = payload.get("repository")
        default = repository.get("default_branch", "") if isinstance(repository, dict) else ""
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        repo, run_id = env.get("GITHUB_REPOSITORY", ""), env.get("GITHUB_RUN_ID", "")
        return RunContext(
            self.name,
            *_ref(env, payload),
            sha=env.get("GITHUB_SHA", ""),
            branch=env.get("GITHUB_HEAD_REF") or env.get("GITHUB_REF_NAME", ""),
            default_branch=default if isinstance(default, str) else "",
            url=f"{server}/{repo}/actions/runs/{run_id}" if repo and run_id else "",
        )

    def credential_variables(self, env: Mapping[str, str], host: str) -> list[tuple[str, str]]:
        return [("GITHUB_ACTOR", "GITHUB_TOKEN")] if host == "ghcr.io" else []

    def registry_repository(self, env: Mapping[str, str], project: str) -> str:
        # a fork's pull request gets no token: nothing to push with
        if env.get("GITHUB_REPOSITORY") and env.get("GITHUB_TOKEN"):
            return f"ghcr.io/{env['GITHUB_REPOSITORY']}/{project}".lower()
        return ""

    def repository_url(self, env: Mapping[str, str]) -> str:
        if env.get("GITHUB_SERVER_URL") and env.get("GITHUB_REPOSITORY"):
            return f"{env['GITHUB_SERVER_URL']}/{env['GITHUB_REPOSITORY']}"
        return ""

    def approval(self, env: Mapping[str, str], environment: str) -> Optional[str]:
        # GitHub names no job's environment in a variable: the job that declares
        # `environment: <env>` (required reviewers) sets NOXOPS_CI_ENVIRONMENT itself.
        if self.detect(env) and env.get("NOXOPS_CI_ENVIRONMENT") == environment:
            return f"GitHub Actions environment {environment}"
        return None

    def output_file(self, env: Mapping[str, str]) -> Optional[Path]:
        return _file(env, "GITHUB_OUTPUT")

    def summary_file(self, env: Mapping[str, str]) -> Optional[Path]:
        return _file(env, "GITHUB_STEP_SUMMARY")
