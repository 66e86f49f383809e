"""A user's file read as UTF-8 text, and why it could not be, in words a one-line error can
hold: the callers (pyproject.toml, a kubeconfig) name the file and say how to fix it.

Also the one place that picks the TOML parser: ``from noxops.project.textfile import tomllib`` is
the standard library's on Python 3.11+, else ``tomli`` (the same API, a dependency there).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.9/3.10
    import tomli as tomllib

__all__ = ["NotText", "read_utf8", "tomllib"]


class NotText(Exception):
    """The file could not be read (``strerror`` says why) or is not UTF-8 (``decoding``);
    ``problem`` says which in words that follow the file's name."""

    def __init__(
        self, problem: str, *, strerror: Optional[str] = None, decoding: bool = False
    ) -> None:
        super().__init__(problem)
        self.problem, self.strerror, self.decoding = problem, strerror, decoding


def read_utf8(path: Path) -> str:
    """The file's text, decoded as UTF-8 as it is on disk (``Path.read_text`` would turn
    ``\\r\\n`` into ``\\n``, and its decode error would not say the line)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise NotText(f"cannot be read: {exc.strerror}", strerror=exc.strerror) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise NotText(
            f"is not UTF-8 (byte 0x{raw[exc.start]:02x} at line {line}, offset {exc.start})",
            decoding=True,
        ) from None
