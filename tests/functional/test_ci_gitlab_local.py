"""The example's generated GitLab pipeline, run by a real GitLab CI interpreter.

``gitlab-ci-local`` (installed by .ci/setup.d/40-ci-tools.sh) runs ``examples/service``'s
committed ``.gitlab-ci.yml`` with its docker executor on this machine's engine: each job in
its ``image:``, the integration job with PostgreSQL and Redis as GitLab ``services:``, build
and smoke with the host's Docker socket (the example picks ``docker_engine = "socket"``).

Where this machine differs from a real runner, the test adapts only through gitlab-ci-local
``--variable``/``--volume`` options, never the generated file:

- noxops is not published: its wheel, built from this checkout, is mounted at
  ``/noxops-wheels`` and found through ``UV_FIND_LINKS`` (and ``NOXOPS_REQUIREMENT`` for the
  sessions that install noxops into their own environments);
- the stand-in ``python:3.X-slim`` images are pyenv builds whose scripts folder is not on
  ``PATH`` (the official images install to /usr/local/bin): ``PATH`` lists them;
- a TLS-intercepting proxy stands between this machine and the package index:
  ``UV_NATIVE_TLS=true`` makes uv trust the system CA bundle the stand-ins carry;
- the branch is ``main`` so the release jobs (build, smoke) are in the pipeline.

Every job must pass, asserted by name; the log is kept under the test's tmp folder (or at
``$NOXOPS_GCL_LOG``) and its tail printed on failure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from support.example_ci import STANDIN_SCRIPTS, build_noxops_wheel, checkout_example

TOOLS = Path(os.environ.get("NOXOPS_CI_TOOLS", "/opt/noxops-ci-tools")) / "node_modules/.bin"
# Job variables reach the service containers too: the stand-in postgres:15 needs its bin folder.
IMAGE_PATH = (
    "/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)
# The example's pipeline on a push to main: every job passes. The smoke and load jobs run in
# a job container that talks to the host's engine through the mounted socket: noxops joins
# that container to the smoke network and reaches the service by its alias
# (noxops.build.engine). The example configures no Sonar project and no notifications, so it
# has no sonar or notify job.
JOBS = [
    "lint", "type", "security", "tests: [3.11]", "coverage", "integration", "build", "smoke",
    "load", "report",
]  # fmt: skip
# " PASS  coverage      77% coverage": the job's name, then (after 2+ spaces) a note
RESULT_RE = re.compile(r"^\s*(PASS|FAIL|WARN)\s+(\S.*?)(?:\s{2,}.*)?\s*$")

# twelve jobs one after another (the load job alone runs locust for its duration)
pytestmark = [pytest.mark.slow, pytest.mark.docker, pytest.mark.timeout(2400)]


def test_the_example_pipeline_runs_green_under_gitlab_ci_local(tmp_path: Path) -> None:
    gcl = shutil.which("gitlab-ci-local") or shutil.which("gitlab-ci-local", path=str(TOOLS))
    if not gcl:
        pytest.skip("gitlab-ci-local is not installed (run .ci/setup.d/40-ci-tools.sh)")
    if not shutil.which("rsync"):
        pytest.skip("gitlab-ci-local needs rsync (run .ci/setup.d/40-ci-tools.sh)")
    project = tmp_path / "service"
    checkout_example(project)
    wheels = tmp_path / "wheels"
    build_noxops_wheel(wheels)
    owner = f"gitlab-ci-local-{uuid.uuid4().hex[:12]}"
    variables = {
        "PATH": ":".join([*STANDIN_SCRIPTS, IMAGE_PATH]),
        "UV_NATIVE_TLS": "true",
        "UV_FIND_LINKS": "/noxops-wheels",
        "NOXOPS_REQUIREMENT": "/noxops-wheels",
        # marks what the jobs start, so the test finds this run's leftovers on a shared engine
        "NOXOPS_OWNER": owner,
    }
    argv = [
        gcl,
        "--volume", "/var/run/docker.sock:/var/run/docker.sock",
        "--volume", f"{wheels}:/noxops-wheels",
    ]  # fmt: skip
    for name, value in variables.items():
        argv += ["--variable", f"{name}={value}"]
    env = {**os.environ, "PATH": f"{TOOLS}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run(
        argv,
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=3600,
        check=False,
    )
    log = Path(os.environ.get("NOXOPS_GCL_LOG", str(tmp_path / "gitlab-ci-local.log")))
    log.write_text(proc.stdout, encoding="utf-8")
    results = {m[2]: m[1] for m in map(RESULT_RE.match, proc.stdout.splitlines()) if m}
    expected = {job: "PASS" for job in JOBS}
    assert results == expected, f"log kept at {log}:\n{proc.stdout[-20000:]}"
    # the image the smoke job tested is the one the build job made
    saved = re.search(r"handover: saved (sha256:\w+)", proc.stdout)
    loaded = re.search(r"handover: loaded (sha256:\w+)", proc.stdout)
    assert saved and loaded and saved[1] == loaded[1], f"log kept at {log}"
    # smoke reached the service through the smoke network, and left nothing behind
    assert "joining this job's container" in proc.stdout, f"log kept at {log}"
    for listing in (["ps", "-aq"], ["network", "ls", "-q"]):
        left = subprocess.run(
            ["docker", *listing, "--filter", f"label=org.noxops.smoke.owner={owner}"],
            capture_output=True, text=True, check=True,
        ).stdout.split()  # fmt: skip
        assert not left, f"smoke left {listing[0]} {left} behind"
