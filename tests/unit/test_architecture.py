"""The shape of the package: no import cycles, and each stage fact written once.

Imports are read from the sources (also those inside functions, which hide ties just as
well), except those under ``if TYPE_CHECKING:``, which never run.
"""

from __future__ import annotations

import ast
import pkgutil
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
        "import noxops.stages, noxops.reports.collect, noxops.ci.model, noxops.commands.doctor\n"
        "import noxops.image.runner, noxops.deploy.runner\n"
        "import noxops.incremental.changed, noxops.incremental.affected\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=SRC.parent
    )
    assert proc.returncode == 0, proc.stderr


# -- nox's internals: only in the seam ---------------------------------------------------------

SEAM = SRC / "runtime" / "noxapi.py"
# nox's documented API: the package itself (nox.session, nox.Session, nox.options, ...) and
# nox.project. Any other module of nox, and any name starting with "_", is nox's own business.
NOX_PUBLIC_MODULES = {"nox", "nox.project"}
NOX_INTERNAL_MODULES = {"registry", "command", "sessions", "manifest", "virtualenv", "logger"}


def _nox_submodules() -> set[str]:
    try:
        import nox
    except ImportError:  # Python 3.9: no nox; the names above still say what is internal
        return set(NOX_INTERNAL_MODULES)
    return NOX_INTERNAL_MODULES | {m.name for m in pkgutil.iter_modules(nox.__path__)}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _seam_internals() -> set[str]:
    """The private attribute names the seam reaches for on nox's objects (``_runner``,
    ``_queue``, ...), as attributes or as ``getattr``'s strings, minus the seam's own names."""
    tree = ast.parse(SEAM.read_text(encoding="utf-8"))
    own = {
        t.id
        for node in ast.walk(tree)
        if isinstance(node, (ast.Assign, ast.AnnAssign))
        for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(t, ast.Name)
    } | {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    names = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    names |= {
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }
    return {n for n in names if _private(n) and n.isidentifier()} - own


def _internal(dotted: str, submodules: set[str]) -> bool:
    """Whether ``dotted`` (``nox.registry._REGISTRY``) is past nox's public API."""
    parts = dotted.split(".")
    if parts[0] != "nox" or len(parts) == 1:
        return False
    return any(_private(p) for p in parts[1:]) or (
        ".".join(parts[:2]) not in NOX_PUBLIC_MODULES and parts[1] in submodules
    )


def _nox_imports(tree: ast.AST, submodules: set[str]) -> tuple[dict[str, str], list[str]]:
    """The names bound to nox's modules or names (local name: what it stands for), and the
    imports of internals."""
    bound: dict[str, str] = {}
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _internal(alias.name, submodules):
                    found.append(f"line {node.lineno}: import {alias.name}")
                if alias.name.split(".")[0] == "nox":
                    bound[alias.asname or "nox"] = alias.name if alias.asname else "nox"
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            for alias in node.names if node.module.split(".")[0] == "nox" else []:
                dotted = f"{node.module}.{alias.name}"
                if _internal(dotted, submodules):
                    found.append(f"line {node.lineno}: from {node.module} import {alias.name}")
                bound[alias.asname or alias.name] = dotted
    return bound, found


def _nox_internals(path: Path, submodules: set[str], seam_names: set[str]) -> list[str]:
    """Where ``path`` reaches into nox past its public API (imports under ``TYPE_CHECKING``
    count too: they tie the code to nox's internal types just the same)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bound, found = _nox_imports(tree, submodules)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            if node.attr in seam_names:
                found.append(f"line {node.lineno}: .{node.attr}")
                continue
            chain, value = [node.attr], node.value
            while isinstance(value, ast.Attribute):
                chain.insert(0, value.attr)
                value = value.value
            if isinstance(value, ast.Name) and value.id in bound:
                dotted = ".".join([bound[value.id], *chain])
                if _internal(dotted, submodules):
                    found.append(f"line {node.lineno}: {dotted}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in {"getattr", "setattr", "hasattr", "delattr"}
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in seam_names
        ):
            found.append(f"line {node.lineno}: {node.func.id}(..., {node.args[1].value!r})")
    return sorted(set(found))


def test_the_nox_internals_finder_finds_them(tmp_path: Path) -> None:
    """Each way in is seen; nox's public API is not."""
    code = tmp_path / "reach.py"
    code.write_text(
        "import nox\nimport nox.registry\nimport nox._options as opts\n"
        "from nox.command import CommandFailed\nfrom nox import sessions\n"
        "from nox.project import load_toml\nfrom nox import Session, session, options\n"
        "a = nox.registry._REGISTRY\nb = nox.options.sessions\nc = session._runner\n"
        "d = getattr(session, '_runner', None)\ne = nox.Session\nf = nox._parallel\n",
        encoding="utf-8",
    )
    assert _nox_internals(code, _nox_submodules(), {"_runner"}) == sorted(
        [
            "line 2: import nox.registry",
            "line 3: import nox._options",
            "line 4: from nox.command import CommandFailed",
            "line 5: from nox import sessions",
            "line 8: nox.registry",
            "line 8: nox.registry._REGISTRY",
            "line 10: ._runner",
            "line 11: getattr(..., '_runner')",
            "line 13: nox._parallel",
        ]
    )


def test_nox_internals_appear_only_in_the_seam() -> None:
    """noxops.runtime.noxapi is the one module that reaches past nox's public API (and checks what
    it reaches for once, at start-up); everything else asks it."""
    submodules, seam_names = _nox_submodules(), _seam_internals()
    assert {"_runner", "_queue", "_create_venv"} <= seam_names
    found = {
        str(path.relative_to(SRC)): where
        for path in sorted(SRC.rglob("*.py"))
        if path != SEAM and (where := _nox_internals(path, submodules, seam_names))
    }
    assert found == {}


# -- the CI stages: one list -------------------------------------------------------------------


def _name_lists(path: Path, names: set[str]) -> list[int]:
    """The lines of the tuples, lists and sets (``Literal[...]`` too) in ``path`` that spell
    every one of ``names``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return sorted(
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set))
        and names <= {e.value for e in node.elts if isinstance(e, ast.Constant)}
    )


def test_the_ci_stages_are_listed_once_and_every_list_agrees() -> None:
    """The CI stages are spelled in one place (noxops.ci.settings's ``CIStage``), which the stage
    declarations and the CI model both use; the Jenkins titles cover exactly those."""
    from typing import get_args

    from noxops.ci.jenkins import STAGE_TITLES
    from noxops.ci.settings import CI_STAGES, CIStage
    from noxops.stages import CI_ORDER

    assert CI_STAGES[0] == "quality" and "deploy" in CI_STAGES
    assert get_args(CIStage) == CI_STAGES
    assert CI_ORDER == CI_STAGES
    assert set(STAGE_TITLES) == set(CI_STAGES)
    assert {st.ci.stage for st in STAGES.values()} - {None} <= set(CI_STAGES)
    places = {
        str(path.relative_to(SRC)): lines
        for path in sorted(SRC.rglob("*.py"))
        if (lines := _name_lists(path, set(CI_STAGES)))
    }
    assert list(places) == ["ci/settings.py"], places
    assert len(places["ci/settings.py"]) == 1, places


# -- no module kept in a string --------------------------------------------------------------------

# Code kept in a string that noxops runs elsewhere, and why it stays a string: a real module
# would be a file to ship and read back for a few lines.
CODE_IN_STRINGS = {
    "image/sbom.py": "INSPECT: run with `python -c` by the image's own Python (no file there)",
    "stages/load.py": "locustfile(): the paths to GET written into a 10-line template",
}


def _code_in_strings(source: str) -> list[int]:
    """The lines of the string literals (f-strings too) in ``source`` that parse as a Python
    module with a ``def`` or an ``import``, of more than 5 lines that are not blank: code no
    linter or type checker reads (such a module belongs in ``noxops/_inject/``)."""
    found: list[int] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.JoinedStr):
            parts = (v.value if isinstance(v, ast.Constant) else "_" for v in node.values)
            text = "".join(str(p) for p in parts)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        else:
            continue
        if sum(1 for line in text.splitlines() if line.strip()) <= 5:
            continue
        try:
            code = ast.parse(text)
        except SyntaxError:
            continue
        kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Import, ast.ImportFrom)
        if any(isinstance(n, kinds) for n in ast.walk(code)):
            found.append(node.lineno)
    return found


def test_the_code_finder_finds_a_module_in_an_f_string() -> None:
    source = (
        'NAME = "X"\n'
        'SOURCE = f"""\\\nimport os\n\n\ndef get():\n    return os.environ.get("{NAME}")\n'
        '\n\ndef put(v):\n    os.environ["{NAME}"] = v\n    return v\n"""\n'
        'PROSE = """Six lines of prose:\nthey mention an import\nand a def,\nbut\n'
        'are not\ncode."""\n'
    )
    assert _code_in_strings(source) == [2]


def test_no_module_is_kept_in_a_string() -> None:
    """A module noxops writes into an environment (a pytest plugin, a script) is a real file
    in ``noxops/_inject/``, linted and type-checked, copied where it runs (noxops.runtime.inject).
    """
    held = {}
    for path in sorted(SRC.rglob("*.py")):
        lines = _code_in_strings(path.read_text(encoding="utf-8"))
        if lines:
            held[path.relative_to(SRC).as_posix()] = lines
    assert {k: v for k, v in held.items() if k not in CODE_IN_STRINGS} == {}
    assert set(CODE_IN_STRINGS) <= set(held)  # an exception that is gone leaves the list


# -- CI providers' variables: only in the providers ------------------------------------------

PROVIDERS_PACKAGE = SRC / "ci" / "providers"
# The renderers write each provider's pipeline file (the variables its steps set or read
# there); the providers delegate to them until a later change folds them in.
RENDERERS = {SRC / "ci" / name for name in ("github.py", "gitlab.py", "jenkins.py")}
# The variables the four detectors and their readers once spelled all over noxops.
CI_VARIABLES = {
    "GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL", "JENKINS_HOME", "GITHUB_OUTPUT",
    "GITHUB_STEP_SUMMARY", "CI_REGISTRY", "GITHUB_SHA", "CI_COMMIT_SHA", "GIT_COMMIT",
    "BUILD_URL",
}  # fmt: skip


def _variable_names(path: Path) -> set[str]:
    """The string constants of ``path`` that are a variable's name as a whole (``"CI_X"``, not
    words in a message or a docstring that mention ``$CI_X``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and re.fullmatch(r"[A-Z][A-Z0-9]*_[A-Z0-9_]+", node.value)
    }


def test_ci_provider_variables_are_read_only_by_the_providers() -> None:
    """Every CI system's variable is read in ``noxops.ci.providers``, by the provider that owns
    it; the rest of noxops asks the current provider (issue #27: four detectors disagreed)."""
    read = {
        name
        for path in PROVIDERS_PACKAGE.rglob("*.py")
        for name in _variable_names(path)
        if not name.startswith("NOXOPS_")
    }
    assert read >= CI_VARIABLES
    elsewhere = {
        path.relative_to(SRC).as_posix(): sorted(names)
        for path in sorted(SRC.rglob("*.py"))
        if PROVIDERS_PACKAGE not in path.parents
        and path not in RENDERERS
        and (names := _variable_names(path) & read)
    }
    assert elsewhere == {}


# -- the layout (issue #27 items 3-4; docs/architecture.md draws it) ------------------------

# The public face: what a noxfile, the command line and pytest reach, and what all share.
ROOT_MODULES = {
    "__init__", "__main__", "cli", "config", "errors", "masking", "pytest_plugin", "schema",
}  # fmt: skip
# Packages at the bottom: they build on these root modules only, so every other may use them.
BOTTOM = {"containers": {"errors", "masking", "schema"}, "project": {"errors", "masking"}}


def _package_imports() -> dict[str, set[str]]:
    """noxops's first-level package or root module of each module -> those it imports."""
    modules = _modules()

    def top(name: str) -> str:
        return name.split(".")[1] if "." in name else name

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        graph.setdefault(top(name), set()).update(
            top(i) for i in _imports(path, modules) if top(i) != top(name)
        )
    return graph


def test_at_most_eight_loose_modules_at_the_package_root() -> None:
    loose = {p.stem for p in SRC.glob("*.py")}
    assert loose <= ROOT_MODULES and len(ROOT_MODULES) <= 8, sorted(loose - ROOT_MODULES)


def test_the_bottom_packages_build_on_the_root_basics_only() -> None:
    graph = _package_imports()
    for package, allowed in BOTTOM.items():
        assert graph[package] <= allowed, (package, sorted(graph[package] - allowed))


def test_services_and_the_image_share_the_container_core_and_never_each_other() -> None:
    graph = _package_imports()
    assert "image" not in graph["services"] and "services" not in graph["image"]
    assert "containers" in graph["services"] and "containers" in graph["image"]


def test_only_the_command_line_reaches_the_commands() -> None:
    graph = _package_imports()
    assert {name for name, imported in graph.items() if "commands" in imported} == set()


def test_the_architecture_map_names_every_package() -> None:
    text = (SRC.parents[1] / "docs" / "architecture.md").read_text(encoding="utf-8")
    packages = {p.name for p in SRC.iterdir() if (p / "__init__.py").is_file()}
    assert packages, SRC
    missing = {name for name in packages if f"`{name}/`" not in text}
    assert not missing, f"docs/architecture.md does not describe {sorted(missing)}"
