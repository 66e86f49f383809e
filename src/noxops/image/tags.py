"""Image tags from git and the CI provider's environment, the docker/metadata-action way.

:func:`detect` reads what is being built (a branch, a tag, a pull/merge request) from the
current CI provider's run (:mod:`noxops.ci.providers`: GitHub Actions, GitLab CI, Jenkins, else
plain git); :func:`compute_tags` turns that into tags:

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

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from noxops.ci import providers
from noxops.ci.providers import Event

__all__ = ["GitRef", "compute_tags", "detect", "sanitize", "semver"]

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


def detect(env: Mapping[str, str], cwd: Path, default_branch: str | None = None) -> GitRef:
    """What is being built, from the current CI provider's run, else from git in ``cwd``.

    ``default_branch`` (configured) wins over the provider's, origin's HEAD and ``main``.
    """
    run = providers.current(env).run(env, cwd)
    provider = run.provider
    if provider == providers.LOCAL:  # recorded in the build manifest as git did it, or none
        provider = "git" if run.sha else "none"
    sha = run.sha
    if not sha and provider != "none":
        sha = providers.git(cwd, "rev-parse", "HEAD")
    default = default_branch or run.default_branch or providers.git_default_branch(cwd) or "main"
    return GitRef(run.event, run.ref, run.pr, sha, default, provider)
