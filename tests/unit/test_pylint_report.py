"""pylint's JSON (json2 and the older json) read into findings, and the advisory default a
stage declares for its check, which the configuration can still override."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from noxops.config import load
from noxops.reports.gate import apply_gate
from noxops.reports.model import Check, ReadProblem
from noxops.reports.scanners import read_pylint

MESSAGE = {
    "type": "convention",
    "symbol": "missing-function-docstring",
    "message": "Missing function or method docstring",
    "path": "src/calc/core.py",
    "line": 9,
    "column": 0,
}


@pytest.mark.parametrize(
    "data",
    [
        {"messages": [{**MESSAGE, "messageId": "C0116"}], "statistics": {}},
        [{**MESSAGE, "message-id": "C0116"}],
    ],
)
def test_both_json_formats(tmp_path: Path, data: object) -> None:
    path = tmp_path / "pylint.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    [finding] = read_pylint(path, tmp_path)
    assert (finding.tool, finding.rule, finding.path, finding.line, finding.column) == (
        "pylint",
        "C0116",
        "src/calc/core.py",
        9,
        1,
    )
    assert finding.level == "warning" and finding.severity == "convention"
    assert finding.message == "Missing function or method docstring (missing-function-docstring)"


def test_not_a_pylint_report(tmp_path: Path) -> None:
    path = tmp_path / "pylint.json"
    path.write_text('{"results": []}', encoding="utf-8")
    with pytest.raises(ReadProblem, match="not a pylint json2 report"):
        read_pylint(path, tmp_path)


def test_the_declared_advisory_mode_is_a_default_the_configuration_overrides(
    tmp_path: Path,
) -> None:
    def checks() -> list[Check]:
        return [Check("pylint", "failed", "2 pylint finding(s)", mode="advisory")]

    _, passed, verdict = apply_gate(checks(), load(tmp_path))
    assert passed and verdict.endswith("advisory: pylint")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.noxops.report]\nchecks = { pylint = "blocking" }\n', encoding="utf-8"
    )
    _, passed, verdict = apply_gate(checks(), load(tmp_path))
    assert not passed and "failed: pylint" in verdict
