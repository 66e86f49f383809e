"""Fast checks with real local servers: the local and url providers and the plugin's fixtures.

A local Redis starts in well under a second and PostgreSQL in about one; both are skipped,
with the reason, where their binaries are not installed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from noxops.containers.engine import SERVICE_LABEL
from noxops.services.base import Service, ServiceError
from noxops.services.docker import DockerRunning, engine_problem
from noxops.services.local import LocalRunning
from noxops.services.postgres import KIND as POSTGRES
from noxops.services.redis import KIND as REDIS
from noxops.services.url import UrlRunning

pytest_plugins = ["pytester"]


def _local(kind: object) -> Iterator[Service]:
    reason = kind.local_available()  # type: ignore[attr-defined]
    if reason:
        pytest.skip(reason)
    with LocalRunning(kind, ready_timeout=30) as service:  # type: ignore[arg-type]
        yield service


@pytest.fixture(scope="module")
def redis_server() -> Iterator[Service]:
    yield from _local(REDIS)


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[Service]:
    yield from _local(POSTGRES)


def test_local_redis_and_the_url_provider(redis_server: Service) -> None:
    assert redis_server.provider == "local"
    assert redis_server.ready_seconds > 0
    with UrlRunning(REDIS, redis_server.url, ready_timeout=5) as given:
        assert given.provider == "url"
        assert given.port == redis_server.port
        assert given.detail == "from REDIS_URL"


def test_a_cancelled_start_gives_up(redis_server: Service) -> None:
    running = UrlRunning(REDIS, redis_server.url.replace(str(redis_server.port), "1"), 30)
    running.cancel()
    started = time.monotonic()
    with pytest.raises(ServiceError, match="start-up was cancelled"):
        running.__enter__()
    assert time.monotonic() - started < 5


def test_docker_provider_without_an_engine_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("docker", reason="the docker SDK (noxops[docker]) is not installed")
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    assert "unix:///nonexistent/docker.sock" in (engine_problem(1.0) or "")
    with pytest.raises(ServiceError, match="docker provider cannot start Redis"):
        DockerRunning(REDIS, ready_timeout=5, engine_timeout=1).__enter__()


PLUGIN_TESTS = """
import os
import pytest

@pytest.fixture(scope="session")
def noxops_postgres_setup():
    import psycopg
    def setup(url):
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE notes (body text)")
    return setup

@pytest.mark.parametrize("n", [1, 2])
def test_fresh_database(noxops_database, noxops_database_url, noxops_postgres_url, n):
    assert noxops_database.execute("SELECT count(*) FROM notes").fetchone() == (0,)
    noxops_database.execute("INSERT INTO notes VALUES ('hi')")
    assert noxops_database_url != noxops_postgres_url
    assert noxops_postgres_url == os.environ["DATABASE_URL"]

@pytest.mark.parametrize("n", [1, 2])
def test_clean_redis(noxops_redis_client, noxops_redis_url, noxops_redis_server_url, n):
    assert noxops_redis_client.dbsize() == 0
    noxops_redis_client.set("k", n)
    assert noxops_redis_url.endswith("/1")
    assert noxops_redis_server_url == os.environ["REDIS_URL"]
"""


def test_plugin_fixtures_on_given_servers(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    postgres_server: Service,
    redis_server: Service,
) -> None:
    pytest.importorskip("psycopg")
    pytest.importorskip("redis")
    monkeypatch.setenv("DATABASE_URL", postgres_server.url)
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    monkeypatch.setenv("NOXOPS_PROVIDER", "docker")  # a set URL wins over the provider
    pytester.makepyfile(test_notes=PLUGIN_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
    import psycopg

    with psycopg.connect(postgres_server.url) as conn:
        left = conn.execute(
            "SELECT count(*) FROM pg_database WHERE datname LIKE 'noxops_%'"
        ).fetchone()
    assert left == (0,), "the template and every test database are dropped"


def test_plugin_reports_a_service_it_cannot_provide(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:hunter2@/nohost")
    pytester.makepyfile("def test_db(noxops_postgres):\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    output = result.stdout.str()
    assert "noxops could not provide postgres: DATABASE_URL" in output
    assert "names no host" in output
    assert "hunter2" not in output


@pytest.mark.docker
def test_docker_redis_starts_answers_and_is_removed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
    running = DockerRunning(REDIS, ready_timeout=30)
    with running as service:
        assert service.provider == "docker"
        assert "redis:7 (container " in service.detail
        REDIS.probe(service.endpoint, 5)
        assert "Ready to accept connections" in running.log_tail()
    import docker

    client = docker.from_env(timeout=10)
    try:
        mine = {"label": f"{SERVICE_LABEL}={running.run_id}"}
        left = client.containers.list(all=True, filters=mine)
    finally:
        client.close()
    assert left == []
