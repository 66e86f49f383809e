"""GitLab CI: its predefined variables, the project's container registry with the job's
credentials, and protected environments."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Optional

from noxops.ci.providers.base import Event, Provider, RunContext

__all__ = ["GitLab"]


def _ref(env: Mapping[str, str]) -> tuple[Event, str, Optional[int]]:
    """The event, the ref's name and the merge request's number."""
    if env.get("CI_COMMIT_TAG"):
        return "tag", env["CI_COMMIT_TAG"], None
    if env.get("CI_MERGE_REQUEST_IID", "").isdigit():
        source = env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "")
        return "pr", source, int(env["CI_MERGE_REQUEST_IID"])
    branch = env.get("CI_COMMIT_BRANCH") or env.get("CI_COMMIT_REF_NAME", "")
    return ("branch" if branch else "unknown"), branch, None


class GitLab(Provider):
    name = "gitlab"
    title = "GitLab CI"
    renderer = "noxops.ci.gitlab"

    def detect(self, env: Mapping[str, str]) -> Optional[str]:
        # "true" on GitLab; gitlab-ci-local, which runs a pipeline on a laptop with GitLab's
        # variables, sets "false": still a GitLab run, but no GitLab server's (see approval)
        return "GITLAB_CI" if env.get("GITLAB_CI") else None

    def run(self, env: Mapping[str, str], cwd: Optional[Path]) -> RunContext:
        return RunContext(
            self.name,
            *_ref(env),
            sha=env.get("CI_COMMIT_SHA", ""),
            branch=env.get("CI_COMMIT_REF_NAME", ""),
            default_branch=env.get("CI_DEFAULT_BRANCH", ""),
            url=env.get("CI_PIPELINE_URL", ""),
            job_url=env.get("CI_JOB_URL", ""),
        )

    def credential_variables(self, env: Mapping[str, str], host: str) -> list[tuple[str, str]]:
        if env.get("CI_REGISTRY") == host:
            return [("CI_REGISTRY_USER", "CI_REGISTRY_PASSWORD")]
        return []

    def registry_repository(self, env: Mapping[str, str], project: str) -> str:
        # gitlab-ci-local sets CI_REGISTRY_IMAGE without a password: nothing to push with
        if env.get("CI_REGISTRY_IMAGE") and env.get("CI_REGISTRY_PASSWORD"):
            return f"{env['CI_REGISTRY_IMAGE']}/{project}".lower()
        return ""

    def repository_url(self, env: Mapping[str, str]) -> str:
        return env.get("CI_PROJECT_URL", "")

    def approval(self, env: Mapping[str, str], environment: str) -> Optional[str]:
        # Only a GitLab server starts a job of a protected environment once its approval
        # rules are met; gitlab-ci-local (GITLAB_CI=false) enforces none.
        if env.get("GITLAB_CI") == "true" and env.get("CI_ENVIRONMENT_NAME") == environment:
            return f"GitLab protected environment {environment}"
        return None
