"""Where a coverage data file was measured, and its paths moved to this checkout.

coverage.py keeps absolute paths. A CI pipeline's tests jobs may each run in another folder
(GitLab's runner slots, ``<builds>/<runner>/<slot>/<group>/<project>``; Jenkins's
``workspace@2``), and their data, combined in the coverage job's folder, would name files
that are not there (coverage: "No source for code"). Each tests run writes the project
folder it ran in into its data file, as a key of coverage's ``meta`` table (coverage reads that
table only by the keys it knows); the coverage stage gives data measured elsewhere this
folder's paths before it combines (:func:`relocate`).

The data file is coverage's SQLite database (its schema 7, coverage 5 to 7): the ``file``
table's ``path`` is the only place a measured path is kept.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Optional

from noxops.errors import NoxopsError

__all__ = ["ORIGIN_KEY", "mark_origin", "origin", "relocate"]

ORIGIN_KEY = "noxops_root"


@contextlib.contextmanager
def _database(data: Path) -> Iterator[sqlite3.Connection]:
    """``data`` opened as the SQLite database it is (never created); committed on success."""
    con = sqlite3.connect(f"{data.resolve().as_uri()}?mode=rw", uri=True)
    try:
        with con:
            yield con
    finally:
        con.close()


def mark_origin(data: Path, root: Path) -> bool:
    """Write ``root``, the folder the run measured in, into the data file ``data``; False
    when there is no such file or it is not coverage's database (then nothing is written)."""
    if not data.is_file():
        return False
    try:
        with _database(data) as con:
            con.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (ORIGIN_KEY, str(root))
            )
    except sqlite3.Error:
        return False
    return True


def origin(data: Path) -> Optional[str]:
    """The folder the data file was measured in, as :func:`mark_origin` wrote it; None for
    a file without it (written by another tool, or by a noxops before it)."""
    try:
        with _database(data) as con:
            row = con.execute("SELECT value FROM meta WHERE key = ?", (ORIGIN_KEY,)).fetchone()
    except sqlite3.Error:
        return None
    return str(row[0]) if row and row[0] else None


def relocate(source: Path, target: Path, old: str, new: str) -> int:
    """Copy the data file ``source`` to ``target`` with the paths of the files measured
    under the folder ``old`` moved under ``new`` (the others kept); how many it moved."""
    shutil.copyfile(source, target)
    before, after = old.rstrip(os.sep) + os.sep, new.rstrip(os.sep) + os.sep
    try:
        with _database(target) as con:
            moved = con.execute(
                "UPDATE file SET path = ? || substr(path, ?) WHERE substr(path, 1, ?) = ?",
                (after, len(before) + 1, len(before), before),
            ).rowcount
            con.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (ORIGIN_KEY, new))
    except sqlite3.Error as exc:
        target.unlink(missing_ok=True)
        raise NoxopsError(
            f"{source}: its coverage data, measured in {old}, could not be moved to {new}: "
            f"{exc}; run the tests in this folder (`nox -s tests`) and combine again"
        ) from exc
    return moved
