"""Generated GitLab pipelines for layouts real repositories have, run by gitlab-ci-local
(issue #26 items 1 and 5): each run keeps to the jobs that prove its point.

- a service whose project is in ``backend/`` of its repository: ``noxops ci generate`` writes
  ``.gitlab-ci.yml`` at the repository's top, and the tests, coverage, build and smoke jobs
  work in ``backend/``: reports, the coverage data and the built image reach the later jobs;
- a library without a Dockerfile tested on every Python from 3.9 to 3.13, each in its own
  ``python:3.X-slim`` image with no ``images`` override: on 3.9 nox runs on the image's
  Debian python3 while the session runs on 3.9.

The machinery (noxops's wheel, the stand-in images) is tests/support/gitlab_local.py's.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support.example_ci import REPO, checkout_example, commit_all
from support.gitlab_local import run_pipeline

from noxops.ci.command import generate
from noxops.config import load

pytestmark = [pytest.mark.slow, pytest.mark.docker, pytest.mark.timeout(3000)]

LIBRARY = REPO / "tests" / "fixtures" / "matrix_library"
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
