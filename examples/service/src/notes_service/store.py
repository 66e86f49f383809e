"""Notes in PostgreSQL (psycopg 3): one short connection per operation."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Optional

import psycopg
from psycopg.rows import dict_row

__all__ = ["Note", "NoteStore", "StoreError"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS notes (
    id BIGSERIAL PRIMARY KEY,
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    body TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""


class StoreError(RuntimeError):
    """PostgreSQL could not be reached or refused the operation."""


@dataclass(frozen=True)
class Note:
    id: int
    title: str
    body: str
    created_at: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Note:
        created = row["created_at"]
        if isinstance(created, datetime.datetime):
            created = created.astimezone(datetime.timezone.utc).isoformat()
        return cls(int(row["id"]), str(row["title"]), str(row["body"]), str(created))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "body": self.body,
            "created_at": self.created_at,
        }


class NoteStore:
    """Create, read, list and delete notes; :meth:`migrate` creates the table."""

    def __init__(self, url: str, connect_timeout: float = 3.0) -> None:
        self.url = url
        self.connect_timeout = connect_timeout

    def _connect(self) -> psycopg.Connection[dict[str, Any]]:
        try:
            return psycopg.connect(
                self.url, connect_timeout=max(1, int(self.connect_timeout)), row_factory=dict_row
            )
        except psycopg.Error as exc:
            raise StoreError(f"PostgreSQL is not reachable: {exc}") from None

    def migrate(self) -> None:
        with self._connect() as conn:
            conn.execute(SCHEMA)

    def ping(self) -> None:
        with self._connect() as conn:
            conn.execute("SELECT 1")

    def create(self, title: str, body: str) -> Note:
        with self._connect() as conn:
            row = conn.execute(
                "INSERT INTO notes (title, body) VALUES (%s, %s) RETURNING *", (title, body)
            ).fetchone()
        if row is None:  # pragma: no cover - RETURNING always gives the row
            raise StoreError("PostgreSQL returned no row for the new note")
        return Note.from_row(row)

    def get(self, note_id: int) -> Optional[Note]:
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM notes WHERE id = %s", (note_id,)).fetchone()
        return Note.from_row(row) if row else None

    def list(self, limit: int = 50) -> list[Note]:
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT * FROM notes ORDER BY id DESC LIMIT %s", (limit,)
            ).fetchall()
        return [Note.from_row(r) for r in rows]

    def delete(self, note_id: int) -> bool:
        with self._connect() as conn:
            cur = conn.execute("DELETE FROM notes WHERE id = %s", (note_id,))
        return cur.rowcount > 0

    def count(self) -> int:
        with self._connect() as conn:
            row = conn.execute("SELECT count(*) AS n FROM notes").fetchone()
        return int(row["n"]) if row else 0
