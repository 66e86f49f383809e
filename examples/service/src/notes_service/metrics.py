"""Prometheus metrics in the text exposition format (0.0.4), without a client library."""

from __future__ import annotations

import threading
import time
from collections import defaultdict

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def _labels(**labels: str) -> str:
    inner = ",".join(
        '{}="{}"'.format(k, v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n"))
        for k, v in sorted(labels.items())
    )
    return "{" + inner + "}" if inner else ""


class Metrics:
    """Request counts and latencies, cache outcomes; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, str], int] = defaultdict(int)
        self._buckets: dict[str, list[int]] = defaultdict(lambda: [0] * len(BUCKETS))
        self._sum: dict[str, float] = defaultdict(float)
        self._count: dict[str, int] = defaultdict(int)
        self._cache: dict[str, int] = defaultdict(int)
        self._started = time.time()

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self._requests[(method, route, str(status))] += 1
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    self._buckets[route][i] += 1
            self._sum[route] += seconds
            self._count[route] += 1

    def cache(self, outcome: str) -> None:
        """``hit``, ``miss`` or ``error``."""
        with self._lock:
            self._cache[outcome] += 1

    def render(self, notes_total: int | None = None) -> str:
        with self._lock:
            lines = [
                "# HELP notes_http_requests_total HTTP requests by method, route and status.",
                "# TYPE notes_http_requests_total counter",
            ]
            for (method, route, status), n in sorted(self._requests.items()):
                lbl = _labels(method=method, route=route, status=status)
                lines.append(f"notes_http_requests_total{lbl} {n}")
            lines += [
                "# HELP notes_http_request_duration_seconds HTTP request latency by route.",
                "# TYPE notes_http_request_duration_seconds histogram",
            ]
            for route in sorted(self._count):
                for bound, n in zip(BUCKETS, self._buckets[route]):
                    lbl = _labels(route=route, le=repr(bound))
                    lines.append(f"notes_http_request_duration_seconds_bucket{lbl} {n}")
                lbl = _labels(route=route, le="+Inf")
                lines.append(
                    f"notes_http_request_duration_seconds_bucket{lbl} {self._count[route]}"
                )
                lines.append(
                    f"notes_http_request_duration_seconds_sum{_labels(route=route)} "
                    f"{self._sum[route]:.6f}"
                )
                lines.append(
                    f"notes_http_request_duration_seconds_count{_labels(route=route)} "
                    f"{self._count[route]}"
                )
            lines += [
                "# HELP notes_cache_requests_total Note cache lookups by outcome.",
                "# TYPE notes_cache_requests_total counter",
            ]
            for outcome in ("hit", "miss", "error"):
                lbl = _labels(outcome=outcome)
                lines.append(f"notes_cache_requests_total{lbl} {self._cache[outcome]}")
            lines += [
                "# HELP notes_process_start_time_seconds Start time since the epoch.",
                "# TYPE notes_process_start_time_seconds gauge",
                f"notes_process_start_time_seconds {self._started:.3f}",
            ]
        if notes_total is not None:
            lines += [
                "# HELP notes_stored Notes in the database.",
                "# TYPE notes_stored gauge",
                f"notes_stored {notes_total}",
            ]
        return "\n".join(lines) + "\n"
