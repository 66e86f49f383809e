"""No CI system: a laptop, or any process no provider claims. Git tells what is built."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import astuple
from pathlib import Path
from typing import Optional

from noxops.ci.providers.base import LOCAL, Event, Provider, RunContext, git, git_head

__all__ = ["Local"]


class Local(Provider):
    name = LOCAL
    title = "none (local run)"

    def run(self, env: Mapping[str, str], cwd: Optional[Path]) -> RunContext:
        if cwd is None:
            return RunContext(self.name)
        sha, branch, default = astuple(git_head(cwd))  # asked of git once per nox run
        if not sha:
            return RunContext(self.name)
        if branch:
            return RunContext(self.name, "branch", branch, None, sha, branch, default)
        # a detached checkout of a tag, as CI systems check tags out
        tag = git(cwd, "describe", "--tags", "--exact-match", "HEAD")
        event: Event = "tag" if tag else "detached"
        return RunContext(self.name, event, tag, None, sha, "HEAD", default)
