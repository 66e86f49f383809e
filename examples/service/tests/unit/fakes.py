"""In-memory stand-ins for PostgreSQL and Redis, with switchable outages."""

from __future__ import annotations

import itertools
from typing import Any, Optional

from notes_service.cache import CacheError
from notes_service.store import Note, StoreError


class FakeStore:
    url = "postgresql://notes:secret@db:5432/notes"

    def __init__(self) -> None:
        self.notes: dict[int, Note] = {}
        self.ids = itertools.count(1)
        self.down = False
        self.reads = 0
        self.migrations = 0

    def _check(self) -> None:
        if self.down:
            raise StoreError("PostgreSQL is not reachable: connection refused")

    def migrate(self) -> None:
        self._check()
        self.migrations += 1

    def ping(self) -> None:
        self._check()

    def create(self, title: str, body: str) -> Note:
        self._check()
        note = Note(next(self.ids), title, body, "2026-01-01T00:00:00+00:00")
        self.notes[note.id] = note
        return note

    def get(self, note_id: int) -> Optional[Note]:
        self._check()
        self.reads += 1
        return self.notes.get(note_id)

    def list(self, limit: int = 50) -> list[Note]:
        self._check()
        return sorted(self.notes.values(), key=lambda n: -n.id)[:limit]

    def delete(self, note_id: int) -> bool:
        self._check()
        return self.notes.pop(note_id, None) is not None


class FakeCache:
    def __init__(self) -> None:
        self.data: dict[int, dict[str, Any]] = {}
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise CacheError("Error 111 connecting to cache:6379. Connection refused.")

    def ping(self) -> None:
        self._check()

    def get(self, note_id: int) -> Optional[dict[str, Any]]:
        self._check()
        return self.data.get(note_id)

    def put(self, note: dict[str, Any]) -> None:
        self._check()
        self.data[int(note["id"])] = note

    def forget(self, note_id: int) -> None:
        self._check()
        self.data.pop(note_id, None)
