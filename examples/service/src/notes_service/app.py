"""The HTTP API: routing, validation and the cache-aside read path.

=================  ==========================================================================
``GET /health``    200 while the process serves requests (liveness; needs no dependency)
``GET /ready``     200 when PostgreSQL and Redis both answer, else 503 naming what is down
``GET /metrics``   Prometheus text format
``GET /notes``     the latest notes (``?limit=N``, at most 200)
``POST /notes``    ``{"title": ..., "body": ...}`` -> 201 and the note
``GET /notes/N``   one note, from Redis when cached, else PostgreSQL (then cached)
``DELETE /notes/N``  204; the cached copy is dropped
=================  ==========================================================================
"""

from __future__ import annotations

import http.server
import json
import re
import sys
import threading
import time
from typing import Any, Callable, Optional, Protocol
from urllib.parse import parse_qs, urlsplit

from notes_service.metrics import CONTENT_TYPE, Metrics
from notes_service.settings import mask

__all__ = ["NotesApp", "Response", "make_server"]

MAX_BODY = 64 * 1024
_NOTE = re.compile(r"^/notes/(\d{1,18})$")
Response = tuple[int, str, bytes]  # status, content type, body


class Store(Protocol):
    url: str

    def migrate(self) -> None: ...
    def ping(self) -> None: ...
    def create(self, title: str, body: str) -> Any: ...
    def get(self, note_id: int) -> Any: ...
    def list(self, limit: int = 50) -> list[Any]: ...
    def delete(self, note_id: int) -> bool: ...


class Cache(Protocol):
    def ping(self) -> None: ...
    def get(self, note_id: int) -> Optional[dict[str, Any]]: ...
    def put(self, note: dict[str, Any]) -> None: ...
    def forget(self, note_id: int) -> None: ...


def _json(status: int, data: Any) -> Response:
    return status, "application/json", json.dumps(data).encode()


class NotesApp:
    """Maps requests to responses; the HTTP server around it is :func:`make_server`."""

    def __init__(
        self,
        store: Store,
        cache: Cache,
        metrics: Optional[Metrics] = None,
        log: Callable[[str], None] = lambda line: print(line, flush=True),
    ) -> None:
        self.store = store
        self.cache = cache
        self.metrics = metrics or Metrics()
        self.log = log
        self._schema = False
        self._schema_lock = threading.Lock()

    def ensure_schema(self) -> None:
        """Create the table once PostgreSQL answers (the service may start before it)."""
        if self._schema:
            return
        with self._schema_lock:
            if not self._schema:
                self.store.migrate()
                self._schema = True

    # -- dispatch -------------------------------------------------------------------------

    def handle(self, method: str, target: str, body: bytes = b"") -> Response:
        started = time.perf_counter()
        parts = urlsplit(target)
        route, response = self._route(method, parts.path, parse_qs(parts.query), body)
        self.metrics.observe_request(method, route, response[0], time.perf_counter() - started)
        return response

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], body: bytes
    ) -> tuple[str, Response]:
        match = _NOTE.match(path)
        routes: dict[tuple[str, str], Callable[[], Response]] = {
            ("GET", "/health"): lambda: _json(200, {"status": "ok"}),
            ("GET", "/ready"): self.ready,
            ("GET", "/metrics"): lambda: (200, CONTENT_TYPE, self.metrics.render().encode()),
            ("GET", "/notes"): lambda: self.list_notes(query),
            ("POST", "/notes"): lambda: self.create_note(body),
        }
        if match:
            note_id = int(match[1])
            route = "/notes/{id}"
            if method == "GET":
                return route, self._guard(lambda: self.get_note(note_id))
            if method == "DELETE":
                return route, self._guard(lambda: self.delete_note(note_id))
            return route, _json(405, {"error": f"{method} is not allowed on {route}"})
        handler = routes.get((method, path))
        if handler is not None:
            return path, self._guard(handler)
        if any(p == path for _, p in routes):
            return path, _json(405, {"error": f"{method} is not allowed on {path}"})
        return "other", _json(404, {"error": f"no route {path}"})

    def _guard(self, handler: Callable[[], Response]) -> Response:
        from notes_service.store import StoreError

        try:
            return handler()
        except StoreError as exc:
            self.log(f"error: {exc}")
            return _json(503, {"error": "the database is unavailable; try again shortly"})

    # -- endpoints ------------------------------------------------------------------------

    def ready(self) -> Response:
        checks: dict[str, str] = {}

        def postgres() -> None:
            self.ensure_schema()
            self.store.ping()

        for name, check in (("postgres", postgres), ("redis", self.cache.ping)):
            try:
                check()
                checks[name] = "ok"
            except Exception as exc:
                checks[name] = mask(str(exc)) or type(exc).__name__
        ok = all(v == "ok" for v in checks.values())
        return _json(200 if ok else 503, {"status": "ready" if ok else "not ready", **checks})

    def list_notes(self, query: dict[str, list[str]]) -> Response:
        raw = query.get("limit", ["50"])[0]
        if not raw.isdigit() or not 1 <= int(raw) <= 200:
            return _json(400, {"error": "limit must be an integer between 1 and 200"})
        self.ensure_schema()
        return _json(200, {"notes": [n.to_dict() for n in self.store.list(int(raw))]})

    def create_note(self, body: bytes) -> Response:
        try:
            data = json.loads(body or b"null")
        except ValueError:
            return _json(400, {"error": "the body must be JSON"})
        if not isinstance(data, dict):
            return _json(400, {"error": 'the body must be an object: {"title": ..., "body": ...}'})
        title, text = data.get("title"), data.get("body", "")
        if not isinstance(title, str) or not 1 <= len(title.strip()) <= 200:
            return _json(400, {"error": "title must be a string of 1 to 200 characters"})
        if not isinstance(text, str):
            return _json(400, {"error": "body must be a string"})
        self.ensure_schema()
        note = self.store.create(title.strip(), text)
        return _json(201, note.to_dict())

    def _cached(self, note_id: int) -> Optional[dict[str, Any]]:
        from notes_service.cache import CacheError

        try:
            found = self.cache.get(note_id)
        except CacheError as exc:
            self.metrics.cache("error")
            self.log(f"cache read failed: {exc}")
            return None
        self.metrics.cache("hit" if found is not None else "miss")
        return found

    def get_note(self, note_id: int) -> Response:
        from notes_service.cache import CacheError

        cached = self._cached(note_id)
        if cached is not None:
            return _json(200, cached)
        self.ensure_schema()
        note = self.store.get(note_id)
        if note is None:
            return _json(404, {"error": f"no note {note_id}"})
        try:
            self.cache.put(note.to_dict())
        except CacheError as exc:
            self.metrics.cache("error")
            self.log(f"cache write failed: {exc}")
        return _json(200, note.to_dict())

    def delete_note(self, note_id: int) -> Response:
        from notes_service.cache import CacheError

        self.ensure_schema()
        deleted = self.store.delete(note_id)
        try:
            self.cache.forget(note_id)
        except CacheError as exc:
            self.metrics.cache("error")
            self.log(f"cache delete failed: {exc}")
        if not deleted:
            return _json(404, {"error": f"no note {note_id}"})
        return 204, "application/json", b""


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            status, ctype, data = _json(413, {"error": f"bodies are limited to {MAX_BODY} bytes"})
            self.close_connection = True
        else:
            body = self.rfile.read(length) if length else b""
            status, ctype, data = self.server.app.handle(self.command, self.path, body)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:
        sys.stdout.write(f"{self.address_string()} {format % args}\n")
        sys.stdout.flush()


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    app: NotesApp


def make_server(app: NotesApp, host: str, port: int) -> _Server:
    server = _Server((host, port), _Handler)
    server.app = app
    return server
