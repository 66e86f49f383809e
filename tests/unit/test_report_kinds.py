"""Kinds of report file: each declared once (:func:`noxops.reports.outputs.kind`) with its reader
and how CI publishes it; the report and the CI model read the declaration, so a kind declared in
a project's own module needs no edit of noxops."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from noxops.ci.model import build_pipeline
from noxops.config import Config, load
from noxops.image.runner import SBOM, SMOKE_JUNIT
from noxops.reports.collect import build_report, findings
from noxops.reports.files import read_json
from noxops.reports.model import Finding
from noxops.reports.outputs import KINDS, Output, kind
from noxops.stages import CI, STAGES, Stage


def read_todos(path: Path, root: Path) -> list[Finding]:
    """A toy findings file: a JSON list of {"path", "line", "text"}."""
    return [
        Finding(tool="todo", rule="TODO", message=e["text"], path=e["path"], line=e["line"])
        for e in read_json(path, root, expect=list)
    ]


def _toy_stage(kind_name: str) -> Stage:
    return Stage(
        name="todo",
        func=lambda session, config: None,
        doc="List what is left to do.",
        outputs=(Output("todo.json", kind=kind_name, check="todo"),),
        ci=CI(stage="quality"),
    )


@pytest.fixture
def todo_kind() -> Iterator[str]:
    kind("todo", doc="TODO comments (JSON)", read=findings("todo", read_todos), publish="sarif")
    try:
        yield "todo"
    finally:
        KINDS.unregister("todo")


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("CI", "true")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "calc"\n', encoding="utf-8")
    (tmp_path / "reports").mkdir()
    return load(tmp_path)


def _check(config: Config, st: Stage) -> Any:
    report = build_report(config, {st.name: st})
    return next(c for c in report.checks if c.name == "todo")


def test_a_kind_declared_outside_noxops_is_read_by_its_reader(
    config: Config, todo_kind: str
) -> None:
    st = _toy_stage(todo_kind)
    todo = config.reports / "todo.json"
    todo.write_text(json.dumps([{"path": "src/calc.py", "line": 3, "text": "finish"}]))
    check = _check(config, st)
    assert (check.status, check.summary) == ("failed", "1 todo finding(s)")
    assert [(f.tool, f.path, f.line, f.message) for f in check.findings] == [
        ("todo", "src/calc.py", 3, "finish")
    ]
    todo.write_text("[]")
    assert _check(config, st).summary == "no todo findings"
    todo.write_text("{")  # the shared steps: a damaged file is said, never passed
    check = _check(config, st)
    assert check.status == "not-run" and "not valid JSON" in check.summary


def test_a_kind_declared_nowhere_is_said_not_dropped(config: Config) -> None:
    st = _toy_stage("tdoo")
    (config.reports / "todo.json").write_text("[]")
    check = _check(config, st)
    assert check.status == "not-run"
    assert check.summary == "not read: reports/todo.json is of kind 'tdoo', declared nowhere"


def test_ci_publishes_a_file_as_its_kind_says(config: Config, todo_kind: str) -> None:
    stages = {**STAGES.for_config(config), "todo": _toy_stage(todo_kind)}
    pipeline = build_pipeline(config, stages)
    assert [(r.kind, r.path) for r in pipeline.job("todo").reports] == [
        ("sarif", "reports/todo.json")
    ]
    assert [(r.kind, r.path) for r in pipeline.job("type").reports] == [
        ("junit", "reports/mypy-junit.xml")
    ]


def test_every_file_noxops_writes_is_of_a_declared_kind() -> None:
    outputs = [out for st in STAGES.values() for out in st.outputs] + [SBOM, SMOKE_JUNIT]
    assert {out.kind for out in outputs} - set(KINDS) == set()
    published = {name: k.publish for name, k in KINDS.items() if k.publish is not None}
    assert published == {
        "junit": "junit",
        "mypy": "junit",
        "coverage": "coverage",
        "codequality": "codequality",
        "sarif": "sarif",
    }
    read = {name for name, k in KINDS.items() if k.read is not None}
    assert read == {
        "junit", "mypy", "coverage", "ruff", "flake8", "pylint", "bandit", "audit",
        "manifest", "load",
    }  # fmt: skip
    with pytest.raises(ValueError, match="report file kind 'junit' is already declared"):
        kind("junit", doc="again")
    assert dataclasses.is_dataclass(KINDS["junit"])
