"""An install's fingerprint reads ``pyproject.toml`` with the reader ``config.project`` comes
from (``noxops.project.pyproject.read_toml``), not a second one of its own (issue #27 item 7): what
that reader refuses counts by its bytes, the deeply nested file too (the second reader crashed on
it with a RecursionError, out of ``session.install``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from noxops.errors import ConfigError
from noxops.incremental import fingerprint
from noxops.project.pyproject import read_toml

DEEP = '[project]\nname = "deep"\nv = ' + "[" * 5000 + "]" * 5000 + "\n"


def test_a_file_the_reader_refuses_counts_by_its_bytes(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(DEEP, encoding="utf-8")
    with pytest.raises(ConfigError, match="nested too deeply"):
        read_toml(path)
    first = fingerprint.project_parts(tmp_path)["pyproject.toml"]
    path.write_text(DEEP.replace("deep", "other"), encoding="utf-8")
    assert fingerprint.project_parts(tmp_path)["pyproject.toml"] != first


def test_what_the_reader_reads_counts_by_content(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "a"\n\n[tool.ruff]\nline-length = 99\n', encoding="utf-8")
    first = fingerprint.project_parts(tmp_path)["pyproject.toml"]
    # The same TOML written otherwise (CRLF, a comment) and a linter's table: the same key.
    path.write_bytes(b'# x\r\n[project]\r\nname = "a"\r\n\r\n[tool.ruff]\r\nline-length = 1\r\n')
    assert fingerprint.project_parts(tmp_path)["pyproject.toml"] == first
    assert first == fingerprint.digest({"project": {"name": "a"}, "tool": {}})
