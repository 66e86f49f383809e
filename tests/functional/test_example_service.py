"""The example service's pipeline, for real: lint, tests, integration, build and smoke.

examples/service is copied to a fresh git repository and `nox` runs its stages with the
noxops of this checkout: PostgreSQL and Redis for the integration tests, the image built from
its Dockerfile, and the smoke tests against that image with PostgreSQL and Redis containers.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.noxrun import run_nox
from support.traces import smoke_leftovers

from noxops.containers import engine

pytestmark = [pytest.mark.docker, pytest.mark.slow]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "service"


def _leftovers() -> list[str]:
    return smoke_leftovers()


@pytest.fixture
def example(tmp_path: Path) -> Iterator[Path]:
    project = tmp_path / "service"
    shutil.copytree(
        EXAMPLE, project, ignore=shutil.ignore_patterns(".nox", "build", "dist", "reports")
    )
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('"noxops-examples/notes"', '"noxops-test/notes-e2e"')
    )
    for args in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "example"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
            cwd=project, check=True, capture_output=True,
        )  # fmt: skip
    try:
        yield project
    finally:
        manifest = project / "reports" / "build-manifest.json"
        if manifest.is_file():
            image_id = json.loads(manifest.read_text()).get("image_id")
            if image_id:
                engine.docker("rmi", "-f", image_id, check=False)


def test_the_example_pipeline_runs_end_to_end(example: Path) -> None:
    before = _leftovers()
    sessions = ["lint", "tests-3.11", "integration", "build", "smoke"]
    run = run_nox(example, "-s", *sessions, timeout=900)
    assert run.returncode == 0, run
    for session in sessions:
        assert f"* {session}: success" in run.output, run
    assert "5 passed" in run.output  # tests/integration against real PostgreSQL and Redis
    assert "/ready answered HTTP 200" in run.output  # smoke waited for both services
    manifest = json.loads((example / "reports" / "build-manifest.json").read_text())
    assert manifest["image"] == "noxops-test/notes-e2e"
    assert manifest["tags"][0] == "main" and manifest["tags"][-1] == "latest"
    assert manifest["wheel"] == "notes_service-1.0.0-py3-none-any.whl"
    sbom = json.loads((example / manifest["sbom"]).read_text())
    names = {c["name"] for c in sbom["components"]}
    assert {"notes-service", "psycopg", "psycopg-binary", "redis"} <= names
    junit = (example / "reports" / "junit-smoke.xml").read_text()
    assert 'tests="3"' in junit and 'failures="0"' in junit
    assert _leftovers() == before
