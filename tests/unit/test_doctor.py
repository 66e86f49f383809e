"""Sessions a project cannot run are not offered, and `noxops doctor` judges only what the
project needs (issue #24, item 11): a library without a Dockerfile gets no ``load`` session nor
CI job, and doctor asks the engine the way the build does (the docker CLI), not through the
docker SDK, which only the testcontainers provider needs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.noxrun import copy_fixture

from noxops.ci.model import build_pipeline
from noxops.config import load
from noxops.stages import STAGES

# `noxops doctor` in a process where the docker SDK cannot be imported, as where noxops was
# installed without its [docker] extra.
WITHOUT_SDK = (
    "import sys; sys.modules['docker'] = None; sys.modules['testcontainers'] = None; "
    "from noxops.cli import main; sys.exit(main(sys.argv[1:]))"
)


def _doctor(project: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"CI", "GITHUB_ACTIONS"}}
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_SDK, "doctor", "--root", str(project)],
        capture_output=True,
        text=True,
        env={**env, "NO_COLOR": "1", **extra},
        timeout=300,
        check=False,
    )


def test_a_library_without_dockerfile_has_no_load_session_nor_ci_job(tmp_path: Path) -> None:
    library = copy_fixture("clean_project", tmp_path)
    config = load(library)
    stages = STAGES.for_config(config)
    assert not stages["load"].enabled(config)
    assert not stages["smoke"].enabled(config)
    jobs = [job.name for job in build_pipeline(config, stages).jobs]
    assert "build" in jobs  # the wheel and sdist
    assert "load" not in jobs and "smoke" not in jobs

    (library / "Dockerfile").write_text("FROM python:3.12-slim\n")
    config = load(library)
    assert stages["load"].enabled(config)
    assert "load" in [job.name for job in build_pipeline(config, stages).jobs]


@pytest.mark.docker
@pytest.mark.skipif(
    sys.version_info < (3, 10),
    reason="doctor run by Python 3.9 rightly fails its tools-Python check (the tools need 3.10+)",
)
def test_doctor_on_a_library_with_a_running_engine_and_no_docker_sdk(tmp_path: Path) -> None:
    library = copy_fixture("clean_project", tmp_path)
    result = _doctor(library)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "start the engine" not in out and "docker SDK is not installed" not in out, out
    assert "ok    Docker engine" in out and "docker CLI" in out, out
    assert "testcontainers" not in out, out  # no integration services: the SDK is not needed

    # With services to start, the SDK is its own line; the URLs serve them, so doctor passes.
    pyproject = library / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + '\n[tool.noxops.integration]\nservices = ["redis"]\n'
    )
    with_services = _doctor(library, REDIS_URL="redis://127.0.0.1:6/0")
    out = with_services.stdout
    assert with_services.returncode == 0, out + with_services.stderr
    assert (
        "warn  testcontainers provider  needs noxops[docker] (docker SDK) in the environment "
        "that runs nox" in out
    ), out
    assert "ok    Docker engine" in out and "start the engine" not in out, out
