"""The shape of the package: no import cycles, and each stage fact written once.

Imports are read from the sources (also those inside functions, which hide ties just as
well), except those under ``if TYPE_CHECKING:``, which never run.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from noxops.stages import STAGES

SRC = Path(__file__).resolve().parents[2] / "src" / "noxops"


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The noxops modules ``path`` imports when it runs."""
    found: set[str] = set()

    class Visitor(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                for child in node.orelse:
                    self.visit(child)
                return
            self.generic_visit(node)

        def visit_Import(self, node: ast.Import) -> None:
            found.update(a.name for a in node.names if a.name in modules)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            if node.level or not node.module or node.module not in modules:
                return
            submodules = [f"{node.module}.{a.name}" for a in node.names]
            if any(s not in modules for s in submodules):  # a name defined in the module
                found.add(node.module)
            found.update(s for s in submodules if s in modules)

    Visitor().visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_no_import_cycles() -> None:
    modules = _modules()
    graph = {name: _imports(path, modules) - {name} for name, path in modules.items()}
    assert _cycles(graph) == []


def test_each_report_file_name_is_written_once() -> None:
    """A stage's report files are named in its declaration, and nowhere else in noxops.

    Except coverage.py's data file (``.coverage``, coverage.py's own default name): the
    fingerprints and the image's build context also leave it out of any project."""
    sources = {p: p.read_text(encoding="utf-8") for p in SRC.rglob("*.py")}
    names = {
        out.file
        for st in STAGES.values()
        for out in st.outputs
        if isinstance(out.file, str) and "{" not in out.file and out.kind != "coverage-data"
    }
    assert {"ruff.json", "mypy-junit.xml", "bandit.json", "junit-integration.xml"} <= names
    for name in sorted(names):
        literal = re.compile(rf"[\"']{re.escape(name)}[\"']")
        places = [p.relative_to(SRC) for p, text in sources.items() if literal.search(text)]
        counts = sum(len(literal.findall(text)) for text in sources.values())
        assert counts == 1, f"{name} is spelled {counts} times, in {places}"


def test_the_declarations_import_without_nox() -> None:
    """On Python 3.9 noxops is a library in test environments, where nox (3.10+) is absent:
    the stage declarations, the report, the CI model and the build and deploy runners must
    import without it. Only the layer that wraps running sessions needs nox."""
    code = (
        "import importlib.abc, sys\n"
        "class NoNox(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'nox' or name.startswith('nox.'):\n"
        "            raise ImportError('nox is not installed here')\n"
        "sys.meta_path.insert(0, NoNox())\n"
        "import noxops.stages, noxops.reports.collect, noxops.ci.model, noxops.doctor\n"
        "import noxops.build.runner, noxops.deploy.runner, noxops.changed, noxops.affected\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=SRC.parent
    )
    assert proc.returncode == 0, proc.stderr
