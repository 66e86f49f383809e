"""One place picks the TOML parser (``noxops.project.textfile.tomllib``: the standard library's on
3.11+, else ``tomli``); every other module imports it from there (issue #27 item 7)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from noxops.project import textfile

SRC = Path(__file__).resolve().parents[2] / "src" / "noxops"
# ci/command.py still picks its own: another change owns that file (issue #27 item 7).
NOT_YET = {"ci/command.py"}


def _picks_a_toml_parser(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or ""]
        else:
            continue
        if any(n.split(".")[0] in ("tomllib", "tomli") for n in names):
            return True
    return False


def test_only_textfile_imports_tomllib_or_tomli() -> None:
    found = {p.relative_to(SRC).as_posix() for p in SRC.rglob("*.py") if _picks_a_toml_parser(p)}
    assert found - NOT_YET == {"project/textfile.py"}


def test_the_parser_is_the_one_for_this_python() -> None:
    assert textfile.tomllib.__name__ == ("tomllib" if sys.version_info >= (3, 11) else "tomli")
    assert textfile.tomllib.loads('a = "b"') == {"a": "b"}
