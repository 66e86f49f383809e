"""The pytest plugin's fixtures, used for real: a fresh database and a clean Redis per test.

Under `nox -s integration` the services come from DATABASE_URL/REDIS_URL; under plain pytest
the plugin starts them itself (Docker if an engine answers, else local servers).
"""

from __future__ import annotations

import os
from typing import Any

import psycopg
import pytest

from noxops.services.base import Service

# Outside `nox -s integration` the plugin starts the services: in Docker, else local servers.
pytestmark = pytest.mark.local_servers(or_docker=True)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_every_test_gets_its_own_empty_database(noxops_database: Any, n: int) -> None:
    tables = noxops_database.execute(
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
    ).fetchone()
    assert tables == (0,)
    noxops_database.execute("CREATE TABLE items (n int)")
    noxops_database.execute("INSERT INTO items VALUES (%s)", (n,))
    assert noxops_database.execute("SELECT n FROM items").fetchall() == [(n,)]


def test_the_database_is_not_the_shared_one(
    noxops_database_url: str, noxops_postgres: Service
) -> None:
    with psycopg.connect(noxops_database_url) as conn:
        name = conn.execute("SELECT current_database()").fetchone()
    assert name is not None
    assert name[0] != noxops_postgres.database
    assert name[0].startswith("noxops_test_")


@pytest.mark.parametrize("n", [1, 2])
def test_every_test_gets_an_empty_redis_database(noxops_redis_client: Any, n: int) -> None:
    assert noxops_redis_client.dbsize() == 0
    noxops_redis_client.set("run", n)
    assert noxops_redis_client.get("run") == str(n)


def test_service_handles_and_environment(noxops_postgres: Service, noxops_redis: Service) -> None:
    assert noxops_postgres.provider in {"url", "docker", "local"}
    assert "***" in noxops_postgres.masked_url or not noxops_postgres.password
    assert noxops_postgres.password not in repr(noxops_postgres) or not noxops_postgres.password
    if os.environ.get("NOXOPS_SERVICES"):  # under `nox -s integration`
        assert os.environ["DATABASE_URL"] == noxops_postgres.url
        assert os.environ["REDIS_URL"] == noxops_redis.url
