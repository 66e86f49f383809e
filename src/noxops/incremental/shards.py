"""Shards: one Python's tests split over several runs (``nox -s tests-3.12 -- --shard 2/4``).

Each shard collects the whole suite and keeps its part (noxops's ``noxops_shard`` pytest
plugin, copied into the session's environment): the collection order, taken before any plugin
reorders it, is cut into N slices of consecutive tests, the heaviest as light as it can be, by
the per-test durations of the last full run's JUnit (or of the last complete set of shards),
kept in ``reports/fingerprints/tests-<python>.shards/durations.json``; a test not recorded
weighs the median, and with nothing recorded each test weighs its file's size shared among its
tests. Each shard thus runs a slice of the suite in the order one run would: tests that rely
on an earlier test's state (pyparsing's packrat classes) stay together but at the N - 1 cuts.

Shard ``k`` writes its own JUnit (``junit-3.12-shard2.xml``), coverage data
(``.coverage.3.12.shard2``) and record (``reports/shards/tests-3.12/shard2.json``: when it
ran, the split it used, how many tests it kept of how many). A full run of the Python forgets
the shards; a shard run forgets the full run's results (and a set of another count). The
report shows one tests check per Python from every shard, and a set with a shard missing, or
shards that split differently, as incomplete: never passed. Only a full run, or a complete
set of shards (when the ``coverage`` session combines it), records durations for the next
split, so the shards of one set all split the same way.
"""

from __future__ import annotations

import glob
import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from noxops.errors import NoxopsError
from noxops.reports.files import display, mtime
from noxops.reports.junit import Suite, durations, read_junit
from noxops.reports.model import ReadProblem

if TYPE_CHECKING:
    from noxops.config import Config

__all__ = [
    "FLAG",
    "PLUGIN",
    "SHARD_ENV",
    "Shard",
    "ShardSet",
    "Sharded",
    "begin",
    "durations_path",
    "file_name",
    "finish",
    "forget",
    "keep_durations",
    "plan",
    "read_durations",
    "read_set",
    "read_suite",
    "shard_sets",
    "take",
]

FLAG = "--shard"
PLUGIN = "noxops_shard"  # noxops/_inject/noxops_shard.py, loaded with -p
SHARD_ENV = "NOXOPS_TEST_SHARD"  # as the plugin names it (a test checks)
_SPEC = re.compile(r"^(\d+)(?:/(\d+))?$")
_STALE_SLACK = 2.0  # seconds, as the report allows for any other report file


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (from 1) of ``count``."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def _parse(text: str, where: str, configured: int) -> Shard:
    match = _SPEC.match(text.strip())
    if match is None:
        raise NoxopsError(
            f"{where}: {FLAG} {text!r} is not a shard; write {FLAG} K/N (shard K of N), "
            f"like {FLAG} 2/4"
        )
    index = int(match[1])
    count = int(match[2]) if match[2] else configured
    if match[2] is None and configured == 1:
        raise NoxopsError(
            f"{where}: {FLAG} {text} says which shard but not of how many; write {FLAG} "
            f"{index}/N, or set [tool.noxops.tests] shards = N"
        )
    if count < 1 or not 1 <= index <= count:
        raise NoxopsError(
            f"{where}: {FLAG} {text}: the shard must be between 1 and its count "
            f"(K/N with 1 <= K <= N, N >= 1), like {FLAG} 1/{max(count, 2)}"
        )
    return Shard(index, count)


def take(posargs: list[str], where: str, configured: int = 1) -> Optional[Shard]:
    """The shard ``--shard K/N`` (or ``--shard=K/N``; ``--shard K`` of the configured
    ``shards``) in a session's arguments, taken out of them, so pytest never sees it; None
    for a run of the whole suite. A bad value raises :class:`NoxopsError` (one line)."""
    found: Optional[Shard] = None
    i = 0
    while i < len(posargs):
        arg = posargs[i]
        if arg == FLAG:
            if i + 1 >= len(posargs):
                raise NoxopsError(f"{where}: {FLAG} needs a value: write {FLAG} K/N, like 2/4")
            found = _parse(posargs[i + 1], where, configured)
            del posargs[i : i + 2]
        elif arg.startswith(f"{FLAG}="):
            found = _parse(arg.split("=", 1)[1], where, configured)
            del posargs[i]
        else:
            i += 1
    return found


def file_name(name: str, index: object) -> str:
    """Shard ``index``'s name for a run's file: ``junit-3.12.xml`` -> ``junit-3.12-shard2.xml``,
    coverage's ``.coverage.3.12`` -> ``.coverage.3.12.shard2`` (``index`` may be ``*``)."""
    if name.startswith("."):
        return f"{name}.shard{index}"
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}-shard{index}.{suffix}" if dot else f"{name}-shard{index}"


def _shard_files(path: Path) -> list[Path]:
    """Every shard's file for a run's ``path`` (and coverage's parallel files of them)."""
    pattern = file_name(glob.escape(path.name), "*")
    return sorted(path.parent.glob(pattern)) if path.parent.is_dir() else []


def _records(config: Config, session: str) -> Path:
    return config.reports / "shards" / session


def durations_path(config: Config, session: str) -> Path:
    """The per-test durations the next split uses (from a full run or a complete set): beside
    the session's other records, in a folder of its own (``fingerprints/*.json`` are runs)."""
    return config.reports / "fingerprints" / f"{session}.shards" / "durations.json"


def read_durations(config: Config, session: str) -> dict[str, float]:
    try:
        data = json.loads(durations_path(config, session).read_text(encoding="utf-8"))
        found = data["durations"]
        return {str(k): float(v) for k, v in found.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def keep_durations(config: Config, session: str, junits: Iterable[Path], source: str) -> int:
    """Record the tests' durations in ``junits`` for the next split; how many tests (0, and
    nothing recorded, when a report cannot be read)."""
    found: dict[str, float] = {}
    try:
        for path in junits:
            found.update(durations(path, config.root))
    except ReadProblem:
        return 0
    if not found:
        return 0
    path = durations_path(config, session)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"source": source, "recorded": _now(), "durations": found}
    fresh = path.with_name(path.name + ".tmp")
    fresh.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    fresh.replace(path)
    return len(found)


def _now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())


def forget(config: Config, session: str, files: Iterable[Path]) -> None:
    """A full run: the shards' records and files (of the run's ``files``) are no longer the
    Python's results."""
    for path in files:
        for found in _shard_files(path):
            found.unlink(missing_ok=True)
    folder = _records(config, session)
    for record in folder.glob("shard*.json") if folder.is_dir() else []:
        record.unlink(missing_ok=True)


def _own_files(path: Path, index: int) -> list[Path]:
    own = path.with_name(file_name(path.name, index))
    return [own, *own.parent.glob(f"{glob.escape(own.name)}.*")]


def _full_files(path: Path) -> list[Path]:
    """A full run's file and coverage's parallel files of it, not the shards' files."""
    shards = set(_shard_files(path))
    parallel = path.parent.glob(f"{glob.escape(path.name)}.*") if path.parent.is_dir() else []
    return [path, *(p for p in parallel if p not in shards)]


def begin(config: Config, session: str, shard: Shard, files: Iterable[Path]) -> None:
    """Before shard ``k`` of ``n`` runs: forget the full run's results (its ``files``), this
    shard's last record and files, and a set of another count altogether."""
    files = list(files)
    current = read_set(config, session)
    if current is not None and current.count != shard.count:
        forget(config, session, files)
    for path in files:
        for found in [*_full_files(path), *_own_files(path, shard.index)]:
            found.unlink(missing_ok=True)
    _records(config, session).joinpath(f"shard{shard.index}.json").unlink(missing_ok=True)


def plan(config: Config, session: str, shard: Shard, folder: Path) -> tuple[dict[str, str], Path]:
    """The plugin's plan for shard ``k`` (written into ``folder``), its environment, and
    where the plugin says what it kept."""
    out = folder / "noxops-shard-result.json"
    out.unlink(missing_ok=True)
    data = {
        "shard": shard.index,
        "of": shard.count,
        "durations": read_durations(config, session),
        "out": str(out),
    }
    path = folder / "noxops-shard-plan.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return {SHARD_ENV: str(path)}, out


def finish(
    config: Config,
    session: str,
    shard: Shard,
    *,
    started: float,
    out: Path,
    passed: bool,
    partial: Optional[str] = None,
) -> Optional[dict[str, Any]]:
    """Record shard ``k``'s run (None, and no record, when pytest did not get to split the
    suite: the shard is then missing from the set); ``partial``: the arguments that left part
    of its tests out (``-k slow``)."""
    try:
        kept = json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(kept, dict):
        return None
    record = {
        **kept,
        "shard": shard.index,
        "of": shard.count,
        "started": started,
        "finished": time.time(),
        "passed": passed,
        "partial": partial,
    }
    folder = _records(config, session)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"shard{shard.index}.json").write_text(
        json.dumps(record, indent=2) + "\n", encoding="utf-8"
    )
    return record


@dataclass
class ShardSet:
    """The recorded shards of one Python's tests: complete when shards 1 to ``count`` all ran
    and split the suite the same way."""

    session: str
    count: int
    records: dict[int, dict[str, Any]]
    problems: list[str] = field(default_factory=list)

    @property
    def missing(self) -> list[int]:
        return [k for k in range(1, self.count + 1) if k not in self.records]

    @property
    def complete(self) -> bool:
        return not self.missing and not self.problems

    def why(self) -> str:
        """Why the set is incomplete ("" when it is complete), and how to complete it."""
        if self.missing:
            ran = ", ".join(map(str, sorted(self.records))) or "none"
            runs = " and ".join(f"--shard {k}/{self.count}" for k in self.missing)
            return (
                f"incomplete: shard(s) {ran} of {self.count} ran; run nox -s {self.session} "
                f"-- {runs} (or the whole suite, without --shard)"
            )
        return "; ".join(self.problems)


def read_set(config: Config, session: str) -> Optional[ShardSet]:
    """The shards ``session`` last ran (None when its last results are a full run's)."""
    folder = _records(config, session)
    records: dict[int, dict[str, Any]] = {}
    for path in sorted(folder.glob("shard*.json")) if folder.is_dir() else []:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            records[int(data["shard"])] = data
        except (OSError, ValueError, KeyError, TypeError):
            continue
    if not records:
        return None
    counts = {int(r.get("of", 0)) for r in records.values()}
    found = ShardSet(session, max(counts), records)
    found.problems += [
        f"incomplete: shard {k} ran part of its tests ({r['partial']}); run it without them"
        for k, r in sorted(records.items())
        if r.get("partial")
    ]
    splits = {(r.get("split"), r.get("total")) for r in records.values()}
    if len(counts) > 1 or len(splits) > 1:
        found.problems.append(
            "incomplete: the shards split the suite differently (its tests or the recorded "
            f"durations changed between them); run every shard of {session} again"
        )
    elif not found.missing:
        kept = sum(int(r.get("selected", 0)) for r in records.values())
        total = int(next(iter(records.values())).get("total", -1))
        if kept != total:
            found.problems.append(
                f"incomplete: the shards ran {kept} tests of the {total} collected; run every "
                f"shard of {session} again"
            )
    return found


def shard_sets(config: Config) -> list[ShardSet]:
    """Every Python's shard set (complete or not)."""
    folder = config.reports / "shards"
    found = []
    for sub in sorted(folder.iterdir()) if folder.is_dir() else []:
        current = read_set(config, sub.name) if sub.is_dir() else None
        if current is not None:
            found.append(current)
    return found


@dataclass
class Sharded:
    """One Python's tests as its shards ran them: their JUnit reports as one suite."""

    suite: Suite
    sources: list[str]
    problems: list[str]
    note: str  # "shards 1-4 of 4: 120 tests" or why the set is incomplete
    complete: bool
    failed_runs: list[int]  # shards whose run failed although their report shows no failure
    duration: Optional[float]


def read_suite(config: Config, session: str, file: str) -> Optional[Sharded]:
    """The shards' JUnit reports (shard ``k``'s named from the full run's ``file``) read as
    one suite; None when the session's last results are a full run's."""
    shards = read_set(config, session)
    if shards is None:
        return None
    suite = Suite()
    sources: list[str] = []
    problems: list[str] = []
    unread: list[int] = []
    for index, record in sorted(shards.records.items()):
        path = config.reports / file_name(file, index)
        sources.append(display(path, config.root))
        try:
            if path.exists() and mtime(path) < float(record.get("started", 0)) - _STALE_SLACK:
                raise ReadProblem(
                    display(path, config.root),
                    f"it is older than the last run of shard {index}, which did not rewrite it "
                    "(stale)",
                )
            part = read_junit(path, config.root)
        except ReadProblem as exc:
            problems.append(str(exc))
            unread.append(index)
            continue
        suite.tests += part.tests
        suite.failures += part.failures
        suite.errors += part.errors
        suite.skipped += part.skipped
        suite.time += part.time
        suite.failed += part.failed
    complete = shards.complete and not unread
    if complete:
        note = f"shards 1-{shards.count} of {shards.count}: {suite.tests} tests in all"
    elif shards.complete:
        note = f"incomplete: the report of shard(s) {', '.join(map(str, unread))} is unreadable"
    else:
        note = shards.why()
    spent = [float(r["finished"]) - float(r["started"]) for r in shards.records.values()
             if isinstance(r.get("finished"), (int, float))]  # fmt: skip
    failed = [k for k, r in sorted(shards.records.items()) if not r.get("passed", False)]
    return Sharded(suite, sources, problems, note, complete, failed, sum(spent) if spent else None)
