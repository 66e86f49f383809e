"""A small, deterministic YAML writer for the generated CI files.

The output is stable (keys in insertion order, one style per kind of value), so a regenerated
file is byte-identical when nothing changed and ``noxops ci check`` can compare text. Strings
are written plain when YAML reads them back as the same string, else double-quoted (JSON
escapes are valid YAML); multi-line strings become literal blocks. :func:`scalar` is also the
one scalar writer of the deploy manifests (``deploy.resources``).

"The same string" is judged by YAML 1.1 (PyYAML, GitLab's Ruby parser), which reads more
plain words as non-strings than YAML 1.2 does: ``0b101``, dates, ``<<`` and ``=``.
"""

from __future__ import annotations

import json
import math
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
_SPECIAL = re.compile(  # words YAML 1.1 or 1.2 reads as something other than a string
    r"^(?:y|n|yes|no|on|off|true|false|null|~|<<|="
    r"|[-+]?(?:\d[\d_]*)?\.?[\d_]*(?:e[-+]?\d+)?|[-+]?\.inf|\.nan"
    r"|[-+]?0x[0-9a-f_]+|[-+]?0o[0-7_]+|[-+]?0b[01_]+|[-+]?\d[\d_]*(?::\d+)+(?:\.[\d_]*)?"
    r"|\d{4}-\d\d?-\d\d?(?:[ t].*)?)$",  # the last: dates and timestamps
    re.IGNORECASE | re.DOTALL,
)
# What a YAML file may hold as it is (the spec's printable set), less the characters that
# YAML 1.1 reads as line breaks and the byte-order mark: anything else is written escaped.
_UNPRINTABLE = re.compile(
    "[^\t\n\r\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
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
        and "\r" not in text
        and not _UNPRINTABLE.search(text)
        and not _SPECIAL.match(text)
    )


def _escape(char: re.Match[str]) -> str:
    code = ord(char.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _quoted(text: str) -> str:
    """A double-quoted scalar: JSON's escapes (valid YAML) for ASCII, other characters as
    they are (JSON's ``\\ud83d\\ude00`` pairs are not one character to YAML), unprintable ones
    escaped."""
    if text.isascii():
        return json.dumps(text)
    return _UNPRINTABLE.sub(_escape, json.dumps(text, ensure_ascii=False))


def _number(value: float) -> str:
    """YAML 1.1 reads a float only with a dot (``1.0e+20``, not ``1e+20``) and names the
    infinities and NaN ``.inf`` and ``.nan``."""
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    return text.replace("e", ".0e", 1) if "e" in text and "." not in text else text


def scalar(value: Any) -> str:
    """One scalar as YAML text that YAML reads back as ``value``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        return _number(value)
    text = str(value)
    return text if _plain_ok(text) else _quoted(text)


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
