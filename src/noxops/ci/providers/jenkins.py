"""Jenkins: the variables of its core and of the git and multibranch plugins (a multibranch
pipeline's ``BRANCH_NAME``, ``CHANGE_ID`` and ``TAG_NAME``); git where they are silent."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Optional

from noxops.ci.providers.base import Event, GitHead, Provider, RunContext, git_head

__all__ = ["Jenkins"]


def _ref(env: Mapping[str, str]) -> tuple[Event, str, Optional[int]]:
    """The event, the ref's name and the change request's number."""
    if env.get("TAG_NAME"):
        return "tag", env["TAG_NAME"], None
    if env.get("CHANGE_ID", "").isdigit():
        return "pr", env.get("CHANGE_BRANCH", ""), int(env["CHANGE_ID"])
    branch = env.get("BRANCH_NAME") or env.get("GIT_BRANCH", "").removeprefix("origin/")
    return ("branch" if branch else "unknown"), branch, None


class Jenkins(Provider):
    name = "jenkins"
    title = "Jenkins"
    renderer = "noxops.ci.jenkins"

    def detect(self, env: Mapping[str, str]) -> Optional[str]:
        # Jenkins core sets JENKINS_HOME for every build, JENKINS_URL (like BUILD_URL) only
        # when the Jenkins URL is configured; BUILD_URL alone is too common a name to tell.
        for name in ("JENKINS_URL", "JENKINS_HOME"):
            if env.get(name):
                return name
        return None

    def run(self, env: Mapping[str, str], cwd: Optional[Path]) -> RunContext:
        head = git_head(cwd) if cwd is not None else GitHead()
        return RunContext(
            self.name,
            *_ref(env),
            sha=env.get("GIT_COMMIT", "") or head.sha,
            branch=env.get("BRANCH_NAME") or env.get("GIT_BRANCH", ""),
            default_branch=head.default_branch,
            url=env.get("BUILD_URL", ""),
        )
