"""The store, the cache and the whole API against real PostgreSQL and Redis.

They come from DATABASE_URL and REDIS_URL, which `nox -s integration` sets (noxops starts
the services); run by hand with your own: DATABASE_URL=... REDIS_URL=... pytest tests/integration
"""

from __future__ import annotations

import json
import os
import threading
import urllib.request
import uuid
from collections.abc import Iterator

import pytest

from notes_service.app import NotesApp, make_server
from notes_service.cache import NoteCache
from notes_service.store import NoteStore, StoreError

DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")

pytestmark = pytest.mark.skipif(
    not (DATABASE_URL and REDIS_URL),
    reason="DATABASE_URL and REDIS_URL are not set (`nox -s integration` sets them)",
)


@pytest.fixture
def store() -> NoteStore:
    store = NoteStore(DATABASE_URL)
    store.migrate()
    return store


@pytest.fixture
def cache() -> NoteCache:
    return NoteCache(REDIS_URL, ttl=60)


def test_store_round_trip(store: NoteStore) -> None:
    title = f"note {uuid.uuid4()}"
    note = store.create(title, "body")
    assert store.get(note.id) == note
    assert note.created_at.endswith("+00:00")
    assert note in store.list(limit=200)
    assert store.delete(note.id)
    assert store.get(note.id) is None
    assert not store.delete(note.id)


def test_the_database_refuses_an_empty_title(store: NoteStore) -> None:
    import psycopg

    with pytest.raises(psycopg.errors.CheckViolation):
        store.create("", "no title")


def test_unreachable_database_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="PostgreSQL is not reachable"):
        NoteStore("postgresql://nobody:x@127.0.0.1:1/none", connect_timeout=1).ping()


def test_cache_round_trip_and_expiry(cache: NoteCache) -> None:
    note = {"id": 987654, "title": "t", "body": "", "created_at": "now"}
    cache.put(note)
    assert cache.get(987654) == note
    assert 0 < int(cache.client.ttl(cache.key(987654))) <= 60
    cache.forget(987654)
    assert cache.get(987654) is None


@pytest.fixture
def base_url(store: NoteStore, cache: NoteCache) -> Iterator[str]:
    server = make_server(NotesApp(store, cache, log=lambda line: None), "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _call(method: str, url: str, body: object = None) -> tuple[int, object]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    with urllib.request.urlopen(request, timeout=5) as response:
        raw = response.read()
        return response.status, json.loads(raw) if raw else None


def test_api_reads_through_the_cache(base_url: str, cache: NoteCache) -> None:
    assert _call("GET", base_url + "/ready") == (
        200, {"status": "ready", "postgres": "ok", "redis": "ok"}
    )  # fmt: skip
    status, note = _call("POST", base_url + "/notes", {"title": "integration"})
    assert status == 201 and isinstance(note, dict)
    assert cache.get(note["id"]) is None
    assert _call("GET", f"{base_url}/notes/{note['id']}") == (200, note)
    assert cache.get(note["id"]) == note  # cached by the first read
    assert _call("DELETE", f"{base_url}/notes/{note['id']}")[0] == 204
    assert cache.get(note["id"]) is None
