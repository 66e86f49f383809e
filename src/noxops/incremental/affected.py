"""Affected tests only: a ``tests-<python>`` run that reruns just the tests a change can reach.

With ``--changed-only`` (or ``select = "affected"`` in ``[tool.noxops.tests]``), a full run of
``tests-<python>`` records which test covered which line: every test runs in its own coverage
*dynamic context* (a small pytest plugin, written into the session's environment, calls
``coverage.Coverage.current().switch_context(<test id>)`` around each test, as pytest-cov's
``--cov-context=test`` does). After the run, the line -> tests map, the project's file digests
as they were before the run, a copy of the measured source files and of the coverage data are
kept in ``reports/fingerprints/<session>.affected/``. The files the run itself created, changed
or deleted (an HTML page or a log a test writes into the work tree) are its output, not its
input: they are left out of later comparisons, so a fresh checkout without them (CI) and the
same work tree with them both compare as unchanged. Python files, measured files and test
files are never taken for output.

A later run then compares the project with that snapshot and runs only

- the tests that covered a changed line of a measured file (by a line diff against the kept
  copy; a changed line that ran only at import time selects every test that ran the file),
- every test of a changed test file, and tests that are new (not collected by the full run),
- the tests that failed in the previous run,

collecting only the test files, classes and functions that hold them when no changed line ran
while the full run collected its tests (changed and new test files in full). A **full run**
happens instead when there is no map, when anything else changed (the configuration, the
environment, pytest's arguments, ``conftest.py``, any file that is neither a measured
source, a test file, documentation nor the full run's output), or when a measured file was
removed or changed while the full run ran.
pytest-testmon does the same with its own database and import tracing; it was not used
because it replaces coverage's measurement (the pipeline's coverage report and gate come from
coverage.py) and runs a second tracer when both are on.

The run's coverage data is then the full run's data - its line numbers carried across each
edit by the same diff, changed lines dropped - combined with the affected run's (by the plugin,
at the end of the pytest run and in its process; by a script after it when that fails): the
per-Python report and the ``coverage`` gate say they come from "the last full run and the
affected rerun". ``reports/selection/<session>.json`` says what ran, so the report never shows a
selected run as a full pass.
"""

from __future__ import annotations

import json
import shlex
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from noxops.incremental import fingerprint
from noxops.runtime import inject

if TYPE_CHECKING:
    from noxops.config import Config

__all__ = [
    "CONTEXTS_ENV",
    "COVERAGE_MODULE",
    "MERGE_ENV",
    "PLUGIN",
    "REPORT_ENV",
    "RESULTS_ENV",
    "SELECT_ENV",
    "Selection",
    "Snapshot",
    "affected_runs",
    "choose",
    "file_digests",
    "gate_note",
    "keep_full_run",
    "line_map",
    "map_dir",
    "note_failures",
    "partial_note",
    "partial_selection",
    "read_selection",
    "selection_path",
    "write_plugin",
    "write_selection",
]

# noxops's pytest plugin and the coverage module it calls, in noxops/_inject/
# (noxops.runtime.inject), which name the environment variables below as this module does (a test
# checks).
PLUGIN = "noxops_pytest_plugin"  # loaded by every tests run (-p), from the session's env
CONTEXTS_ENV = "NOXOPS_TEST_CONTEXTS"
SELECT_ENV = "NOXOPS_TEST_SELECT"
RESULTS_ENV = "NOXOPS_TEST_RESULTS"
MERGE_ENV = "NOXOPS_TEST_MERGE"  # JSON: the arguments of merge() (an affected run)
REPORT_ENV = "NOXOPS_TEST_REPORT"  # the per-Python XML to write at the end (any other run)
COVERAGE_MODULE = "noxops_coverage"  # beside the plugin, which imports it
_DOCS = (".md", ".rst")  # documentation: no test reads it (a full run when in doubt otherwise)


def write_plugin(folder: Path) -> None:
    """The plugin (``-p PLUGIN``) and the coverage module it calls, copied into ``folder``,
    which pytest's process has on its path."""
    for module in (PLUGIN, COVERAGE_MODULE):
        inject.copy(f"{module}.py", folder)


def map_dir(config: Config, session: str) -> Path:
    """Where the last full run's map, sources and coverage data are kept."""
    return config.reports / "fingerprints" / f"{session}.affected"


def selection_path(config: Config, session: str) -> Path:
    return config.reports / "selection" / f"{session}.json"


@dataclass
class Selection:
    """What a test run runs: everything, the affected tests, or the part of the suite its
    arguments select (``nox -s tests-3.12 -- -k slow``)."""

    mode: str  # "full", "affected" or "partial"
    why: str  # for a partial run: the arguments that select
    run: list[str] = field(default_factory=list)  # test ids (affected mode)
    known: list[str] = field(default_factory=list)  # every test of the full run
    base: str = ""  # when the full run the selection is based on finished
    line_maps: dict[str, dict[str, int]] = field(default_factory=dict)  # old -> new lines
    key: str = ""  # the digest of what, besides the files, the run depends on
    # Collect only the test files (and their classes and functions) that hold tests to run:
    # sound when no changed line ran while the full run collected its tests (see choose()).
    narrow: bool = False
    whole: list[str] = field(default_factory=list)  # changed test files: collected in full
    coverage: bool = True  # the run's coverage is part of the coverage gate
    # A full run: the project's file digests before it, to tell its output from its input.
    before: dict[str, str] = field(default_factory=dict)

    @property
    def affected(self) -> bool:
        return self.mode == "affected"

    def describe(self) -> str:
        if self.mode == "partial":
            return f"partial run ({self.why}): not the full suite"
        if not self.affected:
            return f"all tests ({self.why})"
        return (
            f"{len(self.run)} of {len(self.known)} tests, those affected by the change since "
            f"the full run of {self.base} ({self.why})"
        )


def write_selection(config: Config, session: str, selection: Selection) -> None:
    """``reports/selection/<session>.json``: what the run ran, for the report and coverage."""
    path = selection_path(config, session)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "session": session,
        "mode": selection.mode,
        "why": selection.why,
        "selected": len(selection.run) if selection.affected else None,
        "known": len(selection.known) if selection.affected else None,
        "base": selection.base,
        "summary": selection.describe(),
        "coverage": selection.coverage,
    }
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


# pytest's options that run part of the suite (or none of it: they set up or list fixtures,
# and exit 0 whatever the tests would do), and those whose value is the next argument.
_SELECTING = {
    "-k", "-m", "--deselect", "--ignore", "--ignore-glob", "--lf", "--last-failed", "--sw",
    "--stepwise", "--sw-skip", "--stepwise-skip", "--co", "--collect-only", "--collectonly",
    "--setup-only", "--setup-plan", "--fixtures", "--funcargs", "--fixtures-per-test",
    "--markers",
}  # fmt: skip
_VALUED = {"-k", "-m", "--deselect", "--ignore", "--ignore-glob"}


def partial_selection(posargs: Sequence[str], *, coverage: bool = True) -> Optional[Selection]:
    """The selection of a run whose arguments for pytest leave part of the suite out (``-k``,
    ``-m``, ``--lf``, ``--sw``, ``--deselect``, ``--ignore``) or all of it (``--co``,
    ``--setup-only``, ``--fixtures``); None for the full
    suite. Paths and test ids after ``--`` do not narrow: they come after the stage's own."""
    chosen: list[str] = []
    args = list(posargs)
    for i, arg in enumerate(args):
        name = arg.split("=", 1)[0] if arg.startswith("--") else arg[:2]
        if name not in _SELECTING:
            continue
        whole = arg in _VALUED and i + 1 < len(args)  # the value is the next argument
        chosen += args[i : i + 2] if whole else [arg]
    if not chosen:
        return None
    return Selection("partial", why=shlex.join(chosen), coverage=coverage)


def read_selection(config: Config, session: str) -> Optional[dict[str, Any]]:
    try:
        data = json.loads(selection_path(config, session).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def affected_runs(config: Config, mode: str = "affected") -> list[dict[str, Any]]:
    """The selection records of the ``tests-<python>`` runs that ran affected tests only (or
    of the runs of another ``mode``)."""
    folder = config.reports / "selection"
    found = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        data = read_selection(config, path.stem)
        if data is not None and data.get("mode") == mode:
            found.append(data)
    return found


def gate_note(config: Config) -> str:
    """What the coverage gate is computed from, when some runs were affected-only; else ""."""
    runs = affected_runs(config)
    if not runs:
        return ""
    which = ", ".join(
        f"{r.get('session')} ({r.get('selected')} of {r.get('known')} tests)" for r in runs
    )
    return f"computed from the combined data of the last full run and the affected rerun of {which}"


def partial_note(config: Config) -> str:
    """What the coverage gate includes when a ``tests-<python>`` run was partial; else ""."""
    runs = [
        f"{r.get('session')} ({r.get('why')})"
        for r in affected_runs(config, "partial")
        if r.get("coverage")  # not integration's: its coverage is not measured
    ]
    if not runs:
        return ""
    return f"includes the partial run of {', '.join(runs)}: not the full suite's figure"


def line_map(old: list[str], new: list[str]) -> tuple[dict[int, int], set[int]]:
    """Old line number -> new line number for the lines an edit left alone, and the old lines
    it touched (for an insertion, the lines either side of it).

    The lines both versions share at the start and the end are matched directly; only what
    lies between goes through difflib (a one-line edit of a 5,000-line module compares a few
    lines, not the whole file)."""
    limit = min(len(old), len(new))
    head = 0
    while head < limit and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < limit - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    moved = {n: n for n in range(1, head + 1)}
    moved.update({len(old) - k: len(new) - k for k in range(tail)})
    touched: set[int] = set()
    middle_old, middle_new = old[head : len(old) - tail], new[head : len(new) - tail]
    import difflib  # only here: 12 ms of every start where the stdlib has no bytecode

    matcher = difflib.SequenceMatcher(a=middle_old, b=middle_new, autojunk=False)
    for tag, a1, a2, b1, _ in matcher.get_opcodes():
        i1, i2, j1 = a1 + head, a2 + head, b1 + head  # line indexes in the whole files
        if tag == "equal":
            for k in range(i2 - i1):
                moved[i1 + k + 1] = j1 + k + 1
        elif i1 == i2:  # inserted before old line i1 + 1
            touched.update({i1, i1 + 1})
        else:
            touched.update(range(i1 + 1, i2 + 1))
    return moved, touched


@dataclass
class Snapshot:
    """The last full run, as kept in :func:`map_dir`."""

    folder: Path
    meta: dict[str, Any]
    contexts: list[str]
    files: dict[str, dict[str, list[int]]]  # absolute path -> line -> context indexes

    @classmethod
    def load(cls, folder: Path) -> Optional[Snapshot]:
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            mapping = json.loads((folder / "map.json").read_text(encoding="utf-8"))
            return cls(folder, meta, list(mapping["contexts"]), dict(mapping["files"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None


def _test_file(test_id: str) -> str:
    return test_id.split("::", 1)[0]


def choose(config: Config, session: str, base: str, *, forced: bool = False) -> Selection:
    """What to run now, given the kept full run of ``session`` and ``base`` (the digest of
    everything but the files that the run depends on: configuration, environment, args);
    every test when ``forced``. A full run's selection holds the file digests taken now,
    before its tests run, for :func:`keep_full_run`."""
    now = file_digests(config)
    if forced:  # "run everything afresh": every test, a new map
        selection = Selection("full", "--no-cache or NOXOPS_FORCE asks for every test")
    else:
        selection = _choose(config, session, base, now)
    if not selection.affected:
        selection.before = now
    return selection


def _choose(config: Config, session: str, base: str, now: dict[str, str]) -> Selection:
    snap = Snapshot.load(map_dir(config, session))
    if snap is None:
        return Selection("full", "no map of which test covers which line yet")
    made_in = snap.meta.get("root")
    if isinstance(made_in, str) and made_in != str(config.root):
        # It names files by absolute paths, its coverage data too: it serves only the folder
        # it was made in (a job in another runner slot runs every test).
        return Selection("full", f"its map was made in another folder, {made_in}")
    if snap.meta.get("base") != base:
        return Selection("full", "the configuration, environment or arguments changed")
    then: dict[str, str] = snap.meta.get("digests", {})
    output = set(snap.meta.get("output", []))  # written by the full run: not its input
    names = (set(now) | set(then)) - output
    changed = sorted(n for n in names if now.get(n) != then.get(n))
    known: list[str] = list(snap.meta.get("tests", []))
    line_maps: dict[str, dict[str, int]] = {}
    reach = _reached(config, snap, changed, (now, then), line_maps)
    if isinstance(reach, str):
        return Selection("full", reach)
    run = {snap.contexts[i] for i in reach.contexts if snap.contexts[i]}
    run |= set(snap.meta.get("failed", []))
    known_set = set(known)
    why = f"{len(changed)} file(s) changed"
    # Which tests exist is decided while pytest collects them: by the test files (a changed
    # one is collected in full, a new one is unknown, so collected too) and by the code they
    # run on import. When no changed line ran then (the map's context ""), an unchanged test
    # file yields the tests it did in the full run, and only the ones to run need collecting.
    return Selection(
        "affected",
        why,
        run=sorted(t for t in run if t in known_set),
        known=known,
        base=str(snap.meta.get("finished", "")),
        line_maps=line_maps,
        narrow=not reach.at_import,
        whole=sorted(reach.whole),
    )


@dataclass
class _Reach:
    """What the changed files reach: test indexes, test files to collect in full, and
    whether a changed line ran while the tests were being collected (at import)."""

    contexts: set[int] = field(default_factory=set)
    whole: set[str] = field(default_factory=set)
    at_import: bool = False


def _reached(
    config: Config,
    snap: Snapshot,
    changed: list[str],
    digests: tuple[dict[str, str], dict[str, str]],
    line_maps: dict[str, dict[str, int]],
) -> _Reach | str:
    """What the ``changed`` files reach, or why to run everything."""
    now, then = digests
    root = config.root.resolve()
    test_files = {_test_file(t) for t in snap.meta.get("tests", [])}
    measured = {Path(p).resolve().relative_to(root).as_posix(): p for p in _inside(snap, root)}
    reach = _Reach()
    for name in changed:
        if name in test_files:
            reach.whole.add(name)  # its new tests are unknown: collect all of it
        if name in measured:
            if name not in now:
                return f"{name} was removed"
            found = _covering(snap, measured[name], root / name, line_maps)
            if found is None:
                return f"the kept copy of {name} is missing"
            reach.contexts |= found[0]
            reach.at_import |= found[1]
        elif name in test_files:
            reach.contexts |= {i for i, c in enumerate(snap.contexts) if _test_file(c) == name}
        elif Path(name).name == "conftest.py":
            return f"{name} changed"
        elif name.endswith(_DOCS) or (name not in then and _new_test_file(name)):
            continue  # documentation; a new test file's tests are new, so they run
        elif (
            name.endswith(".py")
            and name not in then
            and any(name.startswith(src.rstrip("/") + "/") for src in config.sources)
        ):
            continue  # a new module: only the changed code that imports it can reach it
        else:
            return f"{name} changed, and which tests read it is unknown"
    return reach


def _new_test_file(name: str) -> bool:
    stem = Path(name).name
    return stem.endswith(".py") and (stem.startswith("test_") or stem.endswith("_test.py"))


def _inside(snap: Snapshot, root: Path) -> list[str]:
    found = []
    for path in snap.files:
        try:
            Path(path).resolve().relative_to(root)
        except ValueError:
            continue
        found.append(path)
    return found


def _covering(
    snap: Snapshot, path: str, current: Path, line_maps: dict[str, dict[str, int]]
) -> Optional[tuple[set[int], bool]]:
    """The contexts (test indexes) that covered the lines an edit of ``path`` touched, and
    whether one of those lines ran outside any test (on import, while tests were collected)."""
    kept = snap.folder / "sources" / _safe(path)
    try:
        old = kept.read_text(encoding="utf-8", errors="replace").splitlines()
        new = current.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    moved, touched = line_map(old, new)
    line_maps[path] = {str(k): v for k, v in moved.items()}
    by_line = snap.files.get(path, {})
    found: set[int] = set()
    import_time = snap.contexts.index("") if "" in snap.contexts else -1
    for line in touched:
        found.update(by_line.get(str(line), []))
    at_import = import_time in found
    if at_import:  # module-level code changed: every test that ran this file
        for indexes in by_line.values():
            found.update(indexes)
    found.discard(import_time)
    return found, at_import


def _safe(path: str) -> str:
    return path.strip("/").replace("/", "__").replace("\\", "__").replace(":", "_")


def file_digests(config: Config) -> dict[str, str]:
    """Every project file (as ``--changed-only`` sees it) and its sha256."""
    root = config.root.resolve()
    reports = config.reports.resolve()
    return {
        name: digest
        for name, digest in fingerprint.file_digests(root).items()
        if not (root / name).resolve().is_relative_to(reports)
    }


def keep_full_run(
    config: Config,
    session: str,
    *,
    base: str,
    before: dict[str, str],
    mapping: Path,
    data: Path,
    results: dict[str, Any],
) -> None:
    """Keep a full run's map, the measured sources, its coverage data (``data``: without the
    per-test contexts) and the file digests ``before`` the run, without its output: the
    files it created, changed or deleted (a fresh checkout lacks what the tests wrote, the
    same work tree has it). Python files, measured files and test files always count as
    input; a measured file changed during the run keeps no copy (the next run is a full one)."""
    folder = map_dir(config, session)
    fresh = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(fresh, ignore_errors=True)
    (fresh / "sources").mkdir(parents=True)
    shutil.copyfile(mapping, fresh / "map.json")
    shutil.copyfile(data, fresh / "full.coverage")
    files = json.loads(mapping.read_text(encoding="utf-8"))["files"]
    root = config.root.resolve()
    after = file_digests(config)
    inputs = {_test_file(t) for t in results.get("collected", [])}
    for path in files:
        source = Path(path)
        if source.is_file() and source.resolve().is_relative_to(root):
            name = source.resolve().relative_to(root).as_posix()
            inputs.add(name)
            if after.get(name) == before.get(name):  # as the tests ran it
                shutil.copyfile(source, fresh / "sources" / _safe(path))
    written = {n for n in set(before) | set(after) if before.get(n) != after.get(n)}
    output = sorted(n for n in written - inputs if not n.endswith(".py"))
    meta = {
        "base": base,
        "finished": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "digests": {n: d for n, d in before.items() if n not in output},
        "output": output,
        "tests": results.get("collected", []),
        "failed": results.get("failed", []),
        "root": str(config.root),
    }
    (fresh / "meta.json").write_text(json.dumps(meta) + "\n", encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    fresh.replace(folder)


def note_failures(config: Config, session: str, results: dict[str, Any]) -> None:
    """After an affected run: its failures are rerun next time, with the ones still failing."""
    meta_path = map_dir(config, session) / "meta.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    ran = set(results.get("collected", []))
    still = [t for t in meta.get("failed", []) if t not in ran]
    meta["failed"] = sorted({*still, *results.get("failed", [])})
    # New tests stay unknown (the map does not say what they cover): they run until a full run.
    meta_path.write_text(json.dumps(meta) + "\n", encoding="utf-8")
