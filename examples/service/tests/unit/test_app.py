"""The API's behaviour, over real HTTP on 127.0.0.1, with in-memory stores."""

from __future__ import annotations

import http.client
import json
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from notes_service.app import NotesApp, make_server
from notes_service.settings import Settings, SettingsError, mask

from .fakes import FakeCache, FakeStore


class Client:
    def __init__(self, port: int) -> None:
        self.port = port

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            payload = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
            conn.request(method, path, body=payload)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        ctype = response.getheader("Content-Type", "")
        return response.status, json.loads(data) if data and "json" in ctype else data.decode()


@pytest.fixture
def parts() -> tuple[FakeStore, FakeCache, list[str]]:
    return FakeStore(), FakeCache(), []


@pytest.fixture
def client(parts: tuple[FakeStore, FakeCache, list[str]]) -> Iterator[Client]:
    store, cache, logs = parts
    server = make_server(NotesApp(store, cache, log=logs.append), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield Client(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def test_create_read_list_delete(
    client: Client, parts: tuple[FakeStore, FakeCache, list[str]]
) -> None:
    store, cache, _ = parts
    status, note = client.request("POST", "/notes", {"title": "  Buy milk ", "body": "2 litres"})
    assert status == 201
    assert (note["id"], note["title"], note["body"]) == (1, "Buy milk", "2 litres")
    assert client.request("GET", "/notes/1") == (200, note)  # miss: from the store, then cached
    assert cache.data[1] == note
    reads = store.reads
    assert client.request("GET", "/notes/1") == (200, note)  # hit: the store is not read
    assert store.reads == reads
    assert client.request("GET", "/notes") == (200, {"notes": [note]})
    assert client.request("DELETE", "/notes/1")[0] == 204
    assert 1 not in cache.data
    assert client.request("GET", "/notes/1")[0] == 404
    assert client.request("DELETE", "/notes/1")[0] == 404


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"{not json", "the body must be JSON"),
        ([1, 2], "the body must be an object"),
        ({"body": "no title"}, "title must be a string of 1 to 200 characters"),
        ({"title": "x" * 201}, "title must be a string of 1 to 200 characters"),
        ({"title": "ok", "body": 5}, "body must be a string"),
    ],
)
def test_bad_notes_are_refused(client: Client, body: Any, error: str) -> None:
    status, data = client.request("POST", "/notes", body)
    assert status == 400
    assert data["error"].startswith(error)


def test_routes_and_methods(client: Client) -> None:
    assert client.request("GET", "/nope") == (404, {"error": "no route /nope"})
    assert client.request("PUT", "/notes/3")[0] == 405
    assert client.request("DELETE", "/health")[0] == 405
    assert client.request("GET", "/notes?limit=0")[0] == 400
    assert client.request("GET", "/notes?limit=abc")[0] == 400
    assert client.request("POST", "/notes", b"x" * (64 * 1024 + 1))[0] == 413


def test_health_ignores_dependencies_ready_names_them(
    client: Client, parts: tuple[FakeStore, FakeCache, list[str]]
) -> None:
    store, cache, _ = parts
    assert client.request("GET", "/ready") == (
        200, {"status": "ready", "postgres": "ok", "redis": "ok"}
    )  # fmt: skip
    store.down = cache.down = True
    assert client.request("GET", "/health") == (200, {"status": "ok"})
    status, data = client.request("GET", "/ready")
    assert status == 503
    assert data["status"] == "not ready"
    assert "PostgreSQL is not reachable" in data["postgres"]
    assert "Connection refused" in data["redis"]


def test_schema_is_created_once_postgres_answers(
    client: Client, parts: tuple[FakeStore, FakeCache, list[str]]
) -> None:
    store, _, _ = parts
    store.down = True
    assert client.request("POST", "/notes", {"title": "t"})[0] == 503
    store.down = False
    assert client.request("POST", "/notes", {"title": "t"})[0] == 201
    client.request("POST", "/notes", {"title": "u"})
    assert store.migrations == 1


def test_cache_outage_degrades_to_the_database(
    client: Client, parts: tuple[FakeStore, FakeCache, list[str]]
) -> None:
    _, cache, logs = parts
    _, note = client.request("POST", "/notes", {"title": "t"})
    cache.down = True
    assert client.request("GET", f"/notes/{note['id']}") == (200, note)
    assert client.request("DELETE", f"/notes/{note['id']}")[0] == 204
    assert any("cache read failed" in line for line in logs)
    metrics = client.request("GET", "/metrics")[1]
    assert 'notes_cache_requests_total{outcome="error"} 3' in metrics


SAMPLE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_]\w*="[^"]*",?)*\})? -?[0-9.e+Inf-]+$')


def test_metrics_are_prometheus_text(client: Client) -> None:
    client.request("POST", "/notes", {"title": "t"})
    client.request("GET", "/notes/1")
    client.request("GET", "/notes/1")
    status, text = client.request("GET", "/metrics")
    assert status == 200
    lines = text.strip().splitlines()
    for line in lines:
        assert line.startswith(("# HELP ", "# TYPE ")) or SAMPLE.match(line), line
    assert 'notes_http_requests_total{method="POST",route="/notes",status="201"} 1' in lines
    assert 'notes_http_requests_total{method="GET",route="/notes/{id}",status="200"} 2' in lines
    assert 'notes_cache_requests_total{outcome="hit"} 1' in lines
    assert 'notes_cache_requests_total{outcome="miss"} 1' in lines
    count = 'notes_http_request_duration_seconds_count{route="/notes/{id}"} 2'
    assert count in lines
    assert 'notes_http_request_duration_seconds_bucket{le="+Inf",route="/notes/{id}"} 2' in lines


def test_settings_from_env() -> None:
    env = {"DATABASE_URL": "postgresql://a:b@h/d", "REDIS_URL": "redis://h:6379/0", "PORT": "9000"}
    settings = Settings.from_env(env)
    assert (settings.port, settings.cache_ttl) == (9000, 300)
    with pytest.raises(SettingsError, match="DATABASE_URL and REDIS_URL must be set"):
        Settings.from_env({})
    with pytest.raises(SettingsError, match="PORT must be between"):
        Settings.from_env({**env, "PORT": "0"})
    with pytest.raises(SettingsError, match="must be integers"):
        Settings.from_env({**env, "CACHE_TTL": "soon"})


def test_mask_hides_passwords() -> None:
    assert (
        mask("postgresql://notes:s3cret@db:5432/notes") == "postgresql://notes:****@db:5432/notes"
    )
    assert mask("redis://cache:6379/0") == "redis://cache:6379/0"
