"""The order nox -j starts sessions in: longest first, within the stretches between sessions
that run alone, unknown ones first."""

from __future__ import annotations

from noxops.runtime.schedule import longest_first


def _names(queue: list[tuple[str, bool]], seconds: dict[str, float]) -> list[str]:
    return [queue[i][0] for i in longest_first(queue, seconds)]


def test_the_longest_start_first() -> None:
    queue = [("lint", True), ("type", True), ("security", True), ("tests-3.11", True)]
    seconds = {"lint": 3.1, "type": 0.2, "security": 0.5, "tests-3.11": 6.4}
    assert _names(queue, seconds) == ["tests-3.11", "lint", "security", "type"]


def test_sessions_that_run_alone_keep_their_place_and_split_the_queue() -> None:
    queue = [
        ("lint", True),
        ("tests-3.11", True),
        ("integration", False),
        ("load", True),
        ("notify", True),
    ]
    seconds = {"lint": 1.0, "tests-3.11": 5.0, "integration": 30.0, "load": 2.0, "notify": 9.0}
    assert _names(queue, seconds) == ["tests-3.11", "lint", "integration", "notify", "load"]


def test_unknown_sessions_first_and_ties_keep_the_queue_order() -> None:
    queue = [("a", True), ("b", True), ("c", True), ("d", True)]
    assert _names(queue, {}) == ["a", "b", "c", "d"]  # a first run: nox's own order
    assert _names(queue, {"a": 1.0, "c": 1.0}) == ["b", "d", "a", "c"]
