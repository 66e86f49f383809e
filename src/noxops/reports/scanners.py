"""The reports of the code scanners: ruff (``--output-format=json``), flake8 (its ``default``
format), bandit (``-f json``), pylint (``--output-format=json2``, or the older ``json``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from noxops.reports.files import display, read_json, read_text, relative
from noxops.reports.model import Finding, ReadProblem

__all__ = ["BANDIT_RANK", "read_bandit", "read_flake8", "read_pylint", "read_ruff"]

BANDIT_RANK = {"none": 0, "undefined": 0, "low": 1, "medium": 2, "high": 3}


def _require(item: Any, keys: tuple[str, ...], shown: str, index: int) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ReadProblem(shown, f"entry {index} is {type(item).__name__}, not an object")
    missing = [k for k in keys if k not in item]
    if missing:
        raise ReadProblem(shown, f"entry {index} has no {', '.join(missing)}")
    return item


def read_ruff(path: Path, root: Path) -> list[Finding]:
    """ruff's findings. An empty list (``[]``) means ruff found nothing."""
    shown = display(path, root)
    if read_text(path, root).strip() == "[]":
        return []
    data = read_json(path, root, expect=list)
    findings = []
    for i, item in enumerate(data):
        entry = _require(item, ("filename", "message"), shown, i)
        location = entry.get("location") or {}
        code = entry.get("code") or "syntax-error"
        findings.append(
            Finding(
                tool="ruff",
                rule=str(code),
                message=str(entry["message"]),
                path=relative(str(entry["filename"]), root),
                line=int(location.get("row") or 1),
                column=int(location.get("column") or 0),
                level="error",
                url=str(entry.get("url") or ""),
            )
        )
    return findings


# flake8's default format: ``path:row:col: CODE text``.
_FLAKE8_LINE = re.compile(
    r"^(?P<path>.+?):(?P<row>\d+):(?P<col>\d+): (?P<code>[A-Z]+\d*) (?P<text>.*)$"
)


def read_flake8(path: Path, root: Path) -> list[Finding]:
    """flake8's findings (``--format=default --output-file``). flake8 creates the file when it
    starts, so an empty one means it found nothing; other lines in it (``--statistics``,
    ``--show-source`` from the project's settings) are not findings and are left out."""
    if path.is_file() and path.stat().st_size == 0:
        return []
    findings = []
    for line in read_text(path, root).splitlines():
        match = _FLAKE8_LINE.match(line)
        if match:
            findings.append(
                Finding(
                    tool="flake8",
                    rule=match["code"],
                    message=match["text"],
                    path=relative(match["path"], root),
                    line=int(match["row"]),
                    column=int(match["col"]),
                    level="error",
                )
            )
    return findings


# pylint's message types, as report levels: only fatal and error are errors.
_PYLINT_LEVEL = {"fatal": "error", "error": "error", "warning": "warning"}


def read_pylint(path: Path, root: Path) -> list[Finding]:
    """pylint's findings, from ``json2`` (``{"messages": [...]}``) or the older ``json`` list."""
    shown = display(path, root)
    data = read_json(path, root, expect=object)
    if isinstance(data, dict):
        if not isinstance(data.get("messages"), list):
            raise ReadProblem(shown, "not a pylint json2 report (no 'messages' list)")
        data = data["messages"]
    if not isinstance(data, list):
        raise ReadProblem(shown, f"expected pylint's JSON messages, found {type(data).__name__}")
    findings = []
    for i, item in enumerate(data):
        entry = _require(item, ("path", "message"), shown, i)
        rule = entry.get("messageId") or entry.get("message-id") or "?"
        symbol = entry.get("symbol") or ""
        kind = str(entry.get("type") or "")
        findings.append(
            Finding(
                tool="pylint",
                rule=str(rule),
                message=f"{entry['message']} ({symbol})" if symbol else str(entry["message"]),
                path=relative(str(entry["path"]), root),
                line=int(entry.get("line") or 1),
                column=int(entry.get("column") or 0) + 1,
                level="error" if _PYLINT_LEVEL.get(kind) == "error" else "warning",
                severity=kind,
            )
        )
    return findings


def read_bandit(path: Path, root: Path) -> tuple[list[Finding], list[str]]:
    """bandit's findings (severity in ``Finding.severity``) and the files it could not scan."""
    shown = display(path, root)
    data = read_json(path, root)
    if "results" not in data:
        raise ReadProblem(shown, "not a bandit JSON report (no 'results')")
    if not isinstance(data["results"], list):
        raise ReadProblem(shown, "'results' is not a list")
    findings = []
    for i, item in enumerate(data["results"]):
        entry = _require(
            item, ("filename", "line_number", "test_id", "issue_text", "issue_severity"), shown, i
        )
        findings.append(
            Finding(
                tool="bandit",
                rule=str(entry["test_id"]),
                message=f"{entry['issue_text']} (severity {str(entry['issue_severity']).lower()}"
                f", confidence {str(entry.get('issue_confidence', '?')).lower()})",
                path=relative(str(entry["filename"]), root),
                line=int(entry["line_number"] or 1),
                column=int(entry.get("col_offset") or 0) + 1,
                level="error",
                severity=str(entry["issue_severity"]).lower(),
                url=str(entry.get("more_info") or ""),
            )
        )
    errors = [
        f"{relative(str(e.get('filename', '?')), root)}: {e.get('reason', '?')}"
        for e in data.get("errors") or []
        if isinstance(e, dict)
    ]
    return findings, errors
