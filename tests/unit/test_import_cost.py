"""What a noxfile's ``noxops.sessions()`` imports: every nox process loads it (one per session
under ``nox -j``), so what only a report, a build or a service needs is imported when that
runs, never at start-up (issue #28 item 4). Checked on the module set, never on time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# What a noxfile imports needs nox, which runs on Python 3.10+ (3.9 runs noxops as a library).
pytest.importorskip("nox", reason="nox needs Python 3.10+")

# Third-party packages only some stages use (their environments have them, nox's may not).
HEAVY_PACKAGES = ("yaml", "docker", "testcontainers", "requests", "urllib3", "jinja2")
# What making the report needs (noxops report, the report stage): gathering every stage's files,
# the HTML page, SARIF, annotations, the terminal table. And the XML parser and decimal numbers,
# which only reading a report file and the coverage stage's threshold digits need.
AT_USE_ONLY = (
    "noxops.reports.collect",
    "noxops.reports.cobertura",
    "noxops.reports.github",
    "noxops.reports.gitlab",
    "noxops.reports.html",
    "noxops.reports.sarif",
    "noxops.reports.summary",
    "noxops.reports.terminal",
    "xml.etree",
    "decimal",
    "html",
)


def _imported_by(statement: str, cwd: Path) -> set[str]:
    """The modules a fresh interpreter imports for ``statement``: those it holds afterwards and
    did not before (under a measuring tool, coverage's ``patch = subprocess``, the interpreter
    starts with modules of that tool's own, which noxops did not ask for)."""
    code = (
        f"import sys\nbefore = set(sys.modules)\n{statement}\n"
        "print('\\n'.join(sorted(set(sys.modules) - before)))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True, text=True, check=True, timeout=300, cwd=cwd,
    )  # fmt: skip
    return set(proc.stdout.split())


def _under(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(f"{n}.") for n in names))


def test_registering_the_sessions_imports_no_heavy_package(tmp_path: Path) -> None:
    modules = _imported_by("import noxops.runtime.declare", tmp_path)
    assert "noxops.stages.report" in modules  # every stage is declared
    assert _under(modules, HEAVY_PACKAGES) == []


def test_registering_the_sessions_leaves_the_report_for_when_it_is_made(tmp_path: Path) -> None:
    modules = _imported_by("import noxops.runtime.declare", tmp_path)
    assert _under(modules, AT_USE_ONLY) == []
