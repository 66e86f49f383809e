"""The example's generated GitLab pipeline, run by a real GitLab CI interpreter.

``gitlab-ci-local`` (installed by .ci/setup.d/40-ci-tools.sh) runs ``examples/service``'s
committed ``.gitlab-ci.yml`` with its docker executor on this machine's engine: each job in
its ``image:``, the integration job with PostgreSQL and Redis as GitLab ``services:``, build
and smoke with the host's Docker socket (the example picks ``docker_engine = "socket"``).

Where this machine differs from a real runner, the run adapts only through gitlab-ci-local
``--variable``/``--volume`` options, never the generated file (tests/support/gitlab_local.py
says which); the branch is ``main`` so the release jobs (build, smoke) are in the pipeline.

Every job must pass, asserted by name; the log is kept under the test's tmp folder (or at
``$NOXOPS_GCL_LOG``) and its tail printed on failure.
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest
from support.example_ci import checkout_example
from support.gitlab_local import run_pipeline

# The example's pipeline on a push to main: every job passes. The smoke and load jobs run in
# a job container that talks to the host's engine through the mounted socket: noxops joins
# that container to the smoke network and reaches the service by its alias
# (noxops.containers.engine). The example configures no Sonar project and no notifications, so it
# has no sonar or notify job.
JOBS = [
    "lint", "type", "security", "tests: [3.11]", "coverage", "integration", "build", "smoke",
    "load", "report",
]  # fmt: skip

# twelve jobs one after another (the load job alone runs locust for its duration)
pytestmark = [pytest.mark.slow, pytest.mark.docker, pytest.mark.timeout(2400)]


def test_the_example_pipeline_runs_green_under_gitlab_ci_local(
    tmp_path: Path, noxops_wheels: Path
) -> None:
    project = tmp_path / "service"
    checkout_example(project)
    owner = f"gitlab-ci-local-{uuid.uuid4().hex[:12]}"
    log = Path(os.environ.get("NOXOPS_GCL_LOG", str(tmp_path / "gitlab-ci-local.log")))
    # NOXOPS_OWNER marks what the jobs start, so the test finds this run's leftovers
    run = run_pipeline(project, noxops_wheels, log, variables={"NOXOPS_OWNER": owner})
    expected = {job: "PASS" for job in JOBS}
    assert run.results == expected, run.failure()
    # the image the smoke job tested is the one the build job made
    saved = re.search(r"handover: saved (sha256:\w+)", run.output)
    loaded = re.search(r"handover: loaded (sha256:\w+)", run.output)
    assert saved and loaded and saved[1] == loaded[1], f"log kept at {log}"
    # smoke reached the service through the smoke network, and left nothing behind
    assert "joining this job's container" in run.output, f"log kept at {log}"
    for listing in (["ps", "-aq"], ["network", "ls", "-q"]):
        left = subprocess.run(
            ["docker", *listing, "--filter", f"label=org.noxops.smoke.owner={owner}"],
            capture_output=True, text=True, check=True,
        ).stdout.split()  # fmt: skip
        assert not left, f"smoke left {listing[0]} {left} behind"
