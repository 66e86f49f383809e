"""The building blocks of the configuration model: documented keys and their checks.

Every section of ``[tool.noxops]`` is a frozen dataclass whose fields are made with
:func:`option`; section modules (``noxops.services.settings`` and the like) import from here so
that :mod:`noxops.config` can gather them without import cycles. A stage may bring a section
of its own (``stage(..., settings=...)``): the stage registry tells the model here
(:func:`section_source`), since the model cannot import the stages that import it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import field
from typing import Any, Callable, Optional

__all__ = [
    "MAX_TIMEOUT",
    "PYTHON_RE",
    "Validator",
    "declared_sections",
    "image_ref",
    "non_empty",
    "one_of",
    "option",
    "percent",
    "positive",
    "python_list",
    "python_version",
    "section_source",
    "time_limit",
]

PYTHON_RE = re.compile(r"^3\.\d{1,2}$")
# An image reference as docker reads it: no blanks, and no leading '-' (an option instead).
_IMAGE_REF = re.compile(r"^[A-Za-z0-9]\S*$")
# A day: no stage needs longer, and the watchdog's clock overflows far beyond it.
MAX_TIMEOUT = 24 * 3600.0
Validator = Callable[[Any], Optional[str]]
# Who says which settings class each declared [tool.noxops.<section>] table has.
_SECTION_SOURCES: list[Callable[[], Mapping[str, type]]] = []


def option(
    default: Any = dataclasses.MISSING,
    *,
    doc: str,
    factory: Callable[[], Any] | None = None,
    check: Validator | None = None,
    path: bool = False,
) -> Any:
    """A documented configuration key.

    ``check`` returns a problem description (or ``None``) for a converted value; ``path``
    marks strings (or lists of strings) that must name existing files or folders.
    """
    metadata = {"doc": doc, "check": check, "path": path}
    if factory is not None:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


def section_source(source: Callable[[], Mapping[str, type]]) -> None:
    """Let ``source`` (the stage registry) say, whenever asked, which ``[tool.noxops.<section>]``
    tables the declared stages own and each one's settings class."""
    _SECTION_SOURCES.append(source)


def declared_sections() -> dict[str, type]:
    """Section -> settings class, for every section a declared stage owns right now."""
    found: dict[str, type] = {}
    for source in _SECTION_SOURCES:
        found.update(source())
    return found


def positive(value: Any) -> str | None:
    return None if value > 0 else "must be greater than 0"


def time_limit(value: Any) -> str | None:
    """A time limit in seconds: more than 0, at most :data:`MAX_TIMEOUT`."""
    if value > MAX_TIMEOUT:
        return f"must be at most {MAX_TIMEOUT:g} seconds (24 h)"
    return positive(value)


def image_ref(value: Any) -> str | None:
    """A container image reference, like ``postgres:15``."""
    if _IMAGE_REF.match(value):
        return None
    return "must name an image, like 'postgres:15' or 'ghcr.io/acme/db:1' (no blanks)"


def percent(value: Any) -> str | None:
    return None if 0 <= value <= 100 else "must be between 0 and 100"


def python_version(value: Any) -> str | None:
    values = value if isinstance(value, list) else [value]
    bad = [v for v in values if not PYTHON_RE.match(v)]
    if bad:
        return f"{bad[0]!r} is not a Python version; write it as major.minor, like '3.12'"
    return None


def python_list(value: Any) -> str | None:
    if not value:
        return "must name at least one Python version, like ['3.11', '3.12']"
    return python_version(value)


def non_empty(value: Any) -> str | None:
    return None if value else "must not be empty"


def one_of(*allowed: str) -> Validator:
    def check(value: Any) -> str | None:
        return None if value in allowed else f"must be one of {', '.join(map(repr, allowed))}"

    return check
