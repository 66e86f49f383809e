#!/usr/bin/env python3
"""Set up this repository's development environment and run its two everyday commands.

    python3 scripts/dev.py test       # the test suite (pytest over tests/)
    python3 scripts/dev.py pipeline   # the whole local pipeline: nox, on this repository

Both create .venv (with nox, uv and the `dev` dependency group) when it is missing or
pyproject.toml changed since it was made; nothing needs installing by hand first. Extra
arguments are passed on to pytest or nox.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".noxops-dev-stamp"


def _run(*argv: str | Path) -> None:
    print("+", " ".join(str(a) for a in argv), flush=True)
    subprocess.run([str(a) for a in argv], check=True, cwd=ROOT)


def ensure_venv() -> None:
    if sys.version_info < (3, 10):
        sys.exit(f"scripts/dev.py needs Python 3.10+ (nox does); this is {sys.version.split()[0]}")
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.is_file() and STAMP.read_text() == digest:
        return
    if not (BIN / "python").exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    # pip 25.1 is the first to install PEP 735 dependency groups (--group).
    _run(BIN / "python", "-m", "pip", "install", "-q", "--upgrade", "pip>=25.1")
    _run(BIN / "python", "-m", "pip", "install", "-q", "-e", ".", "--group", "dev")
    STAMP.write_text(digest)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"test", "pipeline"}:
        print(__doc__)
        return 2
    ensure_venv()
    command, rest = argv[0], argv[1:]
    os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    if command == "test":
        argv_run = [str(BIN / "python"), "-m", "pytest", *rest]
    else:
        argv_run = [str(BIN / "nox"), *rest]
    print("+", " ".join(argv_run), flush=True)
    return subprocess.call(argv_run, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
