"""Finding the matrix Pythons already on this machine, without downloading anything.

Looked in, in order: ``PATH``; pyenv's versions folder (``$PYENV_ROOT/versions/*/bin``, which
holds every installed version even when the shims expose only one); uv-managed Pythons
(``$UV_PYTHON_INSTALL_DIR`` or uv's data folder); the usual system locations. The folders
found are put on ``PATH`` for the nox process so that nox and uv pick the same interpreters.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Interpreter", "candidate_dirs", "current", "expose", "find", "find_all"]

_VERSION_DIR = re.compile(r"^(?:cpython-)?(\d+)\.(\d+)(?:\.\d+)?")


@dataclass(frozen=True)
class Interpreter:
    """A Python found on this machine."""

    version: str  # major.minor
    executable: Path
    source: str  # "PATH", "pyenv", "uv", "system"


def _pyenv_root(env: Mapping[str, str]) -> Path:
    return Path(env.get("PYENV_ROOT") or Path.home() / ".pyenv")


def _uv_dirs(env: Mapping[str, str]) -> list[Path]:
    if env.get("UV_PYTHON_INSTALL_DIR"):
        return [Path(env["UV_PYTHON_INSTALL_DIR"])]
    data = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return [Path(data) / "uv" / "python"]


def candidate_dirs(env: Mapping[str, str] | None = None) -> list[tuple[str, Path, str | None]]:
    """``(source, bin_dir, version_hint)`` for every place a Python may live, in search order."""
    env = os.environ if env is None else env
    found: list[tuple[str, Path, str | None]] = [
        ("PATH", Path(p), None) for p in env.get("PATH", "").split(os.pathsep) if p
    ]
    for source, base in [
        ("pyenv", _pyenv_root(env) / "versions"),
        *[("uv", d) for d in _uv_dirs(env)],
    ]:
        if not base.is_dir():
            continue
        for child in sorted(base.iterdir()):
            match = _VERSION_DIR.match(child.name)
            if match and (child / "bin").is_dir():
                found.append((source, child / "bin", f"{match[1]}.{match[2]}"))
    found += [
        ("system", Path(p), None) for p in ("/usr/local/bin", "/usr/bin", "/opt/homebrew/bin")
    ]
    return found


def _is_shim(path: Path) -> bool:
    return "shims" in path.parts


def find(version: str, env: Mapping[str, str] | None = None) -> Interpreter | None:
    """The first ``pythonX.Y`` for ``version`` that is a real executable (not a pyenv shim)."""
    for source, directory, hint in candidate_dirs(env):
        if hint is not None and hint != version:
            continue
        exe = directory / f"python{version}"
        if exe.is_file() and os.access(exe, os.X_OK) and not _is_shim(directory):
            # The real file: PATH may already hold our own link folder (a nox -j child
            # inherits it), and linking a link to itself would make a loop.
            return Interpreter(version, Path(os.path.realpath(exe)), source)
    return None


def find_all(
    versions: Iterable[str], env: Mapping[str, str] | None = None
) -> dict[str, Interpreter | None]:
    return {v: find(v, env) for v in versions}


def expose(
    found: Mapping[str, Interpreter | None],
    env: MutableMapping[str, str] | None = None,
    link_dir: Path | None = None,
) -> Path | None:
    """Make each found interpreter answer to ``pythonX.Y`` on ``PATH``.

    Only version-named links are exposed (in a folder of links put first on ``PATH``), so
    ``python``, ``pip`` and the tools of those installations do not shadow the user's own.
    The default folder is named after the interpreters it links, so runs that found other
    interpreters (another PATH, another checkout's environment) never repoint each other's
    links. Returns the folder, or ``None`` when nothing was found.
    """
    target: MutableMapping[str, str] = os.environ if env is None else env
    interps = [i for i in found.values() if i is not None]
    if not interps:
        return None
    if link_dir is None:
        cache = target.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        chosen = "\n".join(sorted(f"{i.version}={i.executable}" for i in interps))
        key = hashlib.sha256(chosen.encode()).hexdigest()[:12]
        link_dir = Path(cache) / "noxops" / f"pythons-{key}"
    link_dir.mkdir(parents=True, exist_ok=True)
    for interp in interps:
        link = link_dir / f"python{interp.version}"
        if link.is_symlink() and link.readlink() == interp.executable:
            continue
        tmp = link_dir / f".{link.name}.{os.getpid()}"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(interp.executable)
        tmp.replace(link)  # atomic, so concurrent nox runs never see a missing link
    rest = [p for p in target.get("PATH", "").split(os.pathsep) if p and p != str(link_dir)]
    target["PATH"] = os.pathsep.join([str(link_dir), *rest])
    return link_dir


def current() -> str:
    """major.minor of the running interpreter."""
    return f"{sys.version_info[0]}.{sys.version_info[1]}"
