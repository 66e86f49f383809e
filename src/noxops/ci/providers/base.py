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

Where git tells the run (a laptop; Jenkins without its git plugin's variables), it is asked once
per nox run, not once per session: :func:`git_head` keeps the answer with a stamp of the files
git read it from, and :func:`hand_over` passes it to the nox processes ``nox -j`` starts.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Literal, Optional, TypeVar

from noxops.errors import NoxopsError

if TYPE_CHECKING:
    from noxops.ci.model import CIPipeline

__all__ = [
    "CI_PROVIDERS",
    "GIT_HEAD_ENV",
    "LOCAL",
    "Event",
    "GitHead",
    "Provider",
    "ProviderRegistry",
    "RunContext",
    "credential_variables",
    "current",
    "file_providers",
    "git",
    "git_default_branch",
    "git_head",
    "hand_over",
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


@dataclass(frozen=True)
class GitHead:
    """What git says a folder's checkout builds: "" for what it cannot tell."""

    sha: str = ""  # the commit HEAD is at
    branch: str = ""  # HEAD's branch; "" when HEAD is detached
    default_branch: str = ""  # the branch origin's HEAD names


# git_head's answer, for the nox processes `nox -j` starts (one per session): see hand_over.
GIT_HEAD_ENV = "NOXOPS_GIT_HEAD"
_KEPT: dict[str, dict[str, Any]] = {}  # this process's answer, under "head"
_ABSENT = "\x00absent"
_HEADS, _ORIGIN = "refs/heads/", "refs/remotes/origin/"


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return _ABSENT


def _git_dir(cwd: Path) -> Optional[Path]:
    """The git folder git finds for ``cwd`` by itself (a ``.git`` folder, or a worktree's
    ``.git`` file naming one), or None (then git is asked every time)."""
    if any(os.environ.get(name) for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR")):
        return None
    folder = Path(cwd).resolve()
    for parent in (folder, *folder.parents):
        dot = parent / ".git"
        if dot.is_dir():
            return dot.resolve()
        if dot.is_file():
            text = _read(dot)
            return (parent / text[7:].strip()).resolve() if text.startswith("gitdir:") else None
    return None


def _from_files(gitdir: Path) -> Optional[GitHead]:
    """What HEAD, the branch's ref (its file, else the packed refs) and origin's HEAD say, read
    now; None where refs are kept in a way this does not read (reftable, a symbolic branch)."""
    text = _read(gitdir / "commondir")
    common = gitdir if text == _ABSENT else (gitdir / text).resolve()
    if (common / "reftable").exists():
        return None
    origin = _read(common / "refs" / "remotes" / "origin" / "HEAD")
    default = origin[4:].strip().rsplit(_ORIGIN, 1)[-1] if origin.startswith("ref:") else ""
    head = _read(gitdir / "HEAD")
    if not head.startswith("ref:"):
        return GitHead(head, "", default) if head != _ABSENT else None
    ref = head[4:].strip()
    sha = _read(common / ref)
    if sha == _ABSENT:  # packed: "<sha> <ref>" lines
        packed = _read(common / "packed-refs").splitlines()
        sha = next((line.split()[0] for line in packed if line.endswith(f" {ref}")), "")
    if not ref.startswith(_HEADS) or not sha or sha.startswith("ref:"):
        return None
    return GitHead(sha, ref[len(_HEADS) :], default)


def _valid(entry: Any, key: str) -> bool:
    """Whether a kept answer is what git would say now: the same folder, the repository git
    finds for it (not one made inside it since), and HEAD and the refs saying the same."""
    if not isinstance(entry, dict) or entry.get("key") != key:
        return False
    facts = entry.get("facts")
    if not isinstance(facts, dict) or set(facts) != {f.name for f in fields(GitHead)}:
        return False
    gitdir = _git_dir(Path(key))
    if gitdir is None or str(gitdir) != entry.get("gitdir"):
        return False
    return _from_files(gitdir) == GitHead(**facts)


def git_head(cwd: Path) -> GitHead:
    """What git says ``cwd``'s checkout builds, asked once per nox run, not once per session.

    git's answer is kept (in this process, and for the processes :func:`hand_over` starts)
    when the repository's files say the same, and is reused only while they still do: a
    commit, a checkout, a reset or a new origin HEAD changes them, and git is asked again.
    Where the files say something else or cannot be read that way (reftable, a branch name
    git shortens otherwise), git is asked every time, as before."""
    key = str(Path(cwd).resolve())
    for entry in (_KEPT.get("head"), _handed_over()):
        if entry is not None and _valid(entry, key):
            return GitHead(**entry["facts"])
    # one process for the commit and the git folder (nothing outside a repository, or before
    # the first commit), one for the branch, one for origin's HEAD
    found = git(cwd, "rev-parse", "--absolute-git-dir", "HEAD").splitlines()
    if len(found) != 2:
        return GitHead()
    head = GitHead(
        found[1], git(cwd, "symbolic-ref", "--quiet", "--short", "HEAD"), git_default_branch(cwd)
    )
    gitdir = _git_dir(cwd)
    if gitdir is not None and gitdir == Path(found[0]).resolve() and _from_files(gitdir) == head:
        _KEPT["head"] = {"key": key, "gitdir": str(gitdir), "facts": asdict(head)}
    return head


def _handed_over() -> Any:
    try:
        return json.loads(os.environ.get(GIT_HEAD_ENV, "") or "null")
    except ValueError:
        return None


def hand_over(cwd: Path, environ: Optional[MutableMapping[str, str]] = None) -> None:
    """Ask the current provider for the run in ``cwd`` now, and put what git answered in
    ``environ`` (default: this process's) for the processes started from it: ``nox -j`` runs
    each session in a nox process of its own, which then asks git nothing while the checkout
    is unchanged (each one checks, see :func:`git_head`)."""
    target = os.environ if environ is None else environ
    current(target).run(target, cwd)
    entry = _KEPT.get("head")
    if entry is not None and entry["key"] == str(Path(cwd).resolve()):
        target[GIT_HEAD_ENV] = json.dumps(entry)


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
