"""noxops: the coverage work of a tests run (noxops.incremental.affected, noxops.stages.tests).

Copied into the session's environment (noxops.runtime.inject), where coverage is installed (nox's
may lack it): called by noxops's pytest plugin at the end of the pytest run, in its process,
or run as a script by the session (``python noxops_coverage.py <command> ...``), on the
project's Python (3.9 on), without noxops installed."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

from coverage import CoverageData

if TYPE_CHECKING:
    import coverage


def gather(data_file: str) -> None:
    """Combine the run's parallel data files (``<data_file>.<host>.<pid>.<random>``, written
    under ``[run] parallel`` and by worker processes) into ``data_file``, the one file the
    reports read. The session erased that prefix's files before the run: all are this run's."""
    import glob

    import coverage

    if not glob.glob(glob.escape(data_file) + ".*"):  # noqa: PTH207 - the prefix, escaped
        return
    cov = coverage.Coverage(data_file=data_file)
    try:
        if Path(data_file).exists():
            cov.load()
        cov.combine(keep=False)
        cov.save()
    finally:
        _close(cov)


def xml_report(outfile: str, data_file: Optional[str] = None) -> None:
    """The per-Python Cobertura XML from the saved data, with the project's coverage
    settings only (not those of ``coverage run``'s command line, whose --source would make the
    paths relative to the package); written whole or not at all."""
    import coverage

    cov = coverage.Coverage() if data_file is None else coverage.Coverage(data_file=data_file)
    gather(os.path.abspath(cov.config.data_file))  # noqa: PTH100 - symlinks left as they are
    partial = outfile + ".partial"
    try:
        cov.load()
        cov.xml_report(outfile=partial)
        Path(partial).replace(outfile)
    finally:
        _close(cov)
        if Path(partial).exists():
            Path(partial).unlink()


def _close(cov: coverage.Coverage) -> None:
    """Close the SQLite connections of a ``Coverage`` that only reports. Coverage closes
    them at exit only for an instance it started, and the in-memory copy of the data it
    reports from when the project sets ``[paths]`` stays open: from Python 3.13 the
    connection warns when it is collected, an error in a pytest run with filterwarnings =
    error (this module runs in the project's pytest process)."""
    datas = getattr(cov, "_data_to_close", None)
    if datas is not None:  # coverage 7.10.3+: what its exit handler closes
        for data in datas:
            data.close(force=True)
        return
    data = getattr(cov, "_data", None)  # before: what it reported from (the in-memory copy)
    for db in getattr(data, "_dbs", {}).values():
        if db.con is not None:
            db.con.close()
            db.con = None


def _copy(
    data: CoverageData,
    out: CoverageData,
    move: Callable[[str, int], Optional[int]] = lambda path, n: n,
) -> None:
    """Add ``data``'s lines (or arcs) and file tracers to ``out``, without contexts, each
    line number through ``move(path, n)`` (None drops it)."""
    measured = data.measured_files()
    if data.has_arcs():
        arcs: dict[str, list[tuple[int, int]]] = {}
        for path in measured:
            kept = []
            for a, b in data.arcs(path) or ():
                ma, mb = move(path, a), move(path, b)
                if ma is not None and mb is not None:
                    kept.append((ma, mb))
            arcs[path] = kept
        out.add_arcs(arcs)
    else:
        lines: dict[str, list[int]] = {}
        for path in measured:
            moved = (move(path, n) for n in data.lines(path) or ())
            lines[path] = [n for n in moved if n is not None]
        out.add_lines(lines)
    out.add_file_tracers({p: t for p in measured for t in [data.file_tracer(p)] if t})


def map_tests(data_path: str, map_path: str, plain_path: str) -> None:
    """After a full run with a context per test: the line -> tests map (JSON), and the
    data without the contexts, for the merges of the affected runs (a fraction of the rows to
    read: one per file, not one per test and file)."""
    gather(data_path)
    data = CoverageData(basename=data_path)
    data.read()
    contexts = sorted(data.measured_contexts())
    index = {c: i for i, c in enumerate(contexts)}
    files: dict[str, dict[str, list[int]]] = {}
    for path in data.measured_files():
        by_line = data.contexts_by_lineno(path)
        files[path] = {str(n): sorted(index[c] for c in cs) for n, cs in by_line.items()}
    with Path(map_path).open("w", encoding="utf-8") as fh:
        json.dump({"contexts": contexts, "files": files}, fh)
    plain = CoverageData(basename=plain_path)
    plain.erase()
    _copy(data, plain)
    plain.write()


def merge(
    full_path: str, new_path: str, maps_path: str, out_path: str, xml_path: Optional[str] = None
) -> None:
    """An affected run's data combined with the full run's, whose line numbers are carried
    across each edit by ``maps_path`` (changed lines dropped); the XML from it too."""
    with Path(maps_path).open(encoding="utf-8") as fh:
        # {file: {old line: new line}} for the files that changed
        maps: dict[str, dict[str, int]] = json.load(fh)
    full = CoverageData(basename=full_path)
    full.read()
    out = CoverageData(basename=out_path)
    out.erase()
    gather(new_path)

    def move(path: str, n: int) -> Optional[int]:
        table = maps.get(path)
        if table is None:
            return n
        m = table.get(str(abs(n)))
        return None if m is None else (m if n > 0 else -m)

    _copy(full, out, move)
    new = CoverageData(basename=new_path)
    new.read()
    out.update(new)
    out.write()
    if xml_path:  # the per-Python XML too, from the same process
        xml_report(xml_path, data_file=out_path)


COMMANDS: dict[str, Callable[..., None]] = {"xml": xml_report, "map": map_tests, "merge": merge}

if __name__ == "__main__":
    from coverage.exceptions import CoverageException

    try:
        COMMANDS[sys.argv[1]](*sys.argv[2:])
    except CoverageException as exc:
        sys.exit(f"coverage: {exc}")
    except OSError as exc:  # a report or data file that cannot be written
        sys.exit(f"noxops: {exc}")
