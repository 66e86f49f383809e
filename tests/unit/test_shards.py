"""Shards (noxops.incremental.shards and the ``noxops_shard`` pytest plugin): the split balances,
is the same every time, falls back to file sizes, and on a real pytest run the shards are disjoint
and
together the whole collection; the report shows one check from them all, never a pass when a
shard is missing."""

from __future__ import annotations

import ast
import importlib.util
import itertools
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

from noxops.config import Config, load
from noxops.errors import NoxopsError
from noxops.incremental import shards
from noxops.reports.collect import build_report
from noxops.reports.junit import durations, read_junit
from noxops.reports.model import Check
from noxops.runtime import inject
from noxops.stages import STAGES

INJECT = Path(shards.__file__).parents[1] / "_inject" / f"{shards.PLUGIN}.py"


def _plugin() -> ModuleType:
    """The plugin module as pytest loads it in the session's environment (without noxops)."""
    spec = importlib.util.spec_from_file_location(shards.PLUGIN, INJECT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _loads(assignment: dict[str, int], weights: dict[str, float], count: int) -> list[float]:
    loads = [0.0] * count
    for test, chosen in assignment.items():
        loads[chosen] += weights[test]
    return loads


def test_the_plugin_names_the_variable_as_noxops_does() -> None:
    tree = ast.parse(INJECT.read_text(encoding="utf-8"))
    names = {
        t.id: n.value.value
        for n in tree.body
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant)
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    assert names["SHARD_ENV"] == shards.SHARD_ENV


def _slices(assignment: dict[str, int], order: list[str]) -> list[int]:
    """The shard of each test along ``order``; a split into slices never goes back."""
    along = [assignment[t] for t in order]
    assert along == sorted(along), along
    return along


def test_the_split_cuts_the_collection_order_into_the_most_even_slices() -> None:
    plugin = _plugin()
    rng = random.Random(28)  # noqa: S311 - a fixed, made-up suite
    # A skewed suite, like a real one: many quick tests, a few slow ones.
    weights = {f"tests/test_m.py::test_{i}": rng.expovariate(1 / 0.2) for i in range(300)}
    weights |= {f"tests/test_slow.py::test_{i}": 3.0 + i for i in range(4)}
    order = list(weights)
    for count in (2, 3, 4, 7):
        assignment = plugin.split(weights, count, order)
        _slices(assignment, order)
        loads = _loads(assignment, weights, count)
        ideal = sum(weights.values()) / count
        # A slice is within one test of the ideal; with quick tests, far closer.
        assert max(loads) <= ideal + max(weights.values()), (count, loads, ideal)
        assert sorted(set(assignment.values())) == list(range(count))
    quick = {t: w for t, w in weights.items() if "slow" not in t}
    loads = _loads(plugin.split(quick, 4, list(quick)), quick, 4)
    assert max(loads) <= sum(quick.values()) / 4 * 1.02, loads
    # The heaviest slice is the lightest any cut into slices gives (all cuts of small suites).
    for n, count in ((7, 3), (9, 4), (6, 2)):
        ws = [rng.choice([0.1, 0.5, 1.0, 2.0, 4.0]) for _ in range(n)]
        suite = {f"t.py::t{i}": w for i, w in enumerate(ws)}
        found = max(_loads(plugin.split(suite, count, list(suite)), suite, count))
        best = min(
            max(sum(ws[a:b]) for a, b in zip((0, *cuts), (*cuts, n)))
            for cuts in itertools.combinations(range(1, n), count - 1)
        )
        assert found == pytest.approx(best), (ws, count)


def test_the_split_goes_by_the_collection_order_it_is_given() -> None:
    plugin = _plugin()
    weights = {f"t.py::test_{i}": float(i % 7) for i in range(50)}  # many equal weights
    order = list(weights)
    shuffled = list(weights.items())
    random.Random(1).shuffle(shuffled)  # noqa: S311
    first = plugin.split(weights, 4, order)
    again = plugin.split(dict(shuffled), 4, order)  # the weights' own order does not count
    assert first == again
    assert plugin.digest(first) == plugin.digest(again)
    assert plugin.digest(first) != plugin.digest(plugin.split(weights, 3, order))
    backwards = plugin.split(weights, 4, order[::-1])
    _slices(backwards, order[::-1])
    # No order at all (nothing collected it): by test id.
    assert plugin.split(weights, 4) == plugin.split(weights, 4, sorted(weights))


def test_unrecorded_tests_weigh_the_median_and_nothing_recorded_means_file_sizes() -> None:
    plugin = _plugin()
    ids = ["a.py::one", "a.py::two", "a.py::new", "b.py::x"]
    recorded = {"a.py::one": 1.0, "a.py::two": 5.0, "b.py::x": 2.0, "gone.py::old": 100.0}
    found, basis = plugin.weights(ids, recorded, {})
    assert basis == "recorded durations"
    assert found["a.py::new"] == 2.0  # the median of the collected tests' durations
    # No durations at all: a file's size shared among its tests, so one big file spreads.
    ids = [f"big.py::t{i}" for i in range(8)] + ["small.py::a", "small.py::b"]
    found, basis = plugin.weights(ids, {}, {"big.py": 8000, "small.py": 200})
    assert basis == "file sizes"
    assert found["big.py::t0"] == 1000.0 and found["small.py::a"] == 100.0
    assignment = plugin.split(found, 2, ids)
    assert {assignment[f"big.py::t{i}"] for i in range(8)} == {0, 1}
    # All-equal (even zero) weights still spread evenly by count.
    zeros = dict.fromkeys((f"z.py::t{i}" for i in range(9)), 0.0)
    even = plugin.split(zeros, 3, list(zeros))
    assert sorted(list(even.values()).count(b) for b in range(3)) == [3, 3, 3]


@pytest.mark.parametrize(
    ("args", "configured", "expected"),
    [
        (["--shard", "2/4"], 1, "2/4"),
        (["-k", "x", "--shard=1/2", "-q"], 1, "1/2"),
        (["--shard", "3"], 4, "3/4"),
        (["-q"], 4, None),
    ],
)
def test_the_shard_is_taken_out_of_the_arguments(
    args: list[str], configured: int, expected: str | None
) -> None:
    rest = list(args)
    found = shards.take(rest, "tests-3.12", configured)
    assert (str(found) if found else None) == expected
    assert not any(a.startswith("--shard") for a in rest) and len(rest) <= len(args)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--shard", "5/4"], "--shard 5/4: the shard must be between 1 and its count"),
        (["--shard", "0/4"], "--shard 0/4: the shard must be between 1 and its count"),
        (["--shard", "1/0"], "--shard 1/0: the shard must be between 1 and its count"),
        (["--shard", "x"], "--shard 'x' is not a shard; write --shard K/N"),
        (["--shard"], "--shard needs a value"),
        (["--shard", "2"], "set [tool.noxops.tests] shards = N"),
    ],
)
def test_a_bad_shard_is_one_line(args: list[str], says: str) -> None:
    with pytest.raises(NoxopsError) as caught:
        shards.take(list(args), "tests-3.12")
    message = str(caught.value)
    assert message.startswith("tests-3.12: ") and says in message and "\n" not in message


def test_shard_file_names() -> None:
    assert shards.file_name("junit-3.12.xml", 2) == "junit-3.12-shard2.xml"
    assert shards.file_name(".coverage.3.12", 2) == ".coverage.3.12.shard2"


# -- a real pytest run ---------------------------------------------------------------------

BIG = "".join(f"def test_big_{i}():\n    assert {i} >= 0\n\n\n" for i in range(24))
SMALL = "def test_small_one():\n    pass\n\n\ndef test_small_two():\n    pass\n"
PARAM = (
    "import pytest\n\n\n@pytest.mark.parametrize('n', range(6))\n"
    "def test_param(n):\n    assert n != 4\n\n\nclass TestKind:\n"
    "    def test_method(self):\n        pass\n"
)


def _project(tmp_path: Path) -> Config:
    root = tmp_path / "proj"
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "calc"\nversion = "0"\n[tool.noxops]\npython = ["3.12"]\n'
        '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n',
        encoding="utf-8",
    )
    (root / "tests" / "test_big.py").write_text(BIG, encoding="utf-8")
    (root / "tests" / "test_small.py").write_text(SMALL, encoding="utf-8")
    (root / "tests" / "test_param.py").write_text(PARAM, encoding="utf-8")
    return load(root)


def _pytest(config: Config, junit: Path, env: dict[str, str] | None = None) -> None:
    folder = config.root / "plugins"
    folder.mkdir(exist_ok=True)
    inject.copy(f"{shards.PLUGIN}.py", folder)
    argv = [sys.executable, "-m", "pytest", "-q", "-p", shards.PLUGIN, f"--junitxml={junit}"]
    full = {**os.environ, "PYTHONPATH": str(folder), **(env or {})}
    subprocess.run(argv, cwd=config.root, env=full, capture_output=True, timeout=600, check=False)


def _run_shard(config: Config, shard: shards.Shard, more: dict[str, str] | None = None) -> set[str]:
    """Run shard ``k`` as the session does: plan, real pytest, record; the ids it ran."""
    session = "tests-3.12"
    junit = config.reports / shards.file_name("junit-3.12.xml", shard.index)
    junit.parent.mkdir(parents=True, exist_ok=True)
    env, out = shards.plan(config, session, shard, config.root)
    started = time.time()
    _pytest(config, junit, {**env, **(more or {})})
    record = shards.finish(config, session, shard, started=started, out=out, passed=True)
    assert record is not None
    return set(durations(junit, config.root))


# A shuffling plugin as pytest-randomly is one: each run its own seed, before the shard's split.
SHUFFLE = """\
import os
import random

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    if os.environ.get("SHUFFLE_TESTS"):
        random.Random(os.getpid()).shuffle(items)
"""


def test_shards_of_a_real_run_are_disjoint_and_the_whole_collection(tmp_path: Path) -> None:
    config = _project(tmp_path)
    (config.root / "tests" / "conftest.py").write_text(SHUFFLE, encoding="utf-8")
    whole = tmp_path / "whole.xml"
    _pytest(config, whole)
    collected = list(durations(whole, config.root))  # in the order the tests ran
    everything = set(collected)
    assert len(everything) == 33 and "tests/test_param.py::TestKind::test_method" in everything
    for count, shuffle in ((2, ""), (3, ""), (5, ""), (3, "1")):
        env = {"SHUFFLE_TESTS": shuffle}
        parts = [_run_shard(config, shards.Shard(k, count), env) for k in range(1, count + 1)]
        assert set().union(*parts) == everything, count
        assert sum(len(p) for p in parts) == len(everything), count  # disjoint
        # each shard a slice of the collection order, whatever the shuffling plugin did
        _slices({t: k for k, p in enumerate(parts) for t in p}, collected)
        # one big test file still spreads over the shards
        assert sum(any("test_big.py" in t for t in p) for p in parts) >= count - 1, parts
        found = shards.read_set(config, "tests-3.12")
        assert found is not None and found.complete, found
        shards.forget(config, "tests-3.12", [config.reports / "junit-3.12.xml"])


# A suite whose tests depend on their order, as pyparsing's do: a class switches a mode on,
# the next class asserts it is on.
ORDERED = (
    "".join(f"def test_before_{i}():\n    pass\n\n\n" for i in range(5))
    + (
        "MODE = []\n\n\nclass TestEnableMode:\n    def test_enable(self):\n"
        "        MODE.append('on')\n\n\nclass TestWithMode:\n    def test_mode_is_on(self):\n"
        "        assert MODE == ['on']\n\n\n"
    )
    + "".join(f"def test_after_{i}():\n    pass\n\n\n" for i in range(33))
)


def test_shards_keep_the_suites_order_so_order_dependent_tests_pass_as_in_one_run(
    tmp_path: Path,
) -> None:
    """pyparsing's Test04_WithPackrat asserts the packrat mode Test03 switched on: a split by
    test id put them in different shards, which then failed where the whole suite passed.
    Slices of the collection order keep them together (the cuts fall elsewhere here)."""
    config = _project(tmp_path)
    for name in ("test_big.py", "test_small.py", "test_param.py"):
        (config.root / "tests" / name).unlink()
    (config.root / "tests" / "test_ordered.py").write_text(ORDERED, encoding="utf-8")
    full = config.reports / "junit-3.12.xml"
    full.parent.mkdir(parents=True)
    _pytest(config, full)
    assert not read_junit(full, config.root).failed  # in one run, in its order: passed
    # No durations recorded: the tests of one file weigh the same (timings would move the cuts).
    for count in (2, 3, 4):
        for k in range(1, count + 1):
            ran = _run_shard(config, shards.Shard(k, count))
            junit = config.reports / shards.file_name("junit-3.12.xml", k)
            assert ran and not read_junit(junit, config.root).failed, (count, k)
        shards.forget(config, "tests-3.12", [full])


def test_the_report_shows_one_check_from_every_shard_and_never_passes_a_missing_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    config = _project(tmp_path)
    # Durations recorded by a full run split the shards by time.
    full = config.reports / "junit-3.12.xml"
    full.parent.mkdir(parents=True)
    _pytest(config, full)
    assert shards.keep_durations(config, "tests-3.12", [full], "the full run") == 33
    _run_shard(config, shards.Shard(1, 2))
    stages = STAGES.for_config(config)

    def check() -> Check:
        return {c.name: c for c in build_report(config, stages).checks}["tests-3.12"]

    half = check()
    # failed when the failing test is in shard 1, else not run: never passed
    assert half.status in {"failed", "not-run"} and half.partial, half
    assert "incomplete: shard(s) 1 of 2 ran" in half.summary and "--shard 2/2" in half.summary
    _run_shard(config, shards.Shard(2, 2))
    both = check()
    # test_param[4] fails, in whichever shard it landed: the report names it
    assert both.status == "failed" and not both.partial, both
    assert both.summary == "32 passed, 1 failed (shards 1-2 of 2: 33 tests in all)", both
    assert any("tests/test_param.py::test_param[4]" in d for d in both.details), both
    record = json.loads((config.reports / "shards" / "tests-3.12" / "shard2.json").read_text())
    assert record["basis"] == "recorded durations" and record["total"] == 33
