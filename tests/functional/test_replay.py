"""Real nox runs: ``--changed-only`` replays a stage's last completed run, failures included."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("nox")

from support.noxrun import NoxRun, copy_fixture, run_nox

from noxops.project import interpreters

pytestmark = pytest.mark.skipif(
    interpreters.find("3.11") is None, reason="needs Python 3.11 on this machine"
)

ONLY = ("--", "--changed-only")


def _record(project: Path, session: str) -> dict[str, object]:
    data = json.loads((project / "reports" / "sessions" / f"{session}.json").read_text())
    assert isinstance(data, dict)
    return data


def _failed(run: NoxRun) -> NoxRun:
    assert run.returncode != 0, str(run)
    return run


def test_a_failing_lint_is_replayed_with_its_findings_and_the_report_says_so(
    tmp_path: Path,
) -> None:
    project = copy_fixture("broken_project", tmp_path)
    first = _failed(run_nox(project, "-s", "lint", *ONLY))
    assert "noxops: lint runs: no completed run recorded" in first.output
    assert "F401" in first.output  # ruff's finding: os imported, unused

    replay = _failed(run_nox(project, "-s", "lint", *ONLY))
    assert "noxops: lint is up to date: unchanged since" in replay.output, str(replay)
    assert "replaying its result: failed" in replay.output
    assert "F401" in replay.output  # the findings, from the kept log
    # ... shown between its markers, in nox's output and in the session's own log
    for text in (replay.output, (project / "reports" / "sessions" / "lint.log").read_text()):
        kept = text.split("---- the log of that run", 1)[1].split("---- end of that log", 1)[0]
        assert "F401" in kept, text
    assert "(unchanged since" in replay.output and "not rerun)" in replay.output
    record = _record(project, "lint")
    assert record["status"] == "failed" and record["replayed"] is True
    assert "lint failed" in str(record["reason"]) and "not rerun" in str(record["reason"])
    assert isinstance(record["duration"], float) and record["duration"] < 3.0
    log = (project / "reports" / "sessions" / "lint.log").read_text()
    assert "F401" in log and "not rerun" in log

    report = run_nox(project, "-s", "report")
    summary = json.loads((project / "reports" / "summary.json").read_text())
    lint = next(c for c in summary["checks"] if c["name"] == "lint")
    assert lint["status"] == "failed" and lint["replayed"] is True, str(report)
    assert lint["replayed_from"] and "not rerun" in lint["summary"]
    assert any(f["rule"] == "F401" and "not rerun" in f["message"] for f in lint["findings"])

    source = project / "src" / "broken" / "__init__.py"
    source.write_text(source.read_text() + "\n\nEDITED = 1\n")
    edited = _failed(run_nox(project, "-s", "lint", *ONLY))
    assert "noxops: lint runs: its inputs changed" in edited.output, str(edited)
    assert "replayed" not in _record(project, "lint")

    forced = _failed(run_nox(project, "-s", "lint", "--", "--changed-only", "--no-cache"))
    assert "noxops: lint runs: --no-cache" in forced.output, str(forced)


def test_a_fresh_environment_replays_as_a_ci_job_does(tmp_path: Path) -> None:
    """A CI job's environment is new each time (its records come from the cache): when the
    install calls the stage plans would make the recorded run's environment, the unchanged
    stage replays without installing anything. Other installer settings make the same calls
    another environment: it is installed and the stage runs."""
    project = copy_fixture("broken_project", tmp_path)
    first = _failed(run_nox(project, "-s", "lint", *ONLY))
    installs = _installs(first.output)
    assert installs, first.output
    recorded = json.loads((project / "reports" / "fingerprints" / "lint.json").read_text())
    assert any(d.startswith("ruff==") for d in recorded["environment"]["distributions"])

    shutil.rmtree(project / ".nox")  # a fresh job: no environment, the records restored
    again = _failed(run_nox(project, "-s", "lint", *ONLY))
    up_to_date = "noxops: lint is up to date: unchanged since"
    assert up_to_date in again.output, str(again)
    assert "replaying its result: failed" in again.output
    assert "noxops: lint's environment is not installed" in again.output, again.output
    # nothing installed before the verdict; after it comes the replayed run's own log
    assert _installs(again.output.split(up_to_date)[0]) == 0, again.output
    assert not list((project / ".nox" / "lint").glob("lib/python*/site-packages/ruff*"))
    assert _record(project, "lint")["replayed"] is True

    # A record without its environment (an older noxops's, or a damaged one): the fresh
    # environment is installed first, then the unchanged stage replays.
    path = project / "reports" / "fingerprints" / "lint.json"
    for broken in ({"kind": "VirtualEnv", "record": "x"}, None):
        data = json.loads(path.read_text())
        data["environment"] = broken
        path.write_text(json.dumps(data))
        shutil.rmtree(project / ".nox")
        older = _failed(run_nox(project, "-s", "lint", *ONLY))
        assert up_to_date in older.output and "is not installed" not in older.output, str(older)
        assert _installs(older.output.split(up_to_date)[0]) == installs, older.output

    # The same calls under another index setting: not the recorded environment.
    shutil.rmtree(project / ".nox")
    other = _failed(run_nox(project, "-s", "lint", *ONLY, env={"UV_EXCLUDE_NEWER": "2099-01-01"}))
    assert "noxops: lint runs: its inputs changed since its last completed run (environment)" in (
        other.output
    ), str(other)
    assert "is not installed" not in other.output
    assert _installs(other.output) == installs, other.output
    assert "F401" in other.output


def _installs(output: str) -> int:
    """The install commands nox ran, whether uv is named by its path or found on PATH."""
    return len(re.findall(r"^nox > \S*uv pip install ", output, re.M))


HANGING_NOXFILE = """\
import os
import time
from pathlib import Path

import noxops
from noxops.stages import lint

_run_tool = lint.run_tool


def _hang_after_first_tool(session, *args, **kwargs):
    ok = _run_tool(session, *args, **kwargs)
    if os.environ.get("HANG_MARKER"):
        Path(os.environ["HANG_MARKER"]).write_text("started")
        time.sleep(120)
    return ok


lint.run_tool = _hang_after_first_tool
noxops.sessions()
"""


def test_a_killed_run_is_never_replayed(tmp_path: Path) -> None:
    project = copy_fixture("broken_project", tmp_path)
    (project / "noxfile.py").write_text(HANGING_NOXFILE)
    _failed(run_nox(project, "-s", "lint", *ONLY))  # completed: on record
    marker = tmp_path / "hanging"
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["HANG_MARKER"] = str(marker)
    proc = subprocess.Popen(
        [sys.executable, "-m", "nox", "-s", "lint", "--", "--changed-only", "--no-cache"],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert marker.exists(), "the run never reached its first tool"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # killed mid-run, as a CI runner cancelling does
        proc.wait()
    after = _failed(run_nox(project, "-s", "lint", *ONLY))
    assert "noxops: lint runs: no completed run recorded" in after.output, str(after)
    assert "unchanged since" not in after.output


def test_a_record_made_in_another_checkout_replays_in_this_one(tmp_path: Path) -> None:
    """GitLab's runner slots and Jenkins's per-branch workspaces: the job that restores a
    record works in another folder than the run that made it. The stage replays there, and its
    findings name this folder's files."""
    made = copy_fixture("broken_project", tmp_path / "slot0")
    _failed(run_nox(made, "-s", "lint", *ONLY))
    assert str(made) in (made / "reports" / "ruff.json").read_text()  # ruff's absolute paths

    job = tmp_path / "slot1" / "broken_project"
    shutil.copytree(made, job, ignore=shutil.ignore_patterns(".nox"))
    shutil.rmtree(tmp_path / "slot0")  # the slot is cleaned, or another machine's
    again = _failed(run_nox(job, "-s", "lint", *ONLY))
    assert "noxops: lint is up to date: unchanged since" in again.output, str(again)
    assert (
        f"noxops: lint's recorded run was made in {made}: its report files are restored with "
        f"this folder's paths ({job})"
    ) in again.output, again.output
    restored = (job / "reports" / "ruff.json").read_text()
    assert str(job / "src" / "broken" / "__init__.py") in restored and str(made) not in restored

    run_nox(job, "-s", "report")
    summary = json.loads((job / "reports" / "summary.json").read_text())
    lint = next(c for c in summary["checks"] if c["name"] == "lint")
    assert lint["replayed"] is True, lint
    assert any(
        f["rule"] == "F401" and f["path"] == "src/broken/__init__.py" for f in lint["findings"]
    ), lint["findings"]
