"""A read-through cache of notes in Redis; the service keeps working when Redis does not."""

from __future__ import annotations

import json
from typing import Any, Optional

import redis

__all__ = ["CacheError", "NoteCache"]


class CacheError(RuntimeError):
    """Redis could not be reached."""


class NoteCache:
    def __init__(self, url: str, ttl: int = 300, timeout: float = 3.0) -> None:
        self.ttl = ttl
        self.client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, decode_responses=True
        )

    @staticmethod
    def key(note_id: int) -> str:
        return f"notes:note:{note_id}"

    def ping(self) -> None:
        try:
            self.client.ping()
        except redis.RedisError as exc:
            raise CacheError(f"Redis is not reachable: {exc}") from None

    def get(self, note_id: int) -> Optional[dict[str, Any]]:
        try:
            value = self.client.get(self.key(note_id))
        except redis.RedisError as exc:
            raise CacheError(str(exc)) from None
        return json.loads(value) if isinstance(value, str) else None

    def put(self, note: dict[str, Any]) -> None:
        try:
            self.client.set(self.key(int(note["id"])), json.dumps(note), ex=self.ttl)
        except redis.RedisError as exc:
            raise CacheError(str(exc)) from None

    def forget(self, note_id: int) -> None:
        try:
            self.client.delete(self.key(note_id))
        except redis.RedisError as exc:
            raise CacheError(str(exc)) from None
