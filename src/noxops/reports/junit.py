"""JUnit XML: pytest's test results (tests, integration, smoke) and mypy's ``--junit-xml``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional
from xml.etree import ElementTree  # nosec B405 - reports our own tools just wrote

from noxops.reports.files import display, read_xml, relative
from noxops.reports.model import Finding, ReadProblem

__all__ = ["FailedCase", "Suite", "mypy_findings", "read_junit"]

_TRACE_LOCATION = re.compile(r"^(?P<path>[^\s:][^:\n]*\.py):(?P<line>\d+): ", re.MULTILINE)
_MYPY_LINE = re.compile(
    r"^(?P<path>[^:\n]+):(?P<line>\d+)(?::(?P<col>\d+))?: (?P<level>error|warning|note): "
    r"(?P<message>.*?)(?:  \[(?P<code>[\w-]+)\])?$"
)


@dataclass
class FailedCase:
    """A test that failed or errored, and where (when the traceback says)."""

    name: str  # tests/test_calc.py::test_broken
    outcome: str  # failed or error
    message: str
    text: str
    path: Optional[str] = None
    line: Optional[int] = None


@dataclass
class Suite:
    """The totals of one JUnit report."""

    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0
    time: float = 0.0
    failed: list[FailedCase] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return self.tests - self.failures - self.errors - self.skipped


def _cases(root_el: ElementTree.Element) -> list[ElementTree.Element]:
    return list(root_el.iter("testcase"))


def _float(text: Optional[str]) -> float:
    try:
        return float(text or 0)
    except ValueError:
        return 0.0


def _case_name(case: ElementTree.Element) -> str:
    classname = case.get("classname", "")
    name = case.get("name", "?")
    return f"{classname}::{name}" if classname else name


def read_junit(path: Path, root: Path) -> Suite:
    """Totals and failed cases of a JUnit XML file (pytest's, or anything JUnit-shaped)."""
    root_el = read_xml(path, root)
    if root_el.tag not in ("testsuites", "testsuite"):
        raise ReadProblem(
            display(path, root), f"not a JUnit report (its root element is <{root_el.tag}>)"
        )
    suites = [root_el] if root_el.tag == "testsuite" else list(root_el.iter("testsuite"))
    suite = Suite(time=sum(_float(s.get("time")) for s in suites))
    for case in _cases(root_el):
        suite.tests += 1
        problem = case.find("failure")
        outcome = "failed"
        if problem is None:
            problem = case.find("error")
            outcome = "error"
        if problem is None:
            if case.find("skipped") is not None:
                suite.skipped += 1
            continue
        if outcome == "failed":
            suite.failures += 1
        else:
            suite.errors += 1
        text = problem.text or ""
        failed = FailedCase(
            name=_case_name(case),
            outcome=outcome,
            message=problem.get("message") or next(iter(text.strip().splitlines()[-1:]), ""),
            text=text,
        )
        locations = list(_TRACE_LOCATION.finditer(text))
        if locations:
            last = locations[-1]
            failed.path = relative(last.group("path"), root)
            failed.line = int(last.group("line"))
        elif case.get("file"):
            failed.path = relative(case.get("file", ""), root)
            failed.line = int(case.get("line", "1") or 1)
        suite.failed.append(failed)
    return suite


def mypy_findings(path: Path, root: Path) -> tuple[Suite, list[Finding]]:
    """mypy's JUnit report: its totals and every error it printed, as findings."""
    suite = read_junit(path, root)
    findings: list[Finding] = []
    for case in suite.failed:
        for raw in case.text.splitlines():
            match = _MYPY_LINE.match(raw.strip())
            if not match or match.group("level") == "note":
                continue
            findings.append(
                Finding(
                    tool="mypy",
                    rule=match.group("code") or "error",
                    message=match.group("message"),
                    path=relative(match.group("path"), root),
                    line=int(match.group("line")),
                    column=int(match.group("col") or 0),
                    level="error" if match.group("level") == "error" else "warning",
                    url="https://mypy.readthedocs.io/en/stable/error_code_list.html",
                )
            )
    return suite, findings
