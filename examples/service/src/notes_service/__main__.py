"""``python -m notes_service``: serve the API with the settings from the environment."""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType
from typing import Optional

from notes_service.app import NotesApp, make_server
from notes_service.cache import NoteCache
from notes_service.settings import Settings, SettingsError, mask
from notes_service.store import NoteStore, StoreError


def main() -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"notes-service: configuration error: {exc}", file=sys.stderr)
        return 2
    store = NoteStore(settings.database_url, settings.connect_timeout)
    cache = NoteCache(settings.redis_url, settings.cache_ttl, settings.connect_timeout)
    app = NotesApp(store, cache)
    print(
        f"notes-service: database {mask(settings.database_url)}, "
        f"cache {mask(settings.redis_url)}",
        flush=True,
    )
    try:
        app.ensure_schema()
    except StoreError as exc:  # PostgreSQL may start after us: /ready says so meanwhile
        print(f"notes-service: {exc}; will retry on /ready", flush=True)
    server = make_server(app, settings.host, settings.port)

    def stop(signum: int, frame: Optional[FrameType]) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    print(f"notes-service: listening on {settings.host}:{settings.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    print("notes-service: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
