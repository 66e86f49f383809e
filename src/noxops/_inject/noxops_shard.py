"""noxops: run one shard of the suite (``nox -s tests-3.12 -- --shard 2/4``,
noxops.incremental.shards).

Copied into the session's environment (noxops.runtime.inject) and loaded with ``-p``: it runs in
the project's pytest, on the project's Python (3.9 on), without noxops installed. The split is
made here, after collection, because only pytest knows the test ids: every shard collects the
whole suite, splits it the same way (deterministic, from the same recorded durations) and
keeps its own part, so the shards are disjoint and together the whole collection."""

from __future__ import annotations

import hashlib
import json
import os
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

# The name noxops.incremental.shards gives it (a test checks that both say the same). Its value is
# the path of the plan: {"shard": k, "of": n, "durations": {test id: seconds}, "out": path}.
SHARD_ENV = "NOXOPS_TEST_SHARD"


def weights(
    ids: Sequence[str], durations: Mapping[str, float], sizes: Mapping[str, int]
) -> tuple[dict[str, float], str]:
    """Each test's weight, and what it is: its recorded duration (the median for a test the
    last full run did not record), or, when nothing was recorded, the size of its file shared
    evenly among the file's tests (a big test file still spreads over the shards)."""
    known = [durations[i] for i in ids if i in durations]
    if known:
        median = statistics.median(known)
        return {i: float(durations.get(i, median)) for i in ids}, "recorded durations"
    per_file: dict[str, int] = {}
    for test in ids:
        file = test.split("::", 1)[0]
        per_file[file] = per_file.get(file, 0) + 1
    found = {i: sizes.get(i.split("::", 1)[0], 0) / per_file[i.split("::", 1)[0]] for i in ids}
    return found, "file sizes"


def split(weighted: Mapping[str, float], count: int, order: Sequence[str] = ()) -> dict[str, int]:
    """Test id -> shard (0-based): the tests in collection order (``order``, else by id) cut
    into ``count`` runs of consecutive tests, the heaviest run as light as it can be. Each
    shard runs a slice of the suite in the order one whole run would, so a test that relies on
    state an earlier test or class leaves (a suite whose tests depend on their order) still
    finds it, but across the count - 1 cuts. The same order and weights always give the same
    split: the shards are disjoint and together the whole collection."""
    seen = set(order)
    tests = [t for t in order if t in weighted] + sorted(t for t in weighted if t not in seen)
    if not tests:
        return {}
    loads = [float(weighted[t]) for t in tests]
    if sum(loads) <= 0:
        loads = [1.0] * len(tests)  # nothing to go by: the same number of tests in each
    low, high = max(loads), sum(loads)
    for _ in range(60):  # bisection: the smallest limit that count runs can keep to
        limit = (low + high) / 2
        if _runs(loads, limit) <= count:
            high = limit
        else:
            low = limit
    found: dict[str, int] = {}
    shard, load = 0, 0.0
    for index, (test, weight) in enumerate(zip(tests, loads)):
        left = len(tests) - index  # leave a test for each shard after this one, while there are
        if shard < count - 1 and load > 0 and (load + weight > high or left <= count - 1 - shard):
            shard, load = shard + 1, 0.0
        found[test] = shard
        load += weight
    return found


def _runs(loads: Sequence[float], limit: float) -> int:
    """How many runs of consecutive tests, each at most ``limit``, ``loads`` needs."""
    runs, load = 1, 0.0
    for weight in loads:
        if load + weight > limit and load > 0:
            runs, load = runs + 1, 0.0
        load += weight
    return runs


def digest(assignment: Mapping[str, int]) -> str:
    """One string per split: shards that agree on it together ran each test exactly once."""
    text = json.dumps(sorted(assignment.items()), separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _file_sizes(items: Sequence[pytest.Item]) -> dict[str, int]:
    found: dict[str, int] = {}
    for item in items:
        file = item.nodeid.split("::", 1)[0]
        if file not in found:
            path = Path(str(getattr(item, "path", None) or item.fspath))
            try:
                found[file] = path.stat().st_size
            except OSError:
                found[file] = 0
    return found


@pytest.hookimpl(hookwrapper=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> Any:
    """Before any plugin reorders the tests (pytest-randomly shuffles them, with a seed of
    each run's own), their collection order, the same in every shard; after every plugin
    (``-k``, ``-m``, ``--deselect``): the split of what is left, in that order."""
    order = [item.nodeid for item in items]
    yield
    path = os.environ.get(SHARD_ENV)
    if path:
        _keep_shard(config, items, order, Path(path))


def _keep_shard(
    config: pytest.Config, items: list[pytest.Item], order: Sequence[str], path: Path
) -> None:
    with path.open(encoding="utf-8") as fh:
        plan: dict[str, Any] = json.load(fh)
    shard, count = int(plan["shard"]), int(plan["of"])
    ids = [item.nodeid for item in items]
    weighted, basis = weights(ids, plan.get("durations") or {}, _file_sizes(items))
    assignment = split(weighted, count, order)
    loads = [0.0] * count
    for test, chosen in assignment.items():
        loads[chosen] += weighted[test]
    keep = [item for item in items if assignment[item.nodeid] == shard - 1]
    dropped = [item for item in items if assignment[item.nodeid] != shard - 1]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
    summary = {
        "shard": shard,
        "of": count,
        "total": len(ids),
        "selected": len(keep),
        "split": digest(assignment),
        "basis": basis,
        "loads": [round(load, 6) for load in loads],
    }
    with Path(plan["out"]).open("w", encoding="utf-8") as fh:
        json.dump(summary, fh)
