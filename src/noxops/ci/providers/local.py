"""No CI system: a laptop, or any process no provider claims. Git tells what is built."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Optional

from noxops.ci.providers.base import LOCAL, Event, Provider, RunContext, git, git_default_branch

__all__ = ["Local"]


class Local(Provider):
    name = LOCAL
    title = "none (local run)"

    def run(self, env: Mapping[str, str], cwd: Optional[Path]) -> RunContext:
        sha = git(cwd, "rev-parse", "HEAD") if cwd is not None else ""
        if cwd is None or not sha:
            return RunContext(self.name)
        default = git_default_branch(cwd)
        branch = git(cwd, "symbolic-ref", "--quiet", "--short", "HEAD")
        if branch:
            return RunContext(self.name, "branch", branch, None, sha, branch, default)
        # a detached checkout of a tag, as CI systems check tags out
        tag = git(cwd, "describe", "--tags", "--exact-match", "HEAD")
        event: Event = "tag" if tag else "detached"
        return RunContext(self.name, event, tag, None, sha, "HEAD", default)
