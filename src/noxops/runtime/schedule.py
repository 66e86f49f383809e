"""The order ``nox -j`` starts sessions in: the longest first, by their last completed runs.

nox starts the sessions of a parallel run in queue order, one whenever a slot is free. When the
longest session is queued late, it starts late, and at the end one core waits for it alone.
Given how long each session took in its last completed run, the sessions that may run side by
side are started longest first (the longest-processing-time rule: the cores then finish close
together), so ``nox -j 2 -s lint type security tests`` starts ``tests-3.11`` at once when it is
the longest. What never changes:

- a session that runs alone (``allow_parallel=False``) keeps its place, and sessions are only
  reordered among their neighbours between two such sessions;
- sessions with no recorded run come first, in queue order (nothing is known of them), so a
  first run keeps nox's order;
- ``requires=`` still holds: nox starts a session only once what it requires has finished.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["longest_first"]


def longest_first(sessions: Sequence[tuple[str, bool]], seconds: Mapping[str, float]) -> list[int]:
    """The queue positions of ``sessions`` (name, may run side by side) in the order to start
    them, given each one's last duration in ``seconds`` (missing: not known)."""
    order: list[int] = []
    segment: list[int] = []

    def flush() -> None:
        # Unknown first (queue order), then the known ones longest first (queue order on ties).
        segment.sort(key=lambda i: (sessions[i][0] in seconds, -seconds.get(sessions[i][0], 0)))
        order.extend(segment)
        segment.clear()

    for index, (_, parallel) in enumerate(sessions):
        if parallel:
            segment.append(index)
        else:
            flush()
            order.append(index)
    flush()
    return order
