"""``[tool.noxops.load]``: the ``load`` stage's load test (the SLO it gates on is
``[tool.noxops.slo]``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from noxops.schema import option, positive, time_limit

__all__ = ["LoadConfig"]


@dataclass(frozen=True)
class LoadConfig:
    """``[tool.noxops.load]``: the ``load`` session (locust against the built image)."""

    enabled: bool = option(True, doc="Register the load session (never part of a plain `nox`).")
    users: int = option(10, check=positive, doc="Concurrent simulated users.")
    spawn_rate: float = option(10.0, check=positive, doc="Users started per second.")
    duration: float = option(20.0, check=positive, doc="Seconds the load runs.")
    paths: list[str] = option(
        factory=list,
        doc="URL paths each user GETs in turn; empty means the smoke health (and ready) path.",
    )
    locustfile: Optional[str] = option(
        None,
        path=True,
        doc="A locustfile of the project's own (its users and tasks) instead of the paths.",
    )
    requirements: list[str] = option(
        factory=lambda: ["locust>=2.20"], doc="What the load session installs."
    )
    timeout: float = option(900.0, check=time_limit, doc="Seconds before the stage is stopped.")
