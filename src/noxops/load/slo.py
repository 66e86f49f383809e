"""``[tool.noxops.slo]``: the service level objective, one set of numbers used three times.

The ``load`` stage gates the built image on it, the canary analysis fails a round above its
error ratio, and the generated Prometheus alert rules fire above its error ratio and p95
latency. A deploy environment may still override the canary and alert numbers
(``error_rate_threshold``, ``latency_p95_threshold``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from noxops.schema import option, positive

__all__ = ["SLOConfig", "fraction", "misses"]


def fraction(value: Any) -> str | None:
    return None if 0 <= value <= 1 else "must be a fraction between 0 and 1, like 0.01 for 1%"


def _non_negative(value: Any) -> str | None:
    return None if value >= 0 else "must be 0 or more"


@dataclass(frozen=True)
class SLOConfig:
    """``[tool.noxops.slo]``: the service level objective (load stage, canary, alert rules)."""

    p95_latency_ms: float = option(
        500.0,
        check=positive,
        doc="95th-percentile response time in milliseconds the service must stay under.",
    )
    max_error_ratio: float = option(
        0.05,
        check=fraction,
        doc="Fraction of requests that may fail (5xx or no answer), like 0.01 for 1%.",
    )
    min_throughput_rps: float = option(
        10.0,
        check=_non_negative,
        doc="Requests per second the load test must sustain (the load stage only; 0: none).",
    )

    @property
    def p95_latency_seconds(self) -> float:
        return self.p95_latency_ms / 1000.0


def misses(slo: SLOConfig, *, p95_ms: float, error_ratio: float, rps: float) -> list[str]:
    """What a measurement misses of ``slo``, one sentence each (empty: it meets it)."""
    found = []
    if p95_ms > slo.p95_latency_ms:
        found.append(f"p95 latency {p95_ms:.0f} ms is above the SLO's {slo.p95_latency_ms:g} ms")
    if error_ratio > slo.max_error_ratio:
        found.append(f"error ratio {error_ratio:.2%} is above the SLO's {slo.max_error_ratio:.2%}")
    if rps < slo.min_throughput_rps:
        found.append(
            f"throughput {rps:.1f} req/s is below the SLO's {slo.min_throughput_rps:g} req/s"
        )
    return found
