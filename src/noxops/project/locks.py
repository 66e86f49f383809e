"""The project's lock file: the versions its own installs use, so the sessions use them too.

A project locked with uv (``uv.lock``), Poetry (``poetry.lock``) or PDM (``pdm.lock``) gets,
from its own tools, exactly the versions in that file; the newest releases can differ (a
newer mypy, a newer library whose types changed) and fail a session its own run passes.
noxops reads the lock (all three are TOML: no uv, Poetry or PDM is needed) and

* passes every locked package to the installer as a constraint (``-c``, :func:`constraint_args`):
  what the lock names is installed at its version, what it does not name (noxops's own tools
  and their dependencies) is resolved as before. Where the lock holds several versions of one
  package (uv's forks by Python version, Poetry's and PDM's markers) each constraint carries
  its marker, so the installer picks the one for the session's Python;
* gives the project's tools the version the lock pins (:func:`Lock.version`, read by
  :mod:`noxops.project.tools`).

Packages from a path, a git repository or a URL (the project itself, a workspace member) are
not constrained: a constraint can only name a release.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from noxops.errors import NoxopsError
from noxops.project.pyproject import read_toml

__all__ = ["LOCK_FILES", "Lock", "Pin", "constraint_args", "constraints_file", "read"]

LOCK_FILES = ("uv.lock", "poetry.lock", "pdm.lock")
# Per file: where a package says when it applies, and what marks one not from an index.
_MARKER_KEY = {"uv.lock": "resolution-markers", "poetry.lock": "markers", "pdm.lock": "marker"}
_NOT_RELEASE = {
    "uv.lock": ("editable", "virtual", "directory", "path", "git", "url"),
    "poetry.lock": ("git", "directory", "file", "url"),
    "pdm.lock": ("editable", "path", "url", "git"),
}
_cache: dict[Path, tuple[tuple[int, int], Optional[Lock]]] = {}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Pin:
    """One locked release: ``name==version``, for the Pythons ``marker`` says (None: all)."""

    name: str  # normalized
    version: str
    marker: Optional[str] = None

    def line(self) -> str:
        return f"{self.name}=={self.version}" + (f" ; {self.marker}" if self.marker else "")


@dataclass(frozen=True)
class Lock:
    """A lock file's pins (see the module's documentation)."""

    file: str  # "uv.lock", "poetry.lock" or "pdm.lock"
    pins: tuple[Pin, ...]

    def version(self, name: str, python: Optional[str] = None) -> Optional[str]:
        """The version the lock gives ``name`` on ``python`` (major.minor; None: the running
        interpreter), or None when it does not lock it there."""
        wanted = _norm(name)
        candidates = [p for p in self.pins if p.name == wanted]
        if len(candidates) == 1 and candidates[0].marker is None:
            return candidates[0].version
        if not candidates:
            return None
        from packaging.markers import Marker

        current = ".".join(platform.python_version_tuple()[:2])
        version = python or current
        full = platform.python_version() if version == current else f"{version}.0"
        env = {"python_version": version, "python_full_version": full}
        for pin in candidates:
            if pin.marker is None or Marker(pin.marker).evaluate(env):
                return pin.version
        return None

    def constraints(self) -> str:
        """The pins as a constraints file's text."""
        lines = [f"# what {self.file} pins, as constraints (written by noxops)"]
        return "\n".join([*lines, *(p.line() for p in self.pins)]) + "\n"


def _marker(value: Any) -> Optional[str]:
    """A package's marker in a lock: a string, uv's list of fork markers, or Poetry's table
    of markers by group; None when there is none."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        value = list(dict.fromkeys(v for v in value.values() if isinstance(v, str)))
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return value[0] if len(value) == 1 else " or ".join(f"({v})" for v in value)
    return None


def _valid(marker: str) -> bool:
    from packaging.markers import InvalidMarker, Marker

    try:
        Marker(marker)
    except InvalidMarker:
        return False
    return True


def _pins(file: str, packages: Iterable[Any]) -> tuple[Pin, ...]:
    """The releases of a lock's package list; a name locked at several versions keeps each
    with its marker, or is left out (resolved freely) when one has no usable marker."""
    by_name: dict[str, list[tuple[str, Any]]] = {}
    for package in packages:
        if not isinstance(package, Mapping):
            continue
        name, version = package.get("name"), package.get("version")
        source = package.get("source")
        where = source if isinstance(source, Mapping) else package
        if not isinstance(name, str) or not isinstance(version, str):
            continue
        if file == "poetry.lock" and isinstance(source, Mapping):
            if source.get("type") in _NOT_RELEASE[file]:
                continue
        elif any(key in where for key in _NOT_RELEASE[file]):
            continue
        by_name.setdefault(_norm(name), []).append((version, package.get(_MARKER_KEY[file])))
    pins: list[Pin] = []
    for name, entries in sorted(by_name.items()):
        if len({version for version, _ in entries}) == 1:
            pins.append(Pin(name, entries[0][0]))
            continue
        markers = [_marker(raw) for _, raw in entries]
        if all(m is not None and _valid(m) for m in markers):
            pins += [Pin(name, v, m) for (v, _), m in zip(entries, markers)]
    return tuple(pins)


def read(root: Path) -> Optional[Lock]:
    """The project's lock (the first of :data:`LOCK_FILES` it has), or None. A lock that
    cannot be read is a :class:`~noxops.errors.ConfigError` naming it, in one line."""
    for file in LOCK_FILES:
        path = root / file
        try:
            stat = path.stat()
        except OSError:
            continue
        key = (stat.st_mtime_ns, stat.st_size)
        cached = _cache.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        packages = read_toml(path).get("package", [])
        lock = Lock(file, _pins(file, packages if isinstance(packages, list) else []))
        _cache[path] = (key, lock)
        return lock
    return None


def constraints_file(lock: Lock) -> Path:
    """The lock's constraints, as a file named by its content in a per-user folder of the
    temporary folder (the same pins are the same file, so an environment's fingerprint only
    changes with them). Refuses a folder that is not the user's own."""
    text = lock.constraints()
    uid = os.getuid() if hasattr(os, "getuid") else 0
    folder = Path(tempfile.gettempdir()) / f"noxops-locks-{uid}"
    folder.mkdir(mode=0o700, exist_ok=True)
    if folder.is_symlink() or (hasattr(os, "getuid") and folder.stat().st_uid != uid):
        raise NoxopsError(
            f"{folder} is not this user's own folder; remove it (noxops writes the constraints "
            f"of {lock.file} there)"
        )
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    path = folder / f"{lock.file.replace('.', '-')}-{digest}.txt"
    if not path.is_file():
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    return path


def constraint_args(root: Path) -> list[str]:
    """``["-c", <file>]`` installing what the project's lock pins; empty without a lock."""
    lock = read(root)
    if lock is None or not lock.pins:
        return []
    return ["-c", str(constraints_file(lock))]
