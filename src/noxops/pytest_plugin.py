"""The pytest plugin: PostgreSQL and Redis for tests, with a fresh database per test.

Registered as the ``noxops`` pytest11 entry point. It is inert until a test asks for one of
its fixtures: importing it imports only pytest, and no service starts unless used.

Under ``nox -s integration`` the services already run and ``DATABASE_URL`` / ``REDIS_URL``
point at them (a set URL variable always wins); under plain ``pytest`` a fixture starts the
service itself for the session (the provider from ``NOXOPS_PROVIDER`` or ``[tool.noxops.
integration]``, else automatic: Docker if an engine answers, else a local server) and stops
it at the end.

Session fixtures:
    ``noxops_postgres``, ``noxops_redis``: the :class:`~noxops.services.base.Service` handle
    (``.url``, ``.host``, ``.port``, ``.user``, ``.password``, ``.database``, ``.provider``).
    ``noxops_postgres_url``, ``noxops_redis_server_url``: the shared server's URL.
    ``noxops_postgres_setup``: override it to return ``callable(url)`` that creates the schema
    in the template every test database is copied from (default: none).
Per-test fixtures:
    ``noxops_database_url``: the URL of a fresh database made for this test from the template
    (milliseconds), dropped afterwards. ``noxops_database``: an open psycopg connection to it
    (autocommit).
    ``noxops_redis_url``: the URL of a Redis database emptied for this test.
    ``noxops_redis_client``: a ``redis.Redis`` client on it (``decode_responses=True``).

Works on Python 3.9+.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

import pytest

if TYPE_CHECKING:
    from noxops.services.base import Service

__all__ = [
    "noxops_database",
    "noxops_database_url",
    "noxops_postgres",
    "noxops_postgres_setup",
    "noxops_postgres_template",
    "noxops_postgres_url",
    "noxops_redis",
    "noxops_redis_client",
    "noxops_redis_server_url",
    "noxops_redis_url",
]

_counter = itertools.count(1)


class _Provider:
    """Starts each service at most once per test session; stops them all at the end."""

    def __init__(self, rootdir: Path) -> None:
        self.rootdir = rootdir
        self.started: dict[str, Service] = {}
        self._groups: list[Any] = []

    def _settings(self) -> tuple[str, Any]:
        from noxops.services.select import Settings, requested_provider

        if (self.rootdir / "pyproject.toml").is_file():
            from noxops.config import load

            section = load(self.rootdir).integration
            return requested_provider(section.provider), Settings.from_config(section)
        return requested_provider(), Settings()

    def get(self, name: str) -> Service:
        if name in self.started:
            return self.started[name]
        from noxops.services.base import ServiceError, kind
        from noxops.services.select import Services, plan

        problem = ""
        try:
            provider, settings = self._settings()
            if os.environ.get(kind(name).url_env):  # given (by nox -s integration, or CI)
                provider = "url"
            group = Services(
                plan([name], provider, engine_timeout=settings.engine_timeout), settings
            )
            running = group.__enter__()
        except ServiceError as exc:
            problem = str(exc)
        if problem:
            pytest.fail(f"noxops could not provide {name}: {problem}", pytrace=False)
        self._groups.append(group)
        self.started[name] = running[name]
        return running[name]

    def close(self) -> None:
        while self._groups:
            self._groups.pop().__exit__(None, None, None)


@pytest.fixture(scope="session")
def _noxops_provider(request: pytest.FixtureRequest) -> Iterator[_Provider]:
    provider = _Provider(Path(request.config.rootpath))
    try:
        yield provider
    finally:
        provider.close()


# -- PostgreSQL ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def noxops_postgres(_noxops_provider: _Provider) -> Service:
    """The PostgreSQL server for this test session (from DATABASE_URL or started)."""
    return _noxops_provider.get("postgres")


@pytest.fixture(scope="session")
def noxops_postgres_url(noxops_postgres: Service) -> str:
    """The URL of the session's PostgreSQL server and its main database."""
    return noxops_postgres.url


@pytest.fixture(scope="session")
def noxops_postgres_setup() -> Optional[Callable[[str], None]]:
    """Override to return ``callable(template_url)`` that creates tables in the template."""
    return None


def _connect(url: str) -> Any:
    import psycopg

    return psycopg.connect(url, autocommit=True, connect_timeout=10)


def _database_url(service: Service, name: str) -> str:
    from noxops.services.base import Endpoint

    e = service.endpoint
    return Endpoint(e.scheme, e.host, e.port, e.user, e.password, name).url


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _drop(admin: Any, name: str) -> None:
    import psycopg

    try:
        admin.execute(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")
    except psycopg.errors.SyntaxError:  # PostgreSQL before 13
        admin.execute(f"DROP DATABASE IF EXISTS {_quote(name)}")


@pytest.fixture(scope="session")
def noxops_postgres_template(
    noxops_postgres: Service, noxops_postgres_setup: Optional[Callable[[str], None]]
) -> Iterator[str]:
    """The template database (its name) each test's database is copied from."""
    name = f"noxops_tpl_{os.getpid()}"
    with _connect(noxops_postgres.url) as admin:
        _drop(admin, name)
        admin.execute(f"CREATE DATABASE {_quote(name)}")
    try:
        if noxops_postgres_setup is not None:
            noxops_postgres_setup(_database_url(noxops_postgres, name))
        yield name
    finally:
        with _connect(noxops_postgres.url) as admin:
            _drop(admin, name)


@pytest.fixture
def noxops_database_url(noxops_postgres: Service, noxops_postgres_template: str) -> Iterator[str]:
    """A fresh database for this test, copied from the template, dropped afterwards."""
    name = f"noxops_test_{os.getpid()}_{next(_counter)}"
    with _connect(noxops_postgres.url) as admin:
        admin.execute(f"CREATE DATABASE {_quote(name)} TEMPLATE {_quote(noxops_postgres_template)}")
    try:
        yield _database_url(noxops_postgres, name)
    finally:
        with _connect(noxops_postgres.url) as admin:
            _drop(admin, name)


@pytest.fixture
def noxops_database(noxops_database_url: str) -> Iterator[Any]:
    """An open psycopg connection (autocommit) to this test's fresh database."""
    conn = _connect(noxops_database_url)
    try:
        yield conn
    finally:
        conn.close()


# -- Redis --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def noxops_redis(_noxops_provider: _Provider) -> Service:
    """The Redis server for this test session (from REDIS_URL or started)."""
    return _noxops_provider.get("redis")


@pytest.fixture(scope="session")
def noxops_redis_server_url(noxops_redis: Service) -> str:
    """The URL of the session's Redis server, as given (its own database number)."""
    return noxops_redis.url


def _test_db_number() -> int:
    """Database 1 (0 is the shared one); pytest-xdist worker N gets 1 + N, up to 15."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    digits = "".join(ch for ch in worker if ch.isdigit()) or "0"
    return 1 + int(digits) % 15


@pytest.fixture
def noxops_redis_url(noxops_redis: Service) -> Iterator[str]:
    """The URL of a Redis database emptied before (and after) this test."""
    from noxops.services.base import Endpoint
    from noxops.services.redis import connect, resp_command

    e = noxops_redis.endpoint
    endpoint = Endpoint(e.scheme, e.host, e.port, e.user, e.password, str(_test_db_number()))

    def flush() -> None:
        with connect(endpoint, 10) as sock:
            resp_command(sock, "FLUSHDB")

    flush()
    try:
        yield endpoint.url
    finally:
        flush()


@pytest.fixture
def noxops_redis_client(noxops_redis_url: str) -> Iterator[Any]:
    """A ``redis.Redis`` client (``decode_responses=True``) on this test's clean database."""
    import redis

    client = redis.Redis.from_url(noxops_redis_url, decode_responses=True)
    try:
        yield client
    finally:
        client.close()
