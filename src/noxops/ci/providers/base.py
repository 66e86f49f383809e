"""The CI provider seam: one object per CI system that reads its run and renders its file.

A :class:`Provider` is all noxops knows of one CI system's variables: whether this process
runs on it (:meth:`~Provider.detect`, one rule used everywhere), what the run builds and where
its pages are (:meth:`~Provider.run`), the registry credentials and repository it gives its
jobs, the files its later steps read (step outputs, the job summary), whether it shows
annotations, which approvals it enforces, and which renderer writes its pipeline file.
:data:`CI_PROVIDERS` holds them, in detection order; :func:`current` is the one running this
process, else ``local`` (a laptop: git tells the commit and the branch).

Run facts (the run, annotations, approvals) come from the current provider only. What a
variable names by itself (a step-output file, credentials for a registry host, the hand-over
repository, the repository's URL) is asked of every provider, the current one first: the
variable names its resource whoever runs the job (a ``GITHUB_TOKEN`` exported on a laptop still
logs in to ghcr.io).
"""

from __future__ import annotations

import importlib
import os
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Literal, Optional, TypeVar

from noxops.errors import NoxopsError

if TYPE_CHECKING:
    from noxops.ci.model import CIPipeline

__all__ = [
    "CI_PROVIDERS",
    "LOCAL",
    "Event",
    "Provider",
    "ProviderRegistry",
    "RunContext",
    "credential_variables",
    "current",
    "file_providers",
    "git",
    "git_default_branch",
    "output_file",
    "registry_repository",
    "repository_url",
    "summary_file",
]

# What a run builds: a branch, a tag, a pull/merge request, a detached commit, or not known.
Event = Literal["branch", "tag", "pr", "detached", "unknown"]
# The provider of a process no CI system runs.
LOCAL = "local"

T = TypeVar("T")


@dataclass(frozen=True)
class RunContext:
    """What this run builds and where its pages are: empty strings for what is not known."""

    provider: str
    event: Event = "unknown"
    ref: str = ""  # the branch or tag name (for a PR: its source branch, when known)
    pr: Optional[int] = None
    sha: str = ""
    branch: str = ""  # the ref as the provider's pages name it, for notices
    default_branch: str = ""  # the provider's, when it tells
    url: str = ""  # the pipeline or build
    job_url: str = ""  # the job, when the provider tells it apart


def git(cwd: Path, *args: str) -> str:
    """``git *args`` run in ``cwd``: its output, stripped, or "" when git fails or is absent."""
    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return proc.stdout.strip() if proc.returncode == 0 else ""


def git_default_branch(cwd: Path) -> str:
    """The branch ``origin``'s HEAD names, or "" (no remote HEAD recorded)."""
    head = git(cwd, "symbolic-ref", "--quiet", "refs/remotes/origin/HEAD")
    return head.rsplit("refs/remotes/origin/", 1)[-1] if head else ""


class Provider:
    """One CI system. A provider overrides what its system has; the defaults say "nothing"."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""  # as people write it: "GitHub Actions"
    # The module whose ``PATH`` and ``render(pipeline)`` write the provider's pipeline file,
    # named rather than imported: the renderers read the CI model, which reads the report,
    # which asks this package for the current provider.
    renderer: ClassVar[str] = ""
    annotations: ClassVar[bool] = False  # shows GitHub-style workflow-command annotations

    def detect(self, env: Mapping[str, str]) -> Optional[str]:
        """The variable that shows this process runs on the provider (for messages), or None."""
        return None

    def run(self, env: Mapping[str, str], cwd: Optional[Path]) -> RunContext:
        """What the run builds, from the provider's variables (git in ``cwd`` where they are
        silent; never git without ``cwd``)."""
        return RunContext(self.name)

    def credential_variables(self, env: Mapping[str, str], host: str) -> list[tuple[str, str]]:
        """The (user, password) variables that hold the provider's credentials for ``host``."""
        return []

    def registry_repository(self, env: Mapping[str, str], project: str) -> str:
        """The repository of the provider's own registry a job may push ``project``'s image to
        with the credentials it was given, or ""."""
        return ""

    def repository_url(self, env: Mapping[str, str]) -> str:
        """The URL of the repository being built, or ""."""
        return ""

    def approval(self, env: Mapping[str, str], environment: str) -> Optional[str]:
        """What approved deploying to ``environment`` (the provider only starts such a job once
        its approval rules are met), or None."""
        return None

    def output_file(self, env: Mapping[str, str]) -> Optional[Path]:
        """The file later steps read ``key=value`` outputs from, or None."""
        return None

    def summary_file(self, env: Mapping[str, str]) -> Optional[Path]:
        """The file the job's Markdown summary is appended to, or None."""
        return None

    def writes_files(self) -> bool:
        """Whether ``noxops ci generate`` can write a pipeline file for this provider."""
        return bool(self.renderer) or type(self).render is not Provider.render

    def pipeline_file(self) -> str:
        """Where the provider reads its pipeline file, from the repository's top."""
        return str(self._renderer().PATH)

    def render(self, pipeline: CIPipeline) -> tuple[str, str]:
        """The provider's pipeline file: its usual path and its text."""
        return self.pipeline_file(), str(self._renderer().render(pipeline))

    def render_projects(
        self, pipelines: Sequence[CIPipeline], header: Sequence[str]
    ) -> Optional[str]:
        """One file holding several projects' pipelines, or None when the provider cannot
        (``noxops ci generate`` then says so)."""
        many = getattr(self._renderer(), "render_many", None) if self.renderer else None
        return None if many is None else str(many(pipelines, header))

    def _renderer(self) -> Any:
        if not self.renderer:
            raise NoxopsError(f"the {self.name} CI provider has no pipeline file to write")
        return importlib.import_module(self.renderer)


class ProviderRegistry(Mapping[str, Provider]):
    """The CI providers noxops knows, in detection order: one per name, ``local`` last resort."""

    def __init__(self) -> None:
        self._providers: dict[str, Provider] = {}

    def register(self, provider: Provider) -> Provider:
        """Add ``provider``; a second one of the same name is an error, not an override."""
        if not provider.name:
            raise ValueError(f"{type(provider).__qualname__} has no name")
        if provider.name in self._providers:
            raise ValueError(f"CI provider {provider.name!r} is already registered")
        self._providers[provider.name] = provider
        return provider

    def unregister(self, name: str) -> None:
        """Remove a provider (tests that declare toy providers clean up with this)."""
        self._providers.pop(name, None)

    def __getitem__(self, name: str) -> Provider:
        return self._providers[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._providers)

    def __len__(self) -> int:
        return len(self._providers)


CI_PROVIDERS = ProviderRegistry()


def file_providers() -> list[str]:
    """The registered providers ``noxops ci generate`` writes a file for, in order."""
    return [name for name, provider in CI_PROVIDERS.items() if provider.writes_files()]


def current(env: Optional[Mapping[str, str]] = None) -> Provider:
    """The provider running this process (the first that detects itself), else ``local``."""
    env = os.environ if env is None else env
    for provider in CI_PROVIDERS.values():
        if provider.detect(env):
            return provider
    return CI_PROVIDERS[LOCAL]


def _first(env: Mapping[str, str], ask: Callable[[Provider], Optional[T]]) -> Optional[T]:
    """The first answer of the current provider, then of the others, that is not empty."""
    first = current(env)
    for provider in [first, *(p for p in CI_PROVIDERS.values() if p is not first)]:
        answer = ask(provider)
        if answer:
            return answer
    return None


def output_file(env: Mapping[str, str]) -> Optional[Path]:
    """Where step outputs go (``$GITHUB_OUTPUT``), or None."""
    return _first(env, lambda p: p.output_file(env))


def summary_file(env: Mapping[str, str]) -> Optional[Path]:
    """Where the job's Markdown summary goes (``$GITHUB_STEP_SUMMARY``), or None."""
    return _first(env, lambda p: p.summary_file(env))


def registry_repository(env: Mapping[str, str], project: str) -> str:
    """The repository of a provider's registry that ``project``'s image may be pushed to
    with the credentials the job was given, or ""."""
    return _first(env, lambda p: p.registry_repository(env, project)) or ""


def repository_url(env: Mapping[str, str]) -> str:
    """The URL of the repository being built, as a provider names it, or ""."""
    return _first(env, lambda p: p.repository_url(env)) or ""


def credential_variables(env: Mapping[str, str], host: str) -> list[tuple[str, str]]:
    """Every provider's (user, password) variables for registry ``host``, the current first."""
    first = current(env)
    ordered = [first, *(p for p in CI_PROVIDERS.values() if p is not first)]
    return [pair for p in ordered for pair in p.credential_variables(env, host)]
