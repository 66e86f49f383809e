"""The generated GitLab pipeline's shards and records cache, run by gitlab-ci-local (issue #28).

One fixture (tests/fixtures/shard_project: ``shards = 2``, one Python) as a repository on a
feature branch, where the checks run with ``--changed-only``; its ``.gitlab-ci.yml`` written
by ``noxops ci generate gitlab``, run twice with gitlab-ci-local's local cache
(``.gitlab-ci-local/cache``, what GitLab's ``cache:`` is on a laptop):

1. lint, the two shard jobs of ``tests`` and coverage: each shard runs its half of the
   suite, coverage combines the two (a complete set), and lint saves its records;
2. lint again, nothing changed: it restores its records from the cache (not from the first
   run's artifacts, which are removed) and replays its result: "unchanged since", "replayed
   from <commit>".

The machinery (noxops's wheel, the stand-in images) is tests/support/gitlab_local.py's.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from support.example_ci import REPO, checkout_example, commit_all
from support.gitlab_local import run_pipeline

from noxops.ci.command import generate
from noxops.config import load

pytestmark = [pytest.mark.slow, pytest.mark.docker, pytest.mark.timeout(3600)]

SHARDED = REPO / "tests" / "fixtures" / "shard_project"


def test_shard_jobs_feed_coverage_and_a_rerun_replays_lint_from_the_cache(
    tmp_path: Path, noxops_wheels: Path
) -> None:
    repository = tmp_path / "tally"
    checkout_example(repository, source=SHARDED)
    with (repository / "pyproject.toml").open("a", encoding="utf-8") as fh:
        fh.write("\n[tool.black]\nline-length = 100\n")  # the fixture's lines are that long
    assert [p.name for p in generate(load(repository), "gitlab")] == [".gitlab-ci.yml"]
    commit = commit_all(repository, "the library's CI")
    subprocess.run(["git", "checkout", "-q", "-b", "feature/x"], cwd=repository, check=True)

    first = run_pipeline(
        repository, noxops_wheels, tmp_path / "first.log", jobs=["lint", "tests", "coverage"]
    )
    shards = {"tests: [3.12,1]": "PASS", "tests: [3.12,2]": "PASS"}
    assert first.results == {"lint": "PASS", **shards, "coverage": "PASS"}, first.failure()
    for k in (1, 2):  # each shard job ran its half of the suite
        assert f"noxops: tests-3.12 ran shard {k}/2: " in first.output, first.failure()
    assert "combining 2 run(s): 3.12.shard1, 3.12.shard2" in first.output, first.failure()
    assert "noxops: lint runs: no completed run recorded" in first.output, first.failure()
    assert "cache created in '.gitlab-ci-local/cache/noxops-durations-feature-x'" in first.output
    cache = repository / ".gitlab-ci-local" / "cache"
    assert (cache / "noxops-lint-feature-x" / "reports" / "fingerprints" / "lint.json").is_file()

    shutil.rmtree(repository / "reports", ignore_errors=True)  # the artifacts copied back
    second = run_pipeline(repository, noxops_wheels, tmp_path / "second.log", jobs=["lint"])
    assert second.results == {"lint": "PASS"}, second.failure()
    assert "imported cache 'noxops-lint-feature-x'" in second.output, second.failure()
    assert "noxops: lint is up to date: unchanged since" in second.output, second.failure()
    assert f"replayed from {commit[:12]}" in second.output, second.failure()
