"""Affected tests on a merge request, from the target branch's map, under gitlab-ci-local
(issue #28 item 2).

One fixture (tests/fixtures/shard_project with ``shards = 1``: two source modules, a test file
for each, one Python) as a repository on ``main``, its ``.gitlab-ci.yml`` written by ``noxops
ci generate gitlab``, run twice with gitlab-ci-local's local cache (``.gitlab-ci-local/cache``,
what GitLab's ``cache:`` is on a laptop):

1. on ``main``, the default branch: ``tests`` runs the whole suite and saves its records, the
   map of which test covered which line among them, under main's key; ``coverage`` gates it;
2. a merge-request pipeline from ``feature/x``, whose one commit edits one line of
   ``tally/text.py``: ``tests`` restores main's records by the key's fallback and runs only
   the tests of that line (none of ``test_stats.py``), ``coverage`` says its gate is the last
   full run combined with the affected rerun, and the report does not show it as a full pass
   (its checks of the jobs this pair does not run are off).

gitlab-ci-local 4.75.1 reads ``fallback_keys`` in its schema only: no job restores by it. What
GitLab does on a miss of the key is done here, from the generated file: the first existing
fallback entry is copied to the key's (:func:`support.gitlab_local.fall_back`).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from support.example_ci import REPO, checkout_example, commit_all
from support.gitlab_local import fall_back, run_pipeline

from noxops.ci.command import generate
from noxops.config import load

pytestmark = [pytest.mark.slow, pytest.mark.docker, pytest.mark.timeout(3600)]

FIXTURE = REPO / "tests" / "fixtures" / "shard_project"
NOT_RUN = 'lint = "off", type = "off", bandit = "off", audit = "off"'
# What GitLab sets on a merge-request pipeline (and leaves out: it has no CI_COMMIT_BRANCH).
MERGE_REQUEST = {
    "CI_PIPELINE_SOURCE": "merge_request_event",
    "CI_MERGE_REQUEST_IID": "1",
    "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature/x",
    "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
}


def _ran(junit: Path) -> set[str]:
    """The test files of the tests a JUnit file lists (pytest's classname: dotted path)."""
    names = re.findall(r'<testcase classname="([^"]+)"', junit.read_text(encoding="utf-8"))
    return {name.rsplit(".", 1)[-1] for name in names}


def test_a_merge_request_runs_the_affected_tests_from_the_default_branch_map(
    tmp_path: Path, noxops_wheels: Path
) -> None:
    repository = tmp_path / "tally"
    checkout_example(repository, source=FIXTURE)
    pyproject = repository / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8").replace("shards = 2", "shards = 1")
    text += f"\n[tool.noxops.report]\nchecks = {{{NOT_RUN}}}\n"  # jobs this pair leaves out
    pyproject.write_text(text, encoding="utf-8")
    assert [p.name for p in generate(load(repository), "gitlab")] == [".gitlab-ci.yml"]
    commit_all(repository, "the library's CI")

    first = run_pipeline(
        repository, noxops_wheels, tmp_path / "main.log", jobs=["tests", "coverage"]
    )
    assert first.results == {"tests: [3.12]": "PASS", "coverage": "PASS"}, first.failure()
    assert "tests-3.12 runs all tests (--no-cache or NOXOPS_FORCE asks" in first.output
    saved = repository / ".gitlab-ci-local" / "cache" / "noxops-tests-3.12-main"
    assert (saved / "reports" / "fingerprints" / "tests-3.12.affected" / "map.json").is_file()

    shutil.rmtree(repository / "reports")  # the artifacts copied back: never the next run's
    subprocess.run(["git", "checkout", "-q", "-b", "feature/x"], cwd=repository, check=True)
    module = repository / "src" / "tally" / "text.py"
    edited = module.read_text(encoding="utf-8").replace(
        "    return Counter(_WORD.findall(text.lower()))",
        "    found = _WORD.findall(text.lower())\n    return Counter(found)",
    )
    module.write_text(edited, encoding="utf-8")
    commit_all(repository, "words: name what it found")
    slugs = {"PYTHON": "3.12", "CI_COMMIT_REF_SLUG": "feature-x", "CI_DEFAULT_BRANCH": "main"}
    assert fall_back(repository, "tests", slugs) == ["noxops-tests-3.12-main"]

    second = run_pipeline(
        repository, noxops_wheels, tmp_path / "merge-request.log",
        jobs=["tests", "coverage", "report"], variables=MERGE_REQUEST,
        options=["--unset-variable", "CI_COMMIT_BRANCH"],
    )  # fmt: skip
    for job in ("tests: [3.12]", "coverage", "report"):
        assert second.results.get(job) == "PASS", second.failure()
    assert "imported cache 'noxops-tests-3.12-feature-x'" in second.output, second.failure()
    assert "noxops: tests-3.12 runs 3 of 24 tests, those affected by the change" in second.output
    assert "collected 3 items" in second.output, second.failure()
    assert _ran(repository / "reports" / "junit-3.12.xml") == {"test_text"}, second.failure()
    assert (
        "noxops: the coverage gate is computed from the combined data of the last full run and "
        "the affected rerun of tests-3.12 (3 of 24 tests)"
    ) in second.output, second.failure()
    summary = json.loads((repository / "reports" / "summary.json").read_text(encoding="utf-8"))
    checks = {check["name"]: check for check in summary["checks"]}
    assert checks["tests-3.12"]["summary"].startswith("3 passed (affected tests only: 3 of 24")
    assert "not a full run" in checks["tests-3.12"]["summary"], checks["tests-3.12"]
    assert "(full run + affected reruns)" in checks["coverage"]["summary"], checks["coverage"]
