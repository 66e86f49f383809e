"""Settings from the environment (twelve-factor): where the services are, how to listen."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Optional

__all__ = ["Settings", "SettingsError", "mask"]


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the variable."""


def mask(url: str) -> str:
    """The URL with its password replaced, for logs and error messages."""
    return re.sub(r"(//[^:/@]+:)[^@]*@", r"\1****@", url)


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str
    # A service in a container listens on all its interfaces; the engine decides what to publish.
    host: str = "0.0.0.0"  # noqa: S104  # nosec B104
    port: int = 8000
    cache_ttl: int = 300
    connect_timeout: float = 3.0

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> Settings:
        env = os.environ if env is None else env
        missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not env.get(name)]
        if missing:
            raise SettingsError(
                f"{' and '.join(missing)} must be set, like "
                "DATABASE_URL=postgresql://user:password@host:5432/db REDIS_URL=redis://host:6379/0"
            )
        try:
            port = int(env.get("PORT", "8000"))
            ttl = int(env.get("CACHE_TTL", "300"))
        except ValueError as exc:
            raise SettingsError(f"PORT and CACHE_TTL must be integers ({exc})") from None
        if not 0 < port < 65536:
            raise SettingsError(f"PORT must be between 1 and 65535, not {port}")
        return cls(
            database_url=env["DATABASE_URL"],
            redis_url=env["REDIS_URL"],
            host=env.get("HOST", "0.0.0.0"),  # noqa: S104  # nosec B104
            port=port,
            cache_ttl=ttl,
        )
