"""The commit and branch a session's record carries are asked of git once per nox run, not in
every session (issue #28 item 4: three git processes per session, in each of the nox processes
``nox -j`` starts), and are never stale: an answer is reused only while HEAD, the branch's ref
and origin's HEAD are as they were when git gave it.

Real repositories, real processes; git is counted through a wrapper on ``PATH``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from noxops.ci.providers import GIT_HEAD_ENV, LOCAL, RunContext, base, current, hand_over
from noxops.config import load

GIT = shutil.which("git")
pytestmark = pytest.mark.skipif(GIT is None, reason="needs git")
# What makes another provider than `local` run this process (each reads its own variables).
CI_DETECTION = ("GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL", "JENKINS_HOME")
# What a session's process does for its record: the commit, through the current provider.
CHILD = (
    "import sys\nfrom pathlib import Path\nfrom noxops.ci.providers import current\n"
    "print(current().run({}, Path(sys.argv[1])).sha)\n"
)


def _git(repo: Path, *args: str) -> str:
    """Real git, not counted (by its own path)."""
    return subprocess.run(
        [str(GIT), "-c", "user.name=t", "-c", "user.email=t@example.test", *args],
        cwd=repo, capture_output=True, text=True, check=True, timeout=120,
    ).stdout.strip()  # fmt: skip


def _repo(root: Path) -> Path:
    root.mkdir()
    _git(root, "init", "-q", "-b", "work")
    (root / "pyproject.toml").write_text(
        '[project]\nname = "calc"\nversion = "0.1.0"\n\n[tool.noxops]\n', encoding="utf-8"
    )
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "one")
    return root


def _commit(repo: Path, text: str) -> str:
    (repo / "a.txt").write_text(text, encoding="utf-8")
    _git(repo, "add", "a.txt")
    _git(repo, "commit", "-qm", text)
    return _git(repo, "rev-parse", "HEAD")


class Counted:
    """The git processes started since the last look."""

    def __init__(self, log: Path) -> None:
        self.log = log

    def take(self) -> list[str]:
        lines = self.log.read_text(encoding="utf-8").splitlines() if self.log.exists() else []
        self.log.unlink(missing_ok=True)
        return lines


@pytest.fixture
def git_calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Counted:
    """``git`` on PATH writes a line per process; nothing kept or handed over yet."""
    bindir = tmp_path / "counting-bin"
    bindir.mkdir()
    log = tmp_path / "git-calls.log"
    wrapper = bindir / "git"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{GIT}" "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv(GIT_HEAD_ENV, "")  # restored (removed) after the test
    for name in CI_DETECTION:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(base, "_KEPT", {})
    return Counted(log)


def _child(repo: Path, env: dict[str, str]) -> str:
    """A session's nox process asking for the commit its record carries."""
    return subprocess.run(
        [sys.executable, "-c", CHILD, str(repo)],
        env=env, capture_output=True, text=True, check=True, timeout=300,
    ).stdout.strip()  # fmt: skip


def test_sessions_of_one_process_ask_git_once(tmp_path: Path, git_calls: Counted) -> None:
    repo = _repo(tmp_path / "repo")
    sha = _git(repo, "rev-parse", "HEAD")
    local = current({})
    first = local.run({}, repo)
    assert first == RunContext(LOCAL, "branch", "work", None, sha, "work", "")
    assert len(git_calls.take()) == 3
    for _ in range(6):  # the next sessions' records (a sequential run is one process)
        assert local.run({}, repo) == first
    assert git_calls.take() == []


def test_a_commit_checkout_or_reset_is_seen_at_once(tmp_path: Path, git_calls: Counted) -> None:
    """Whatever moves HEAD between two sessions, the next record has what git says now."""
    repo = _repo(tmp_path / "repo")
    local = current({})

    def now() -> tuple[str, str, str]:
        run = local.run({}, repo)
        return run.sha, run.branch, run.default_branch

    assert now() == (_git(repo, "rev-parse", "HEAD"), "work", "")
    second = _commit(repo, "two")
    assert now() == (second, "work", "")
    _git(repo, "checkout", "-q", "-b", "other")
    assert now() == (second, "other", "")
    third = _commit(repo, "three")
    assert now() == (third, "other", "")
    _git(repo, "update-ref", "refs/remotes/origin/main", third)
    _git(repo, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")
    assert now() == (third, "other", "main")
    _git(repo, "pack-refs", "--all")  # the branch's ref moves into packed-refs
    assert now() == (third, "other", "main")
    _git(repo, "reset", "-q", "--hard", second)  # a packed ref rewritten
    assert now() == (second, "other", "main")
    _git(repo, "checkout", "-q", "--detach", third)
    assert (local.run({}, repo).event, now()) == ("detached", (third, "HEAD", "main"))
    # and asked again only when something moved: no change, no git
    git_calls.take()
    now()
    assert git_calls.take() == ["describe --tags --exact-match HEAD"]  # a detached HEAD's tag


def test_a_nox_j_session_gets_the_run_from_its_parent(
    tmp_path: Path, git_calls: Counted, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``nox -j`` starts a nox process per session: the parent asks git once, as it starts
    them, and each session's process asks git nothing while the checkout is unchanged."""
    # noxops.runtime.declare registers nox sessions: nox needs Python 3.10+ (tests-3.9 has none)
    declare = pytest.importorskip("noxops.runtime.declare", exc_type=ImportError)
    repo = _repo(tmp_path / "repo")
    sha = _git(repo, "rev-parse", "HEAD")
    config = load(repo)
    declare._parallel_order(config, [("lint", True), ("tests-3.12", True)])
    assert len(git_calls.take()) == 3  # the parent, once
    env = dict(os.environ)
    assert env[GIT_HEAD_ENV]
    for _ in range(3):
        assert _child(repo, env) == sha
    assert git_calls.take() == []
    # A commit during the run: the next session asks git, and records the new commit.
    second = _commit(repo, "two")
    assert _child(repo, env) == second
    assert len(git_calls.take()) == 3
    # Another repository (a nested nox run on a fixture) never takes this one's answer.
    other = _repo(tmp_path / "other")
    assert _child(other, env) == _git(other, "rev-parse", "HEAD") != second
    # Nor a repository made inside the project during the run.
    inner = _repo(repo / "inner")
    assert _child(inner, env) == _git(inner, "rev-parse", "HEAD")


def test_a_handed_over_answer_that_is_not_ours_is_ignored(
    tmp_path: Path, git_calls: Counted
) -> None:
    repo = _repo(tmp_path / "repo")
    sha = _git(repo, "rev-parse", "HEAD")
    env = dict(os.environ)
    hand_over(repo, env)
    git_calls.take()
    for broken in ("{not json", "[]", '{"key": 1}', env[GIT_HEAD_ENV].replace(sha, "0" * 40)):
        assert _child(repo, {**env, GIT_HEAD_ENV: broken}) == sha
        assert len(git_calls.take()) == 3
