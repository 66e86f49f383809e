"""Image tags, the docker/metadata-action way, for every CI provider and event."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from noxops.image.tags import GitRef, compute_tags, detect, sanitize, semver

SHA = "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"
S7 = "1a2b3c4"


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        (GitRef("branch", "feature/x", sha=SHA), ["feature-x", f"feature-x-{S7}", f"sha-{S7}"]),
        (GitRef("branch", "main", sha=SHA), ["main", f"main-{S7}", f"sha-{S7}", "latest"]),
        (
            GitRef("branch", "trunk", sha=SHA, default_branch="trunk"),
            ["trunk", f"trunk-{S7}", f"sha-{S7}", "latest"],
        ),
        (
            GitRef("branch", "develop", sha=SHA, default_branch="trunk"),
            ["develop", f"develop-{S7}", f"sha-{S7}"],
        ),
        (GitRef("pr", "feature/x", pr=42, sha=SHA), ["pr-42", f"sha-{S7}"]),
        (GitRef("tag", "v1.2.3", sha=SHA), ["1.2.3", "1.2", "1", f"sha-{S7}", "latest"]),
        (GitRef("tag", "1.2.3", sha=SHA), ["1.2.3", "1.2", "1", f"sha-{S7}", "latest"]),
        (GitRef("tag", "v0.4.0", sha=SHA), ["0.4.0", "0.4", "0", f"sha-{S7}", "latest"]),
        (GitRef("tag", "v1.2.3-rc.1", sha=SHA), ["1.2.3-rc.1", f"sha-{S7}"]),
        (GitRef("tag", "v2.0.0-beta", sha=SHA), ["2.0.0-beta", f"sha-{S7}"]),
        (
            GitRef("tag", "v1.2.3+build.5", sha=SHA),
            ["1.2.3-build.5", "1.2", "1", f"sha-{S7}", "latest"],
        ),
        (GitRef("tag", "nightly", sha=SHA), ["nightly", f"sha-{S7}"]),
        (GitRef("tag", "v1.2", sha=SHA), ["v1.2", f"sha-{S7}"]),  # not semver: no latest
        (GitRef("detached", sha=SHA), [f"sha-{S7}"]),
        (GitRef("unknown", provider="none"), ["local"]),
        # spaces and slashes become dashes; case is kept (docker tags allow it)
        (
            GitRef("branch", "Release/2024.1 hot fix", sha=SHA),
            ["Release-2024.1-hot-fix", f"Release-2024.1-hot-fix-{S7}", f"sha-{S7}"],
        ),
    ],
    ids=lambda v: v.name or v.event if isinstance(v, GitRef) else None,
)
def test_compute_tags(ref: GitRef, expected: list[str]) -> None:
    assert compute_tags(ref) == expected


@pytest.mark.parametrize(
    ("name", "tag"),
    [
        ("feature/x", "feature-x"),
        ("feature//deep/../x", "feature-deep-..-x"),
        ("dependabot/pip/requests-2.32", "dependabot-pip-requests-2.32"),
        ("-leading", "leading"),
        (".hidden", "hidden"),
        ("ünïcödé", "n-c-d-"),
        ("a" * 200, "a" * 128),
    ],
)
def test_sanitize(name: str, tag: str) -> None:
    assert sanitize(name) == tag


def test_semver_rejects_non_semver() -> None:
    assert semver("release-1") is None
    assert semver("v01.2.3") is None  # leading zeros are not semver
    assert semver("v1.2.3") == ["1.2.3", "1.2", "1"]


def _github_event(tmp_path: Path, default_branch: str) -> str:
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"repository": {"default_branch": default_branch}}))
    return str(path)


GITHUB = {"GITHUB_ACTIONS": "true", "GITHUB_SHA": SHA}
GITLAB = {"GITLAB_CI": "true", "CI_COMMIT_SHA": SHA, "CI_DEFAULT_BRANCH": "main"}
JENKINS = {"JENKINS_URL": "https://jenkins.example/", "GIT_COMMIT": SHA}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {**GITHUB, "GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/feature/x",
             "GITHUB_REF_NAME": "feature/x"},
            ["feature-x", f"feature-x-{S7}", f"sha-{S7}"],
        ),
        (
            {**GITHUB, "GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/main",
             "GITHUB_REF_NAME": "main"},
            ["main", f"main-{S7}", f"sha-{S7}", "latest"],
        ),
        (
            {**GITHUB, "GITHUB_EVENT_NAME": "pull_request", "GITHUB_REF": "refs/pull/17/merge",
             "GITHUB_REF_NAME": "17/merge", "GITHUB_HEAD_REF": "feature/x"},
            ["pr-17", f"sha-{S7}"],
        ),
        (
            {**GITHUB, "GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/tags/v3.1.4",
             "GITHUB_REF_NAME": "v3.1.4"},
            ["3.1.4", "3.1", "3", f"sha-{S7}", "latest"],
        ),
        (
            {**GITLAB, "CI_COMMIT_BRANCH": "feature/y", "CI_COMMIT_REF_NAME": "feature/y"},
            ["feature-y", f"feature-y-{S7}", f"sha-{S7}"],
        ),
        (
            {**GITLAB, "CI_COMMIT_BRANCH": "main", "CI_COMMIT_REF_NAME": "main"},
            ["main", f"main-{S7}", f"sha-{S7}", "latest"],
        ),
        (
            {**GITLAB, "CI_MERGE_REQUEST_IID": "8",
             "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature/y"},
            ["pr-8", f"sha-{S7}"],
        ),
        (
            {**GITLAB, "CI_COMMIT_TAG": "v1.0.0-alpha.2", "CI_COMMIT_REF_NAME": "v1.0.0-alpha.2"},
            ["1.0.0-alpha.2", f"sha-{S7}"],
        ),
        ({**JENKINS, "BRANCH_NAME": "feature/z"}, ["feature-z", f"feature-z-{S7}", f"sha-{S7}"]),
        ({**JENKINS, "BRANCH_NAME": "PR-5", "CHANGE_ID": "5"}, ["pr-5", f"sha-{S7}"]),
        ({**JENKINS, "BRANCH_NAME": "v2.0.1", "TAG_NAME": "v2.0.1"},
         ["2.0.1", "2.0", "2", f"sha-{S7}", "latest"]),
    ],
    ids=[
        "github-branch", "github-default", "github-pr", "github-tag",
        "gitlab-branch", "gitlab-default", "gitlab-mr", "gitlab-prerelease",
        "jenkins-branch", "jenkins-pr", "jenkins-tag",
    ],
)  # fmt: skip
def test_ci_providers(env: dict[str, str], expected: list[str], tmp_path: Path) -> None:
    # tmp_path is not a git repository: everything comes from the environment
    assert compute_tags(detect(env, tmp_path)) == expected


def test_github_default_branch_comes_from_the_event_payload(tmp_path: Path) -> None:
    env = {
        **GITHUB,
        "GITHUB_REF": "refs/heads/trunk",
        "GITHUB_EVENT_PATH": _github_event(tmp_path, "trunk"),
    }
    ref = detect(env, tmp_path)
    assert ref.default_branch == "trunk"
    assert "latest" in compute_tags(ref)
    # the configured default branch wins
    assert "latest" not in compute_tags(detect(env, tmp_path, default_branch="main"))


def test_no_git_and_no_ci_is_local(tmp_path: Path) -> None:
    assert compute_tags(detect({}, tmp_path)) == ["local"]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    if not shutil.which("git"):
        pytest.skip("git is not installed")
    root = tmp_path / "repo"
    root.mkdir()

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
            cwd=root,
            check=True,
            capture_output=True,
        )

    git("init", "-q", "-b", "main")
    (root / "f").write_text("x")
    git("add", "f")
    git("commit", "-q", "-m", "one")
    git("checkout", "-q", "-b", "feature/local")
    git("tag", "v0.2.0")
    return root


def _head(root: Path) -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_plain_git_branch(repo: Path) -> None:
    sha7 = _head(repo)[:7]
    ref = detect({}, repo)
    assert (ref.provider, ref.event, ref.name) == ("git", "branch", "feature/local")
    assert compute_tags(ref) == ["feature-local", f"feature-local-{sha7}", f"sha-{sha7}"]


def test_plain_git_detached_tag_checkout(repo: Path) -> None:
    subprocess.run(["git", "checkout", "-q", "v0.2.0"], cwd=repo, check=True)
    sha7 = _head(repo)[:7]
    assert compute_tags(detect({}, repo)) == ["0.2.0", "0.2", "0", f"sha-{sha7}", "latest"]


def test_ci_without_a_sha_falls_back_to_git(repo: Path) -> None:
    env = {"GITLAB_CI": "true", "CI_COMMIT_BRANCH": "main", "CI_DEFAULT_BRANCH": "main"}
    ref = detect(env, repo)
    assert ref.sha == _head(repo)
    assert compute_tags(ref)[-1] == "latest"


def test_github_pull_request_target_takes_the_number_from_the_payload(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps({"pull_request": {"number": 91}, "repository": {"default_branch": "main"}})
    )
    env = {
        **GITHUB,
        "GITHUB_EVENT_NAME": "pull_request_target",
        "GITHUB_REF": "refs/heads/main",  # the base branch: must not get `latest`
        "GITHUB_HEAD_REF": "fork/feature",
        "GITHUB_EVENT_PATH": str(event),
    }
    assert compute_tags(detect(env, tmp_path)) == ["pr-91", f"sha-{S7}"]
