"""Image tags from git and the CI provider's environment, the docker/metadata-action way.

:func:`detect` reads what is being built (a branch, a tag, a pull/merge request) from GitHub
Actions, GitLab CI or Jenkins variables, else from plain git; :func:`compute_tags` turns that
into tags:

=====================  =====================================================================
event                  tags
=====================  =====================================================================
branch ``feature/x``   ``feature-x``, ``sha-1a2b3c4``, ``feature-x-1a2b3c4``
default branch         the same, plus ``latest``
pull request 42        ``pr-42``, ``sha-1a2b3c4``
tag ``v1.2.3``         ``1.2.3``, ``1.2``, ``1``, ``sha-1a2b3c4``, ``latest``
tag ``v1.2.3-rc.1``    ``1.2.3-rc.1``, ``sha-1a2b3c4`` (a pre-release gets no 1.2/1/latest)
tag ``nightly``        ``nightly``, ``sha-1a2b3c4`` (not semver: the tag name, sanitised)
no git, no CI          ``local``
=====================  =====================================================================
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Optional

__all__ = ["GitRef", "compute_tags", "detect", "sanitize", "semver"]

Event = Literal["branch", "tag", "pr", "detached", "unknown"]

# SemVer 2.0.0, with the leading "v" docker/metadata-action accepts.
_SEMVER = re.compile(
    r"^v?(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+(?P<build>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)


@dataclass(frozen=True)
class GitRef:
    """What is being built: the event, its branch/tag name or PR number, and the commit."""

    event: Event
    name: str = ""  # branch or tag name (for a PR: its source branch, when known)
    pr: Optional[int] = None
    sha: str = ""
    default_branch: str = "main"
    provider: str = "git"

    @property
    def short_sha(self) -> str:
        return self.sha[:7]

    @property
    def is_default_branch(self) -> bool:
        return self.event == "branch" and self.name == self.default_branch


def sanitize(name: str) -> str:
    """A valid docker tag from a ref name: ``feature/x`` -> ``feature-x``.

    Characters outside ``[A-Za-z0-9._-]`` become ``-`` (as docker/metadata-action does), a
    leading ``.`` or ``-`` is dropped (a tag must not start with one) and the result is at
    most 128 characters.
    """
    tag = re.sub(r"[^A-Za-z0-9._-]+", "-", name)
    tag = tag.lstrip(".-")
    return tag[:128]


def semver(tag: str) -> list[str] | None:
    """The semver tags of a git tag (``v1.2.3`` -> 1.2.3, 1.2, 1), or None if not semver.

    A pre-release (``v1.2.3-rc.1``) gives only its full version. Build metadata (``+x``) is
    not allowed in docker tags and becomes ``-x``; it is still a release.
    """
    match = _SEMVER.match(tag)
    if not match:
        return None
    major, minor, patch = match["major"], match["minor"], match["patch"]
    version = f"{major}.{minor}.{patch}"
    if match["pre"]:
        return [sanitize(f"{version}-{match['pre']}")]
    full = sanitize(f"{version}+{match['build']}") if match["build"] else version
    return [full, f"{major}.{minor}", major]


def _is_release(tag: str) -> bool:
    match = _SEMVER.match(tag)
    return bool(match and not match["pre"])


def compute_tags(ref: GitRef) -> list[str]:
    """The image tags for ``ref``, most specific first (the first one names the build)."""
    tags: list[str] = []
    sha = ref.short_sha
    if ref.event == "tag":
        tags.extend(semver(ref.name) or [sanitize(ref.name)])
    elif ref.event == "pr" and ref.pr is not None:
        tags.append(f"pr-{ref.pr}")
    elif ref.event == "branch" and sanitize(ref.name):
        branch = sanitize(ref.name)
        tags.append(branch)
        if sha:
            tags.append(f"{branch[:120]}-{sha}")
    if sha:
        tags.append(f"sha-{sha}")
    if ref.is_default_branch or (ref.event == "tag" and _is_release(ref.name)):
        tags.append("latest")
    if not tags:
        tags.append("local")
    return list(dict.fromkeys(tags))


# -- detection ----------------------------------------------------------------------------


def _git(cwd: Path, *args: str) -> str:
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return proc.stdout.strip() if proc.returncode == 0 else ""


def _git_default_branch(cwd: Path) -> str:
    head = _git(cwd, "symbolic-ref", "--quiet", "refs/remotes/origin/HEAD")
    return head.rsplit("refs/remotes/origin/", 1)[-1] if head else ""


def _github_payload(env: Mapping[str, str]) -> dict[str, Any]:
    """The event payload (``$GITHUB_EVENT_PATH``), as metadata-action reads it."""
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return payload if isinstance(payload, dict) else {}


def _github(env: Mapping[str, str]) -> GitRef:
    ref = env.get("GITHUB_REF", "")
    sha = env.get("GITHUB_SHA", "")
    payload = _github_payload(env)
    repo = payload.get("repository")
    default = repo.get("default_branch", "") if isinstance(repo, dict) else ""
    default = default if isinstance(default, str) else ""
    head = env.get("GITHUB_HEAD_REF", "")
    pr = re.match(r"^refs/pull/(\d+)/(?:merge|head)$", ref)
    if pr:
        return GitRef("pr", head, int(pr[1]), sha, default, "github")
    # pull_request_target runs on the base branch's ref; the payload names the PR
    pull = payload.get("pull_request")
    number = pull.get("number") if isinstance(pull, dict) else None
    if env.get("GITHUB_EVENT_NAME", "").startswith("pull_request") and isinstance(number, int):
        return GitRef("pr", head, number, sha, default, "github")
    if ref.startswith("refs/tags/"):
        return GitRef("tag", ref[len("refs/tags/") :], None, sha, default, "github")
    if ref.startswith("refs/heads/"):
        return GitRef("branch", ref[len("refs/heads/") :], None, sha, default, "github")
    name = env.get("GITHUB_REF_NAME", "")
    return GitRef("branch" if name else "unknown", name, None, sha, default, "github")


def _gitlab(env: Mapping[str, str]) -> GitRef:
    sha = env.get("CI_COMMIT_SHA", "")
    default = env.get("CI_DEFAULT_BRANCH", "")
    if env.get("CI_COMMIT_TAG"):
        return GitRef("tag", env["CI_COMMIT_TAG"], None, sha, default, "gitlab")
    if env.get("CI_MERGE_REQUEST_IID", "").isdigit():
        source = env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "")
        return GitRef("pr", source, int(env["CI_MERGE_REQUEST_IID"]), sha, default, "gitlab")
    branch = env.get("CI_COMMIT_BRANCH") or env.get("CI_COMMIT_REF_NAME", "")
    return GitRef("branch" if branch else "unknown", branch, None, sha, default, "gitlab")


def _jenkins(env: Mapping[str, str], cwd: Path) -> GitRef:
    sha = env.get("GIT_COMMIT", "") or _git(cwd, "rev-parse", "HEAD")
    default = _git_default_branch(cwd)
    if env.get("TAG_NAME"):
        return GitRef("tag", env["TAG_NAME"], None, sha, default, "jenkins")
    if env.get("CHANGE_ID", "").isdigit():
        source = env.get("CHANGE_BRANCH", "")
        return GitRef("pr", source, int(env["CHANGE_ID"]), sha, default, "jenkins")
    branch = env.get("BRANCH_NAME") or env.get("GIT_BRANCH", "").removeprefix("origin/")
    return GitRef("branch" if branch else "unknown", branch, None, sha, default, "jenkins")


def _local(cwd: Path) -> GitRef:
    sha = _git(cwd, "rev-parse", "HEAD")
    if not sha:
        return GitRef("unknown", provider="none")
    default = _git_default_branch(cwd)
    branch = _git(cwd, "symbolic-ref", "--quiet", "--short", "HEAD")
    if branch:
        return GitRef("branch", branch, None, sha, default, "git")
    tag = _git(cwd, "describe", "--tags", "--exact-match", "HEAD")
    if tag:  # a detached checkout of a tag, as CI systems check tags out
        return GitRef("tag", tag, None, sha, default, "git")
    return GitRef("detached", "", None, sha, default, "git")


def detect(env: Mapping[str, str], cwd: Path, default_branch: str | None = None) -> GitRef:
    """What is being built, from the CI provider's variables in ``env``, else from git in ``cwd``.

    ``default_branch`` (configured) wins over the provider's, origin's HEAD and ``main``.
    """
    if env.get("GITHUB_ACTIONS") == "true":
        ref = _github(env)
    elif env.get("GITLAB_CI"):
        ref = _gitlab(env)
    elif env.get("JENKINS_URL") or env.get("JENKINS_HOME"):
        ref = _jenkins(env, cwd)
    else:
        ref = _local(cwd)
    if not ref.sha and ref.provider != "none":
        ref = _replace(ref, sha=_git(cwd, "rev-parse", "HEAD"))
    default = default_branch or ref.default_branch or _git_default_branch(cwd) or "main"
    return _replace(ref, default_branch=default)


def _replace(ref: GitRef, *, sha: str | None = None, default_branch: str | None = None) -> GitRef:
    return GitRef(
        ref.event,
        ref.name,
        ref.pr,
        ref.sha if sha is None else sha,
        ref.default_branch if default_branch is None else default_branch,
        ref.provider,
    )
