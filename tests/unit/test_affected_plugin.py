"""noxops's pytest plugin and the coverage module it calls are real modules in
``noxops/_inject/``, copied into the session's environment: they name the environment
variables as noxops.incremental.affected does, and import without noxops (which the project's
environment may lack)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from support.plugin import write_plugin

from noxops.incremental import affected

INJECT = Path(affected.__file__).parents[1] / "_inject"


def _constants(path: Path) -> dict[str, object]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def test_the_plugin_names_the_variables_as_noxops_does() -> None:
    names = {k: v for k, v in vars(affected).items() if k.endswith("_ENV")}
    assert len(names) == 5
    plugin = _constants(INJECT / f"{affected.PLUGIN}.py")
    assert {k: plugin.get(k) for k in names} == names
    imports = {
        alias.name
        for node in ast.walk(ast.parse((INJECT / f"{affected.PLUGIN}.py").read_text("utf-8")))
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert affected.COVERAGE_MODULE in imports


def test_the_copies_import_without_noxops(tmp_path: Path) -> None:
    folder = write_plugin(tmp_path / "plugins")
    assert sorted(p.name for p in folder.iterdir()) == [
        f"{affected.COVERAGE_MODULE}.py",
        f"{affected.PLUGIN}.py",
    ]
    for copy in folder.iterdir():
        assert copy.read_bytes() == (INJECT / copy.name).read_bytes()
    code = (
        "import importlib.abc, sys\n"
        "class NoNoxops(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'noxops' or name.startswith('noxops.'):\n"
        "            raise ImportError('noxops is not installed here')\n"
        "sys.meta_path.insert(0, NoNoxops())\n"
        f"import {affected.PLUGIN}, {affected.COVERAGE_MODULE}\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=folder
    )
    assert proc.returncode == 0, proc.stderr
