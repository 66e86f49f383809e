"""Real nox runs: ``nox -s tests-3.12 -- --shard K/N`` runs one shard; the ``coverage`` session
combines the shards' data to the unsharded figure, and the report shows one tests check with
the failing test of whichever shard ran it (issue #28 item 3)."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path

import pytest

pytest.importorskip("nox")

from support.noxrun import NoxRun, commit, copy_fixture, git, run_nox

from noxops.project import interpreters
from noxops.reports.cobertura import read_coverage

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(interpreters.find("3.12") is None, reason="needs Python 3.12 here"),
]

PLANTED = "tests/unit/test_planted.py::test_planted_failure"


def _nox(project: Path, *args: str) -> NoxRun:
    return run_nox(project, *args, timeout=1800)


def _percent(project: Path) -> float:
    return read_coverage(project / "reports" / "coverage.xml", project).percent


def _tests_check(project: Path) -> dict[str, object]:
    summary = json.loads((project / "reports" / "summary.json").read_text(encoding="utf-8"))
    found = {c["name"]: c for c in summary["checks"]}["tests-3.12"]
    assert isinstance(found, dict)
    return found


def test_two_shards_make_the_whole_suite(tmp_path: Path) -> None:
    project = copy_fixture("shard_project", tmp_path)
    (project / ".gitignore").write_text(".nox/\nreports/\n__pycache__/\n")
    (project / "tests" / "unit" / "test_planted.py").write_text(
        "from tally import mean\n\n\ndef test_planted_failure():\n    assert mean([1, 3]) == 3\n"
    )
    git(project, "init", "-q")
    commit(project, "init")

    # A mistake in --shard is one line, before anything is installed or run.
    bad = _nox(project, "-s", "tests-3.12", "--", "--shard", "3/2")
    assert bad.returncode != 0, bad
    assert "tests-3.12: --shard 3/2: the shard must be between 1 and its count" in bad.output
    assert "Traceback" not in bad.output, bad

    # The whole suite: its figure, and the durations the shards are split by.
    whole = _nox(project, "-s", "tests-3.12")
    assert whole.returncode != 0 and "1 failed, 24 passed" in whole.output, whole
    combined = _nox(project, "-s", "coverage", "--no-dependencies")
    assert combined.returncode == 0, combined
    unsharded = _percent(project)
    recorded = project / "reports" / "fingerprints" / "tests-3.12.shards" / "durations.json"
    assert len(json.loads(recorded.read_text())["durations"]) == 25

    first = _nox(project, "-s", "tests-3.12", "--", "--shard", "1/2")
    assert "noxops: tests-3.12 ran shard 1/2: " in first.output, first
    # One shard alone is never the Python's result: coverage refuses it, the report says so.
    early = _nox(project, "-s", "coverage", "--no-dependencies")
    assert early.returncode != 0, early
    assert "incomplete: shard(s) 1 of 2 ran; run nox -s tests-3.12 -- --shard 2/2" in early.output
    _nox(project, "-s", "report", "--no-dependencies")
    half = _tests_check(project)
    assert half["status"] != "passed" and half["partial"], half

    second = _nox(project, "-s", "tests-3.12", "--", "--shard", "2/2")
    assert "noxops: tests-3.12 ran shard 2/2: " in second.output, second
    ran = [first, second]
    kept = [re.search(r"ran shard \d/2: (\d+) of 25 tests", r.output) for r in ran]
    counts = [int(m[1]) for m in kept if m is not None]
    assert len(counts) == 2 and sum(counts) == 25, [r.output for r in ran]
    # Split by the recorded durations: the slow tests (0.3 s, 0.3 s, 0.4 s, 0.2 s) spread.
    loads = re.search(
        r"split by recorded durations \(shards: ([\d.]+), ([\d.]+) s\)", second.output
    )
    assert loads is not None, second
    balance = [float(loads[1]), float(loads[2])]
    assert max(balance) <= 0.75 * sum(balance), balance
    failing = [r for r in ran if PLANTED in r.output]
    assert len(failing) == 1 and failing[0].returncode != 0, [r.output for r in ran]
    assert [r.returncode == 0 for r in ran].count(True) == 1, [r.output for r in ran]

    gate = _nox(project, "-s", "coverage", "report", "--no-dependencies")
    assert "combining 2 run(s): 3.12.shard1, 3.12.shard2" in gate.output, gate
    assert unsharded < 100.0  # the fixture leaves a function untested
    assert abs(_percent(project) - unsharded) <= 0.1, (_percent(project), unsharded)
    tests = _tests_check(project)
    assert tests["status"] == "failed" and not tests["partial"], tests
    assert tests["summary"] == "24 passed, 1 failed (shards 1-2 of 2: 25 tests in all)", tests
    details = tests["details"]
    assert isinstance(details, list) and any(PLANTED in d for d in details), tests
    # The complete set's durations now split the next shards.
    assert "shards 1-2 of 2" in json.loads(recorded.read_text())["source"]
    print(f"shards: {balance} s, {counts} tests; {_percent(project):.2f}% of {unsharded:.2f}%")


def test_shards_measured_in_other_checkouts_combine_in_the_coverage_jobs(tmp_path: Path) -> None:
    """GitLab runs each job in a runner slot of its own (``<builds>/<runner>/<slot>/...``),
    Jenkins in ``workspace@2``: the shards' coverage data names files under their own
    checkouts, gone by the time the coverage job combines it in another."""
    pristine = copy_fixture("shard_project", tmp_path / "pristine")
    (pristine / ".gitignore").write_text(".nox/\nreports/\n__pycache__/\n")

    def checkout(slot: str) -> Path:  # a CI job's clone of the same commit
        project = tmp_path / slot / "shard_project"
        shutil.copytree(pristine, project)
        git(project, "init", "-q")
        commit(project, "init")
        return project

    source = checkout("whole")
    whole = _nox(source, "-s", "tests-3.12")
    assert whole.returncode == 0, whole
    assert _nox(source, "-s", "coverage", "--no-dependencies").returncode == 0
    unsharded = _percent(source)

    coverage_job = checkout("slot0")
    for k in (1, 2):  # each shard in its own slot; its reports/ is the job's artifact
        job = checkout(f"slot{k}")
        ran = _nox(job, "-s", "tests-3.12", "--", "--shard", f"{k}/2")
        assert ran.returncode == 0 and f"ran shard {k}/2" in ran.output, ran
        shutil.copytree(job / "reports", coverage_job / "reports", dirs_exist_ok=True)
        shutil.rmtree(job.parent)  # the slot is cleaned, or another machine's

    combined = _nox(coverage_job, "-s", "coverage", "--no-dependencies")
    assert combined.returncode == 0, combined
    assert "No source for code" not in combined.output, combined
    for k in (1, 2):
        measured = tmp_path / f"slot{k}" / "shard_project"
        assert (
            f"noxops: the coverage data of 3.12.shard{k} was measured in {measured} (another "
            "checkout)"
        ) in combined.output, combined
    assert abs(_percent(coverage_job) - unsharded) <= 0.1, (_percent(coverage_job), unsharded)
    assert not list(Path(tempfile.gettempdir()).glob("noxops-coverage-*")), "left behind"
    print(f"combined in another checkout: {_percent(coverage_job):.2f}% of {unsharded:.2f}%")
