"""What the report is made of: findings, one result per check, and the whole report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Optional

__all__ = [
    "Check",
    "Finding",
    "Level",
    "ReadProblem",
    "Report",
    "Status",
]

# passed: ran and met its thresholds; failed: ran and did not; not-run: no (readable) results;
# not-audited: the audit ran but could not check everything; skipped: not applicable here.
Status = Literal["passed", "failed", "not-run", "not-audited", "skipped"]
Level = Literal["error", "warning", "note"]


class ReadProblem(Exception):
    """A report file that is missing, empty, truncated or malformed: ``could not read X: why``."""

    def __init__(self, path: str, why: str) -> None:
        self.path = path
        self.why = why
        super().__init__(f"could not read {path}: {why}")


@dataclass
class Finding:
    """One problem a tool found at a place in the code."""

    tool: str  # ruff, mypy, bandit, pytest
    rule: str  # F401, return-value, B602, the test's id
    message: str
    path: str  # relative to the project root, with forward slashes
    line: int = 1
    column: int = 0  # 1-based; 0 when unknown
    level: Level = "error"
    severity: str = ""  # the tool's own word (bandit's LOW/MEDIUM/HIGH)
    url: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "rule": self.rule,
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "level": self.level,
            "severity": self.severity,
            "url": self.url,
        }


@dataclass
class Check:
    """One check's result: its status, its key figure, and what the gate made of it."""

    name: str
    status: Status
    summary: str  # the key figure: "2 findings", "41 passed, 1 failed", "87.5% (min 80%)"
    duration: Optional[float] = None
    findings: list[Finding] = field(default_factory=list)
    details: list[str] = field(default_factory=list)  # failing tests and other lines
    problems: list[str] = field(default_factory=list)  # "could not read X: why"
    sources: list[str] = field(default_factory=list)  # report files read, project-relative
    log: Optional[str] = None  # the session's log, project-relative
    metrics: dict[str, float] = field(default_factory=dict)
    mode: str = "blocking"  # set by the gate: blocking, advisory
    blocks: bool = False  # set by the gate: this check makes the gate fail
    # A result replayed by --changed-only: when the run it replays finished (not rerun).
    replayed: Optional[str] = None
    # A tests run that ran only the tests affected by a change: what it selected.
    selected: Optional[str] = None
    # A test run whose arguments ran part of the suite (``-- -k slow``): what it says. Its
    # pass is not the suite's result: the check reads "not run".
    partial: Optional[str] = None
    # A smoke, load or deploy run that used the image of another revision than HEAD's, as
    # asked by --allow-other-revision: which (noxops.image.revision).
    other_revision: Optional[str] = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "summary": self.summary,
            "duration": self.duration,
            "mode": self.mode,
            "blocks": self.blocks,
            "findings": [f.to_dict() for f in self.findings],
            "details": list(self.details),
            "problems": list(self.problems),
            "sources": list(self.sources),
            "log": self.log,
            "metrics": dict(self.metrics),
            "replayed": self.replayed is not None,
            "replayed_from": self.replayed,
            "selected": self.selected,
            "partial": self.partial,
            "other_revision": self.other_revision,
        }


@dataclass
class Report:
    """Every check, the gate's verdict, and the figures outputs show."""

    project: str
    checks: list[Check]
    passed: bool = False
    verdict: str = ""
    coverage_files: list[tuple[str, float, int, int]] = field(default_factory=list)
    generated: str = ""

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    @property
    def findings(self) -> list[Finding]:
        return [f for c in self.checks for f in c.findings]

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "generated": self.generated,
            "passed": self.passed,
            "exit_code": self.exit_code,
            "verdict": self.verdict,
            "checks": [c.to_dict() for c in self.checks],
            "coverage": [
                {"path": p, "percent": pct, "covered": cov, "statements": n}
                for p, pct, cov, n in self.coverage_files
            ],
        }
