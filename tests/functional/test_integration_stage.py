"""Real `nox -s integration` runs of tests/fixtures/integration_project under each provider.

The fixture's tests create tables and use Redis through the plugin's per-test fixtures. Each
run is checked for which provider served the services, that no password was printed, and
that no server process, temporary folder or container was left behind: after success, after
failing tests, after bad input, and after SIGINT or SIGTERM to the running nox.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from support.noxrun import NoxRun, copy_fixture, run_nox
from support.traces import assert_clean, traces

from noxops.services.local import LocalRunning
from noxops.services.postgres import KIND as POSTGRES
from noxops.services.redis import KIND as REDIS

pytestmark = pytest.mark.slow

DEAD_ENGINE = "unix:///nonexistent/docker.sock"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy for the module, so its .nox/integration environment is made once."""
    return copy_fixture("integration_project", tmp_path_factory.mktemp("integration"))


def nox_integration(project: Path, *posargs: str, env: dict[str, str] | None = None) -> NoxRun:
    # Reuse the environment and skip installs once it exists: the first run installs.
    reuse = ["-R"] if (project / ".nox" / "integration").is_dir() else []
    full_env = {"TESTCONTAINERS_RYUK_DISABLED": "true", **(env or {})}
    args = [*reuse, "-s", "integration", *(["--", *posargs] if posargs else [])]
    return run_nox(project, *args, env=full_env, timeout=300)


def check_passed(run: NoxRun, project: Path, provider: str, url_file: Path) -> None:
    assert run.returncode == 0, run
    assert "8 passed, 2 skipped" in run.output, run
    assert f"postgres: {provider} provider, ready in " in run.output, run
    assert f"redis: {provider} provider, ready in " in run.output, run
    assert "services ready " in run.output
    password = url_file.read_text().split(":")[2].split("@")[0]
    assert password, "the services always have a password here"
    assert password not in run.output
    record = json.loads((project / "reports" / "integration-services.json").read_text())
    assert {s["provider"] for s in record["services"].values()} == {provider}
    assert password not in json.dumps(record)


@pytest.mark.local_servers
def test_forced_local(project: Path, tmp_path: Path) -> None:
    before = traces()
    url_file = tmp_path / "url"
    run = nox_integration(
        project,
        "--provider=local",
        env={"FIXTURE_EXPECT_PROVIDER": "local", "FIXTURE_URL_FILE": str(url_file)},
    )
    check_passed(run, project, "local", url_file)
    assert "(forced)" in run.output
    assert (project / "reports" / "junit-integration.xml").is_file()
    assert_clean(before)


@pytest.mark.local_servers
def test_auto_without_docker_is_local(project: Path, tmp_path: Path) -> None:
    before = traces()
    url_file = tmp_path / "url"
    run = nox_integration(
        project,
        env={
            "DOCKER_HOST": DEAD_ENGINE,
            "FIXTURE_EXPECT_PROVIDER": "local",
            "FIXTURE_URL_FILE": str(url_file),
        },
    )
    check_passed(run, project, "local", url_file)
    assert "DATABASE_URL unset, no Docker engine" in run.output
    assert_clean(before)


@pytest.mark.docker
def test_forced_docker(project: Path, tmp_path: Path) -> None:
    before = traces()
    url_file = tmp_path / "url"
    run = nox_integration(
        project,
        env={
            "NOXOPS_PROVIDER": "docker",
            "FIXTURE_EXPECT_PROVIDER": "docker",
            "FIXTURE_URL_FILE": str(url_file),
        },
    )
    check_passed(run, project, "docker", url_file)
    assert "postgres:15 (container " in run.output
    assert_clean(before)


@pytest.mark.docker
def test_auto_with_docker(project: Path, tmp_path: Path) -> None:
    before = traces()
    url_file = tmp_path / "url"
    run = nox_integration(
        project, env={"FIXTURE_EXPECT_PROVIDER": "docker", "FIXTURE_URL_FILE": str(url_file)}
    )
    check_passed(run, project, "docker", url_file)
    assert "a Docker engine answered" in run.output
    assert_clean(before)


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, str]]:
    """A PostgreSQL and a Redis the test runs itself, as CI `services:` would."""
    with LocalRunning(POSTGRES, 30) as pg, LocalRunning(REDIS, 30) as cache:
        yield {"DATABASE_URL": pg.url, "REDIS_URL": cache.url}


@pytest.mark.parametrize("forced", [True, False], ids=["forced", "auto"])
@pytest.mark.local_servers
def test_url(project: Path, tmp_path: Path, servers: dict[str, str], forced: bool) -> None:
    url_file = tmp_path / "url"
    before = traces()
    run = nox_integration(
        project,
        *(["--provider", "url"] if forced else []),
        env={**servers, "FIXTURE_EXPECT_PROVIDER": "url", "FIXTURE_URL_FILE": str(url_file)},
    )
    check_passed(run, project, "url", url_file)
    assert url_file.read_text() == servers["DATABASE_URL"]
    assert ("(DATABASE_URL is set (forced))" in run.output) is forced
    assert_clean(before)


def test_bad_url_fails_fast_with_the_password_masked(project: Path) -> None:
    started = time.monotonic()
    run = nox_integration(
        project,
        "--provider=url",
        env={"DATABASE_URL": "postgresql://app:hunter2@:5432/app", "REDIS_URL": "redis://x:1"},
    )
    assert run.returncode != 0
    assert "DATABASE_URL 'postgresql://app:***@:5432/app' names no host" in run.output, run
    assert "hunter2" not in run.output
    assert "Traceback" not in run.output
    assert time.monotonic() - started < 60


def test_forced_docker_without_an_engine_fails_in_seconds(project: Path) -> None:
    run = nox_integration(project, "--provider=docker", env={"DOCKER_HOST": DEAD_ENGINE})
    assert run.returncode != 0
    assert "provider 'docker' cannot run PostgreSQL" in run.output, run
    assert DEAD_ENGINE in run.output
    assert "Traceback" not in run.output


@pytest.mark.local_servers
def test_failing_tests_leave_nothing_behind(project: Path) -> None:
    before = traces()
    run = nox_integration(
        project,
        "--provider=local",
        "tests/integration",
        "-k",
        "fails_on_demand or constraints",
        env={"FIXTURE_FAIL": "1"},
    )
    assert run.returncode != 0
    assert "failing on purpose (FIXTURE_FAIL)" in run.output, run
    assert "1 failed, 1 passed" in run.output, run
    assert_clean(before)


def _interrupt(project: Path, tmp_path: Path, signum: int, *posargs: str) -> str:
    before = traces()
    hang = tmp_path / "hanging"
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(
        {"FIXTURE_HANG_FILE": str(hang), "NO_COLOR": "1", "TESTCONTAINERS_RYUK_DISABLED": "true"}
    )
    log = tmp_path / "nox.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "nox", "-R", "-s", "integration", "--", *posargs, "-k", "hangs"],
            cwd=project,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the signal goes to nox alone, not to this test
        )
        try:
            deadline = time.monotonic() + 120
            while not hang.exists():
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            assert traces() - before, "the services should be running"
            children = psutil.Process(proc.pid).children(recursive=True)
            proc.send_signal(signum)
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:  # pragma: no cover - only when the test already failed
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    assert proc.returncode != 0
    _, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, f"still running after nox exited: {alive}"
    assert_clean(before)
    return log.read_text()


@pytest.mark.local_servers
def test_sigint_to_nox_stops_tests_and_services(project: Path, tmp_path: Path) -> None:
    _interrupt(project, tmp_path, signal.SIGINT, "--provider=local", "tests/integration")


@pytest.mark.local_servers
def test_sigterm_to_nox_stops_tests_and_services(project: Path, tmp_path: Path) -> None:
    _interrupt(project, tmp_path, signal.SIGTERM, "--provider=local", "tests/integration")


@pytest.mark.docker
def test_sigterm_to_nox_removes_the_containers(project: Path, tmp_path: Path) -> None:
    _interrupt(project, tmp_path, signal.SIGTERM, "--provider=docker", "tests/integration")
