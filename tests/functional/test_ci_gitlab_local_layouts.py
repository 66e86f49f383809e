"""Generated GitLab pipelines for layouts real repositories have, run by gitlab-ci-local
(issue #26 items 1 and 5): each run keeps to the jobs that prove its point.

- a service whose project is in ``backend/`` of its repository: ``noxops ci generate`` writes
  ``.gitlab-ci.yml`` at the repository's top, and the tests, coverage, build and smoke jobs
  work in ``backend/``: reports, the coverage data and the built image reach the later jobs;
- a library without a Dockerfile tested on every Python from 3.9 to 3.13, each in its own
  ``python:3.X-slim`` image with no ``images`` override: on 3.9 nox runs on the image's
  Debian python3 while the session runs on 3.9;
- a repository holding two projects (``api/``, ``worker/``): one ``.gitlab-ci.yml`` whose
  ``rules: changes`` gitlab-ci-local evaluates as GitLab does for a branch (``git diff`` with
  the default branch, ``origin/main``): a change in one folder runs only that project's jobs.

The machinery (noxops's wheel, the stand-in images) is tests/support/gitlab_local.py's.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from support.example_ci import REPO, checkout_example, commit_all
from support.gitlab_local import TOOLS, gitlab_ci_local, run_pipeline

from noxops.ci.command import generate
from noxops.config import load

pytestmark = [pytest.mark.slow, pytest.mark.docker, pytest.mark.timeout(3000)]

LIBRARY = REPO / "tests" / "fixtures" / "matrix_library"
TWO_PROJECTS = REPO / "tests" / "fixtures" / "two_projects"
PYTHONS = ["3.9", "3.10", "3.11", "3.12", "3.13"]


def _generate_at(project: Path) -> list[str]:
    """Runs `noxops ci generate gitlab` for ``project``; the paths written, from the top."""
    top = project.parent if project.name == "backend" else project
    return [p.relative_to(top).as_posix() for p in generate(load(project), "gitlab")]


def test_a_service_in_a_subfolder_runs_green_from_the_repository_top(
    tmp_path: Path, noxops_wheels: Path
) -> None:
    repository = tmp_path / "shop"
    checkout_example(repository, folder="backend")
    project = repository / "backend"
    pyproject = project / "pyproject.toml"
    # the example stands alone (root = "."); here it is a subfolder of the shop's repository
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(re.sub(r'(?m)^root = "\."\n', "", text), encoding="utf-8")
    (project / ".gitlab-ci.yml").unlink()
    assert _generate_at(project) == [".gitlab-ci.yml"]
    assert (repository / ".gitlab-ci.yml").is_file()
    commit_all(repository, "the service in backend/, its CI at the top")

    jobs = ["tests", "coverage", "build", "smoke"]
    run = run_pipeline(repository, noxops_wheels, tmp_path / "gcl.log", jobs=jobs)
    expected = {"tests: [3.11]": "PASS", "coverage": "PASS", "build": "PASS", "smoke": "PASS"}
    assert run.results == expected, run.failure()
    # the image smoke tested is the one build made, handed over through backend/image/
    saved = re.search(r"handover: saved (sha256:\w+)", run.output)
    loaded = re.search(r"handover: loaded (sha256:\w+)", run.output)
    assert saved and loaded and saved[1] == loaded[1], run.failure()


def test_a_library_runs_its_tests_on_every_python_from_3_9(
    tmp_path: Path, noxops_wheels: Path
) -> None:
    repository = tmp_path / "tally"
    checkout_example(repository, source=LIBRARY)
    assert _generate_at(repository) == [".gitlab-ci.yml"]
    commit_all(repository, "the library's CI")

    run = run_pipeline(repository, noxops_wheels, tmp_path / "gcl.log", jobs=["tests"])
    assert run.results == {f"tests: [{py}]": "PASS" for py in PYTHONS}, run.failure()
    for py in PYTHONS:  # each session ran on its own Python, and its tests passed
        assert re.search(rf"tests-{py}.*\b2 passed\b", run.output) or re.search(
            rf"Session tests-{py} was successful", run.output
        ), run.failure()


def _git(repository: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=ci@example.invalid", "-c", "user.name=ci", *args],
        cwd=repository,
        check=True,
        capture_output=True,
    )


def _planned(repository: Path) -> dict[str, str]:
    """Each job's `when` once gitlab-ci-local has evaluated its rules (`never`: left out),
    without running any."""
    env = {**os.environ, "PATH": f"{TOOLS}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run(
        [gitlab_ci_local(), "--list-json"],
        cwd=repository,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    jobs = json.loads(proc.stdout[proc.stdout.index("[") :])
    return {job["name"]: job["when"] for job in jobs}


def test_two_projects_run_only_the_changed_ones_jobs(tmp_path: Path, noxops_wheels: Path) -> None:
    repository = tmp_path / "shop"
    checkout_example(repository, source=TWO_PROJECTS)
    top = [p.relative_to(repository).as_posix() for p in generate(load(repository / "api"))]
    assert top == [".gitlab-ci.yml"]
    commit_all(repository, "one pipeline for api/ and worker/")
    # the default branch as a clone knows it: what rules: changes compares a branch with
    _git(repository, "update-ref", "refs/remotes/origin/main", "HEAD")
    _git(repository, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")
    _git(repository, "checkout", "-q", "-b", "feature/prices")

    readme = repository / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "\nPrices are in cents.\n")
    assert _planned(repository) == {"api:lint": "never", "worker:lint": "never"}
    worker = repository / "worker/src/shop_worker/__init__.py"
    worker.write_text(worker.read_text(encoding="utf-8") + "\n\nBATCH = 10\n")
    assert _planned(repository) == {"api:lint": "never", "worker:lint": "on_success"}
    _git(repository, "checkout", "-q", "--", ".")

    api = repository / "api/src/shop_api/__init__.py"
    api.write_text(api.read_text(encoding="utf-8") + '\n\nCURRENCY = "EUR"\n')
    commit_all(repository, "api: the currency")
    assert _planned(repository) == {"api:lint": "on_success", "worker:lint": "never"}
    run = run_pipeline(repository, noxops_wheels, tmp_path / "gcl.log")  # rules evaluated
    assert run.results == {"api:lint": "PASS"}, run.failure()
    assert "Session lint was successful" in run.output, run.failure()
