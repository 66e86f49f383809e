"""Environment fingerprints: reuse a session's environment only while it is still right.

nox reuses environments (``reuse_venv=True``) but never notices that what one was built from
changed. noxops records, in the environment folder, a fingerprint of

- the *base*: the interpreter the session asks for (its real path, size and modification
  time), the venv backend, the noxops version and the installer settings in the environment
  (``PIP_*``/``UV_*`` index, constraint and find-links variables, hashed, never printed);
- every ``session.install(...)`` call, in order: its arguments, and for arguments that name
  local things, their content: the project's ``pyproject.toml`` (without
  ``[dependency-groups]``, whose requirements arrive as arguments, and without the tool
  tables of linters and test runners), ``setup.py``/``setup.cfg`` and its lock files; the
  files given to ``-r``/``-c``; and for a non-editable local install, the source tree.

A warm run whose calls all match installs nothing at all. The first call that differs (or a
changed base) recreates the environment and replays the calls before it, so an environment
never keeps a stale or removed dependency. An install that fails or is interrupted leaves
the record short, so the next run starts clean.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from noxops.errors import ConfigError
from noxops.project.pyproject import read_toml
from noxops.runtime.distribution import __version__

__all__ = [
    "ENV_FILE",
    "LOCK_FILES",
    "EnvRecord",
    "base_parts",
    "digest",
    "file_digests",
    "install_key",
    "installed_distributions",
    "project_parts",
    "tree_digest",
]

ENV_FILE = ".noxops-env.json"
FORMAT = 1
LOCK_FILES = (
    "uv.lock",
    "poetry.lock",
    "pdm.lock",
    "Pipfile.lock",
    "pylock.toml",
    "setup.py",
    "setup.cfg",
)
_LOCK_GLOBS = ("requirements*.txt", "requirements/*.txt", "constraints*.txt", "pylock.*.toml")
# pyproject tables that configure tools, not what gets installed.
_TOOL_TABLES = frozenset(
    {
        "noxops",
        "black",
        "isort",
        "ruff",
        "mypy",
        "pytest",
        "coverage",
        "bandit",
        "pylint",
        "pyright",
        "codespell",
        "tox",
        "nox",
    }
)
_INSTALLER_ENV = (
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_CONSTRAINT",
    "PIP_FIND_LINKS",
    "PIP_NO_INDEX",
    "PIP_PRE",
    "UV_INDEX",
    "UV_INDEX_URL",
    "UV_DEFAULT_INDEX",
    "UV_EXTRA_INDEX_URL",
    "UV_CONSTRAINT",
    "UV_OVERRIDE",
    "UV_FIND_LINKS",
    "UV_PRERELEASE",
    "UV_RESOLUTION",
    "UV_EXCLUDE_NEWER",
)
# Caches and environments: skipped wherever they are.
_SKIP_DIRS = frozenset(
    {
        ".git",
        ".nox",
        ".tox",
        ".venv",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "node_modules",
    }
)
# The project's build output and report files: skipped at the root only, since a package may
# have subpackages of these names (noxops.image, noxops.reports) whose files are sources.
_ROOT_OUTPUT_DIRS = frozenset({"build", "dist", "reports"})


def digest(data: Any) -> str:
    """A stable sha256 of JSON-able ``data``."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "missing"


def _skipped(name: str) -> bool:
    """Caches, environments and build output that appear untracked but are not inputs.

    ``name`` is relative to the root the files are listed from."""
    parts = name.split("/")
    return (
        name.endswith((".pyc", ".pyo"))
        or any(p in _SKIP_DIRS or p.endswith(".egg-info") for p in parts)
        or (len(parts) > 1 and parts[0] in _ROOT_OUTPUT_DIRS)
        or parts[-1].startswith(".coverage")
    )


def _skipped_dir(path: Path, root: Path) -> bool:
    """Caches and environments of any name (virtualenvs have a pyvenv.cfg) anywhere under
    ``root``; build output only in ``root`` itself."""
    return (
        path.name in _SKIP_DIRS
        or path.name.endswith(".egg-info")
        or os.path.relpath(path, root) in _ROOT_OUTPUT_DIRS
        or (path / "pyvenv.cfg").is_file()
        or (path / "CACHEDIR.TAG").is_file()
    )


def _listed_files(root: Path, paths: Sequence[str]) -> list[str] | None:
    """Files git knows under ``paths`` (tracked, or untracked and not ignored); None if no git.

    One ``git ls-files`` lists both, each tagged (``-t``: ``H`` tracked, ``?`` untracked), so
    caches and build output are skipped among the untracked only."""
    try:
        listing = ["ls-files", "-z", "-t", "--cached", "--others", "--exclude-standard"]
        out = subprocess.run(
            ["git", *listing, "--", *paths],
            cwd=root,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    found: set[str] = set()
    for entry in out.decode("utf-8", "surrogateescape").split("\0"):
        tag, _, name = entry.partition(" ")
        if name and (tag != "?" or not _skipped(name)):
            found.add(name)
    return sorted(found)


def _walked_files(root: Path, paths: Sequence[str]) -> list[str]:
    found: set[str] = set()
    for rel in paths:
        start = root / rel
        if start.is_file():
            found.add(Path(os.path.relpath(start, root)).as_posix())
            continue
        for folder, dirs, files in os.walk(start):
            dirs[:] = [d for d in dirs if not _skipped_dir(Path(folder) / d, root)]
            for name in files:
                relative = Path(os.path.relpath(Path(folder) / name, root)).as_posix()
                if not _skipped(relative):
                    found.add(relative)
    return sorted(found)


def file_digests(root: Path, paths: Sequence[str] = (".",)) -> dict[str, str]:
    """The sha256 of each file under ``paths`` (the files :func:`tree_digest` hashes)."""
    files = _listed_files(root, paths)
    if files is None:
        files = _walked_files(root, paths)
    return {name: _file_digest(root / name) for name in files}


def tree_digest(
    root: Path, paths: Sequence[str] = (".",), exclude: Iterable[str] = ()
) -> tuple[str, int]:
    """sha256 over the names and contents of the files under ``paths``, and how many there are.

    Uses ``git ls-files`` when ``root`` is in a git work tree (so ignored files do not count),
    else walks the folders skipping caches, environments and (at the root) build output.
    """
    files = _listed_files(root, paths)
    if files is None:
        files = _walked_files(root, paths)
    names = {e.rstrip("/") for e in exclude if e}
    prefixes = tuple(f"{n}/" for n in names)
    files = [f for f in files if f not in names and not f.startswith(prefixes)]
    h = hashlib.sha256()
    for name in files:
        h.update(name.encode("utf-8", "surrogateescape") + b"\0")
        h.update(_file_digest(root / name).encode("ascii") + b"\n")
    return h.hexdigest(), len(files)


def _load_toml(path: Path) -> dict[str, Any]:
    """``path`` parsed by the reader ``config.project`` comes from; a file it refuses counts
    by its bytes. Read when the install is fingerprinted, not taken from the configuration
    loaded earlier: the file may have changed since, and it may be another folder's."""
    try:
        return read_toml(path)
    except ConfigError:
        return {"unreadable": _file_digest(path)}


def project_parts(project_dir: Path) -> dict[str, Any]:
    """What installing the project in ``project_dir`` depends on (besides its source)."""
    parts: dict[str, Any] = {}
    pyproject = project_dir / "pyproject.toml"
    if pyproject.is_file():
        data = dict(_load_toml(pyproject))
        data.pop("dependency-groups", None)
        tool = data.get("tool")
        if isinstance(tool, dict):
            data["tool"] = {k: v for k, v in tool.items() if k not in _TOOL_TABLES}
        parts["pyproject.toml"] = digest(data)
    for name in LOCK_FILES:
        if (project_dir / name).is_file():
            parts[name] = _file_digest(project_dir / name)
    for pattern in _LOCK_GLOBS:
        for path in sorted(project_dir.glob(pattern)):
            parts[path.relative_to(project_dir).as_posix()] = _file_digest(path)
    return parts


def _interpreter_parts(interpreter: str) -> dict[str, Any]:
    real = os.path.realpath(interpreter)
    try:
        st = Path(real).stat()
    except OSError:
        return {"path": real, "stat": "missing"}
    return {"path": real, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def base_parts(
    interpreter: str, backend: str, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The environment-wide part of the fingerprint."""
    env = os.environ if env is None else env
    installer = {k: digest(env[k]) for k in _INSTALLER_ENV if env.get(k)}
    return {
        "format": FORMAT,
        "noxops": __version__,
        "interpreter": _interpreter_parts(interpreter),
        "backend": backend,
        "installer_env": installer,
    }


def _local_dir(arg: str, cwd: Path) -> Path | None:
    """The folder an install argument names (``.``, ``./pkg[extra]``, ``/abs/path``), if any."""
    if arg.startswith("-") or "://" in arg or " @ " in arg:
        return None
    path_part = arg.split("[", 1)[0]
    if not path_part or not (
        path_part.startswith((".", "/", "~")) or os.sep in path_part or "/" in path_part
    ):
        return None
    path = (cwd / Path(path_part).expanduser()).resolve()
    return path if path.is_dir() else None


def install_key(args: Sequence[str], kwargs: Mapping[str, Any], cwd: Path) -> dict[str, Any]:
    """What one ``session.install(*args, **kwargs)`` call depends on."""
    key: dict[str, Any] = {
        "args": list(args),
        "kwargs": {k: kwargs[k] for k in sorted(kwargs) if k in {"env", "include_outer_env"}},
    }
    local: dict[str, Any] = {}
    previous = ""
    for arg in args:
        if previous in {"-r", "--requirement", "-c", "--constraint"} or arg.startswith(
            ("--requirement=", "--constraint=")
        ):
            name = arg.split("=", 1)[1] if arg.startswith("--") else arg
            local[f"file:{name}"] = _file_digest(cwd / name)
        else:
            folder = _local_dir(arg, cwd)
            if folder is not None:
                entry = project_parts(folder)
                if previous not in {"-e", "--editable"}:
                    # A built copy: its sources count (pyproject's relevant parts are above).
                    entry["source"] = tree_digest(folder, exclude=["pyproject.toml"])[0]
                local[f"project:{arg}"] = entry
        previous = arg
    key["local"] = local
    return key


def installed_distributions(location: str | os.PathLike[str]) -> list[str]:
    """``name==version`` of every distribution in an environment, read from its metadata dirs."""
    found: list[str] = []
    sites = sorted(Path(location).glob("lib/python*/site-packages"))
    for site in [*sites, Path(location) / "Lib" / "site-packages"]:
        if not site.is_dir():
            continue
        for entry in site.iterdir():
            if entry.suffix == ".dist-info":
                found.append(entry.stem.replace("-", "==", 1))
    return sorted(found)


@dataclass
class EnvRecord:
    """The fingerprint stored in an environment folder."""

    base: str
    installs: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, location: str | os.PathLike[str]) -> Optional[EnvRecord]:
        path = Path(location) / ENV_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(base=str(data["base"]), installs=[str(i) for i in data["installs"]])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, location: str | os.PathLike[str]) -> None:
        path = Path(location) / ENV_FILE
        tmp = path.with_suffix(".tmp")
        data = {"base": self.base, "installs": self.installs}
        tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        tmp.replace(path)

    @property
    def key(self) -> str:
        return digest({"base": self.base, "installs": self.installs})
