"""The configuration reference is generated from the model and the committed copy is fresh."""

from __future__ import annotations

from pathlib import Path

import pytest

from noxops.cli import main
from noxops.commands.reference import render
from noxops.config import iter_options

ROOT = Path(__file__).resolve().parents[2]


def test_every_key_is_in_the_reference() -> None:
    text = render()
    for opt in iter_options():
        assert f"## `[{opt.section}]`" in text
        assert f"| `{opt.key}` | {opt.type} |" in text


def test_committed_reference_is_not_stale() -> None:
    committed = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == render(), "run `noxops reference --write` and commit docs/configuration.md"


def test_check_fails_on_a_stale_copy_and_write_fixes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "configuration.md"
    assert main(["reference", "--check", "--path", str(target)]) == 2  # missing: user error
    assert "does not exist" in capsys.readouterr().err
    assert main(["reference", "--write", "--path", str(target)]) == 0
    assert main(["reference", "--check", "--path", str(target)]) == 0
    target.write_text(target.read_text().replace("fail_under", "fail_over"))
    assert main(["reference", "--check", "--path", str(target)]) == 1
    out = capsys.readouterr().out
    assert "-| `fail_over`" in out and "+| `fail_under`" in out
    assert "is stale" in out
