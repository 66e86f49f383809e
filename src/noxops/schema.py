"""The building blocks of the configuration model: documented keys and their checks.

Every section of ``[tool.noxops]`` is a frozen dataclass whose fields are made with
:func:`option`; section modules (``noxops.services.config`` and the like) import from here so
that :mod:`noxops.config` can gather them without import cycles.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import field
from typing import Any, Callable, Optional

__all__ = [
    "PYTHON_RE",
    "Validator",
    "non_empty",
    "one_of",
    "option",
    "percent",
    "positive",
    "python_list",
    "python_version",
]

PYTHON_RE = re.compile(r"^3\.\d{1,2}$")
Validator = Callable[[Any], Optional[str]]


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


def positive(value: Any) -> str | None:
    return None if value > 0 else "must be greater than 0"


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
