"""Smoke, load and deploy take the build manifest's image only when it was built from HEAD's
revision (issue #25, 3): an image of another commit is refused unless asked for by
``--allow-other-revision``, and the report flags a run that asked.

Real git repositories and real manifest files; no engine, no cluster (smoke with
``serve = false`` hands the image to its tests, deploy plans a dry run).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from noxops.config import Config, load
from noxops.deploy import runner as deploy
from noxops.errors import NoxopsError
from noxops.image import manifest, runner
from noxops.reports.collect import build_report
from noxops.reports.html import render_html
from noxops.reports.model import Check
from noxops.reports.terminal import render
from noxops.stages import STAGES
from noxops.stages import load as load_stage

DIGEST = "sha256:" + "e" * 64
BUILT_AT = "2026-11-27T10:00:00Z"
FLAG = "--allow-other-revision"
PYPROJECT = """\
[project]
name = "notes"
version = "1.0.0"
[tool.noxops.image]
sbom = false
packages = false
[tool.noxops.image.smoke]
serve = false
[tool.noxops.deploy.staging]
namespace = "notes"
kubeconfig = "no-such-kubeconfig.json"
"""


@pytest.fixture(autouse=True)
def _no_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """HEAD's revision from git here, not from the CI job running these tests."""
    for name in ("GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL", "JENKINS_HOME", "CI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NOXOPS_RUN_ID", "run-1")


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=root, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


def _build(config: Config) -> str:
    """A build manifest of the checkout's current commit; that commit."""
    revision = _git(config.root, "rev-parse", "HEAD")
    built = manifest.Manifest(
        project="notes", version="1.0.0", image="notes", tags=["main"], image_id=DIGEST,
        revision=revision, created=BUILT_AT,
    )  # fmt: skip
    manifest.write(manifest.manifest_path(config), built)
    return revision


@pytest.fixture
def project(tmp_path: Path) -> tuple[Config, str, str]:
    """A repository whose manifest was built one commit before HEAD: (config, built, head)."""
    root = tmp_path / "notes"
    (root / "tests" / "smoke").mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (root / "Dockerfile").write_text("FROM python:3.12-slim\n", encoding="utf-8")
    (root / "tests" / "smoke" / "test_up.py").write_text("def test_up():\n    pass\n")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "first")
    config = load(root)
    built = _build(config)
    (root / "app.py").write_text("ANSWER = 42\n", encoding="utf-8")
    _git(root, "add", "app.py")
    _git(root, "commit", "-q", "-m", "second")
    return config, built, _git(root, "rev-parse", "HEAD")


class Pytest:
    """Records the smoke session's pytest commands."""

    def __init__(self) -> None:
        self.runs: list[list[str]] = []

    def __call__(self, argv: Sequence[str], env: Mapping[str, str]) -> None:
        self.runs.append(list(argv))


def _refusal(err: pytest.ExceptionInfo[NoxopsError], built: str, head: str, session: str) -> None:
    message = str(err.value)
    assert "\n" not in message
    assert f"revision {built[:7]} (built at {BUILT_AT}) is not HEAD {head[:7]}" in message
    assert "nox -s build" in message and f"nox -s {session} -- {FLAG}" in message
    assert "reports/build-manifest.json" in message


def test_smoke_refuses_an_image_of_another_revision(project: tuple[Config, str, str]) -> None:
    config, built, head = project
    pytest_runs = Pytest()
    with pytest.raises(NoxopsError) as err:
        runner.smoke(config, [], command=pytest_runs)
    _refusal(err, built, head, "smoke")
    assert pytest_runs.runs == []

    lines: list[str] = []
    runner.smoke(config, [FLAG, "-x"], command=pytest_runs, log=lines.append)
    (argv,) = pytest_runs.runs
    assert f"--image={DIGEST}" in argv and argv[-1] == "-x" and FLAG not in argv
    assert any(f"not HEAD {head[:7]}" in line and FLAG in line for line in lines)

    _build(config)  # rebuilt from HEAD: no flag needed
    runner.smoke(config, [], command=pytest_runs)
    assert len(pytest_runs.runs) == 2


def test_a_manifest_without_a_revision_is_used_and_said_unchecked(
    project: tuple[Config, str, str],
) -> None:
    """A hand-written manifest (image, tags) names no commit: nothing to compare."""
    config, _, _ = project
    path = manifest.manifest_path(config)
    path.write_text(json.dumps({"image": "notes", "tags": ["1"], "image_id": DIGEST}))
    lines: list[str] = []
    runner.smoke(config, [], command=Pytest(), log=lines.append)
    assert any("records no revision" in line for line in lines)


class Stop(Exception):
    """Raised by the fake session's install: the load stage went past the revision check."""


class LoadSession:
    def __init__(self, posargs: list[str]) -> None:
        self.posargs = posargs
        self.lines: list[str] = []

    def log(self, line: str) -> None:
        self.lines.append(line)

    def install(self, *requirements: str) -> None:
        raise Stop


def test_load_refuses_an_image_of_another_revision(project: tuple[Config, str, str]) -> None:
    config, built, head = project
    with pytest.raises(NoxopsError) as err:
        load_stage._load(LoadSession([]), config)
    _refusal(err, built, head, "load")
    session = LoadSession([FLAG])
    with pytest.raises(Stop):
        load_stage._load(session, config)
    assert any(f"not HEAD {head[:7]}" in line for line in session.lines)


def test_deploy_refuses_an_image_of_another_revision(project: tuple[Config, str, str]) -> None:
    config, built, head = project
    with pytest.raises(NoxopsError) as err:
        deploy.run(config, "staging", ["--dry-run"], log=lambda _: None, environ={})
    _refusal(err, built, head, "deploy-staging")
    assert not (config.reports / "deploy").exists()  # refused before writing anything

    lines: list[str] = []
    result = deploy.run(config, "staging", ["--dry-run", FLAG], log=lines.append, environ={})
    assert result.outcome == "planned" and result.image == "notes:main"
    assert any(f"not HEAD {head[:7]}" in line for line in lines)
    # an image given by hand is not the manifest's: nothing to check
    given = deploy.run(config, "staging", ["--dry-run", "--image=notes:7"], log=lambda _: None)
    assert given.image == "notes:7"


def _record(config: Config, session: str, run: str = "run-1") -> None:
    """The session record the session wrapper writes at the end of ``run``."""
    folder = config.reports / "sessions"
    folder.mkdir(parents=True, exist_ok=True)
    record = {"name": session, "status": "success", "reason": "", "run": run, "duration": 1.5}
    record.update(started="2000-01-01T00:00:00+00:00", finished="2000-01-01T00:00:02+00:00")
    (folder / f"{session}.json").write_text(json.dumps(record), encoding="utf-8")


def _checks(config: Config) -> tuple[dict[str, Check], Any]:
    report = build_report(config, STAGES.for_config(config))
    return {c.name: c for c in report.checks}, report


def test_the_report_flags_a_run_that_used_another_revision(
    project: tuple[Config, str, str],
) -> None:
    config, built, head = project
    runner.smoke(config, [FLAG], command=Pytest())
    deploy.run(config, "staging", ["--dry-run", FLAG], log=lambda _: None, environ={})
    (config.reports / "junit-smoke.xml").write_text(
        '<testsuite name="smoke" tests="1"><testcase classname="t" name="test_up"/></testsuite>'
    )
    _record(config, "smoke")
    _record(config, "deploy-staging")
    checks, report = _checks(config)
    flag = f"{FLAG}: image of revision {built[:7]} (built at {BUILT_AT}), not HEAD {head[:7]}"
    for name in ("smoke", "deploy-staging"):
        check = checks[name]
        assert check.status == "passed"  # what was asked for ran; the report says what it was
        assert check.summary.endswith(f"({flag})"), check.summary
        assert check.other_revision == flag and check.to_dict()["other_revision"] == flag
    assert f"smoke (passed):\n  {flag}" in render(report, width=200)
    assert flag in render_html(report, config.reports, config.root)

    _record(config, "smoke", run="run-2")  # a later smoke run that used no manifest
    checks, _ = _checks(config)
    assert checks["smoke"].other_revision is None and "not HEAD" not in checks["smoke"].summary
