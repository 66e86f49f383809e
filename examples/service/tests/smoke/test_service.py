"""Smoke tests of the running container: `nox -s smoke` starts it with PostgreSQL and Redis
and hands its URL over (`base_url`, from noxops' smoke plugin). They also run against a
deployed service: `nox -s smoke -- --base-url https://notes.example.com`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from typing import Any


def call(method: str, url: str, body: Any = None) -> tuple[int, str, bytes]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()


def test_health_and_ready(base_url: str) -> None:
    assert call("GET", base_url + "/health")[0] == 200
    status, _, body = call("GET", base_url + "/ready")
    assert (status, json.loads(body)) == (200, {"status": "ready", "postgres": "ok", "redis": "ok"})


def test_a_note_round_trip(base_url: str) -> None:
    title = f"smoke {uuid.uuid4()}"
    status, _, body = call("POST", base_url + "/notes", {"title": title, "body": "hello"})
    assert status == 201
    note = json.loads(body)
    for _ in range(2):  # the second read comes from the cache
        status, _, body = call("GET", f"{base_url}/notes/{note['id']}")
        assert (status, json.loads(body)) == (200, note)
    assert call("DELETE", f"{base_url}/notes/{note['id']}")[0] == 204
    assert call("GET", f"{base_url}/notes/{note['id']}")[0] == 404


def test_metrics(base_url: str) -> None:
    status, ctype, body = call("GET", base_url + "/metrics")
    assert status == 200
    assert ctype.startswith("text/plain; version=0.0.4")
    text = body.decode()
    assert "# TYPE notes_http_requests_total counter" in text
    assert 'notes_cache_requests_total{outcome="hit"}' in text
