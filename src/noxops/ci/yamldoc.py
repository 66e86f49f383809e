"""A small, deterministic YAML writer for the generated CI files.

The output is stable (keys in insertion order, one style per kind of value), so a regenerated
file is byte-identical when nothing changed and ``noxops ci check`` can compare text. Strings
are written plain when YAML reads them back as the same string, else double-quoted (JSON
escapes are valid YAML); multi-line strings become literal blocks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["Commented", "dump", "scalar"]


class Commented(str):
    """A string written with a trailing ``# comment`` (a pinned action's version)."""

    comment: str

    def __new__(cls, value: str, comment: str) -> Commented:
        self = super().__new__(cls, value)
        self.comment = comment
        return self


_INDICATORS = set("-?:,[]{}#&*!|>'\"%@` ")
_SPECIAL = re.compile(
    r"^(?:y|n|yes|no|on|off|true|false|null|~|[-+]?(?:\d[\d_]*)?\.?\d*(?:e[-+]?\d+)?"
    r"|[-+]?0x[0-9a-f_]+|[-+]?0o[0-7_]+|[-+]?\.inf|\.nan|\d+(?::\d+)+)$",
    re.IGNORECASE,
)
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_BAD_KEYS = {"y", "n", "yes", "no", "off", "true", "false", "null"}


def _plain_ok(text: str) -> bool:
    return bool(
        text
        and text[0] not in _INDICATORS
        and not text.endswith((" ", ":"))
        and ": " not in text
        and " #" not in text
        and "\n" not in text
        and "\t" not in text
        and not _SPECIAL.match(text)
    )


def scalar(value: Any) -> str:
    """One scalar as YAML text."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    return text if _plain_ok(text) else json.dumps(text)


def _key(key: str) -> str:
    return key if _KEY.match(key) and key.lower() not in _BAD_KEYS else json.dumps(key)


def _is_block_text(value: Any) -> bool:
    return isinstance(value, str) and "\n" in value.rstrip("\n")


def _block_text(value: str, indent: int) -> list[str]:
    pad = " " * indent
    chomp = "" if value.endswith("\n") else "-"
    lines = value.rstrip("\n").split("\n")
    return [f"|{chomp}", *[(pad + line) if line else "" for line in lines]]


def _emit(value: Any, indent: int) -> list[str]:
    """Lines for a mapping or sequence at ``indent`` spaces."""
    pad = " " * indent
    out: list[str] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            head = f"{pad}{_key(str(key))}:"
            out.extend(_entry(head, item, indent))
        return out
    for item in value:
        head = f"{pad}-"
        if isinstance(item, Mapping) and item:
            sub = _emit(item, indent + 2)
            out.append(f"{pad}- {sub[0].lstrip()}")
            out.extend(sub[1:])
        else:
            out.extend(_entry(head, item, indent))
    return out


def _entry(head: str, item: Any, indent: int) -> list[str]:
    if item is None:
        return [head]
    if isinstance(item, Mapping):
        return [f"{head} {{}}"] if not item else [head, *_emit(item, indent + 2)]
    if isinstance(item, Sequence) and not isinstance(item, str):
        return [f"{head} []"] if not item else [head, *_emit(item, indent + 2)]
    if _is_block_text(item):
        first, *rest = _block_text(str(item), indent + 2)
        return [f"{head} {first}", *rest]
    if isinstance(item, Commented):
        return [f"{head} {scalar(str(item))} # {item.comment}"]
    return [f"{head} {scalar(item)}"]


def dump(data: Mapping[str, Any], header: Sequence[str] = ()) -> str:
    """The YAML document for ``data``, after ``header`` comment lines; ends with a newline."""
    lines = [f"# {line}" if line else "#" for line in header]
    body = _emit(data, 0)
    # A blank line between top-level entries keeps big files readable.
    spaced: list[str] = []
    for line in body:
        if spaced and line and not line.startswith((" ", "-")):
            spaced.append("")
        spaced.append(line)
    return "\n".join([*lines, *spaced]) + "\n"
