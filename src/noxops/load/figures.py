"""What a locust run measured: its CSV statistics read into the figures the SLO is judged on,
and the ``load.json`` the report reads."""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from noxops.errors import NoxopsError

__all__ = ["Figures", "Point", "read_history", "read_stats"]


@dataclass(frozen=True)
class Point:
    """One second of the run (locust's history rows)."""

    second: float
    users: int
    rps: float
    p95_ms: float


@dataclass(frozen=True)
class Figures:
    """The whole run's figures."""

    requests: int
    failures: int
    p95_ms: float
    rps: float
    history: list[Point] = field(default_factory=list)

    @property
    def error_ratio(self) -> float:
        return self.failures / self.requests if self.requests else 1.0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["error_ratio"] = round(self.error_ratio, 6)
        return data


def _number(row: dict[str, str], key: str) -> float:
    value = (row.get(key) or "").strip()
    if value in ("", "N/A"):
        return 0.0
    return float(value)


def read_stats(prefix: Path) -> Figures:
    """The ``Aggregated`` row of ``<prefix>_stats.csv``."""
    path = prefix.with_name(prefix.name + "_stats.csv")
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise NoxopsError(f"locust wrote no statistics ({path}: {exc.strerror})") from None
    total = next((r for r in rows if r.get("Name") == "Aggregated"), None)
    if total is None:
        raise NoxopsError(f"{path} has no Aggregated row: did locust send any request?")
    return Figures(
        requests=int(_number(total, "Request Count")),
        failures=int(_number(total, "Failure Count")),
        p95_ms=_number(total, "95%"),
        rps=round(_number(total, "Requests/s"), 3),
        history=read_history(prefix),
    )


def read_history(prefix: Path) -> list[Point]:
    """The per-second ``Aggregated`` rows of ``<prefix>_stats_history.csv`` (may be empty)."""
    path = prefix.with_name(prefix.name + "_stats_history.csv")
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r.get("Name") == "Aggregated"]
    if not rows:
        return []
    start = _number(rows[0], "Timestamp")
    return [
        Point(
            second=_number(r, "Timestamp") - start,
            users=int(_number(r, "User Count")),
            rps=round(_number(r, "Requests/s"), 3),
            p95_ms=_number(r, "95%"),
        )
        for r in rows
    ]
