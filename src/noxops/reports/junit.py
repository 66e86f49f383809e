"""JUnit XML: pytest's test results (tests, integration, smoke) and mypy's ``--junit-xml``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from noxops.reports.files import display, read_xml, relative
from noxops.reports.model import Finding, ReadProblem

if TYPE_CHECKING:
    from xml.etree import ElementTree  # nosec B405

__all__ = ["FailedCase", "Suite", "durations", "mypy_findings", "read_junit"]

# A traceback's "path.py:12: AssertionError", or a bare "path.py:8" (where a fixture is).
_TRACE_LOCATION = re.compile(r"^(?P<path>[^\s:][^:\n]*\.py):(?P<line>\d+)(?:: |$)", re.MULTILINE)
# mypy's "path:line[:col[:end line:end col]]: level: message  [code]" (show_error_end adds
# the end); with ``pretty`` the message goes on, unindented, on the next lines.
_MYPY_LINE = re.compile(
    r"^(?P<path>[^:\n]+):(?P<line>\d+)(?::(?P<col>\d+)(?::\d+:\d+)?)?: "
    r"(?P<level>error|warning|note): (?P<message>.*)$"
)
_MYPY_LEVEL = re.compile(r": (?:error|warning|note): ")  # a message of its own
_MYPY_CODE = re.compile(r"^(?P<message>.*?)  \[(?P<code>[\w-]+)\]$")
# pytest's junit message of an error outside the test itself: the error is in the text.
_SETUP = ('failed on setup with "', 'failed on teardown with "')


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


def _case_name(
    case: ElementTree.Element, root: Path, files: set[str], known: Optional[dict[str, str]] = None
) -> str:
    """The test's id as pytest names it (``tests/test_calc.py::TestAdd::test_one``) when its
    file is known (in the traceback, or in the project), else JUnit's ``classname::name``.
    ``known`` keeps each classname's answer for the next test of the same class or file (a
    report of 2,000 tests asks the file system once per file, not once per test)."""
    classname = case.get("classname", "")
    name = case.get("name", "?")
    prefix = None if known is None else known.get(classname)
    if prefix is None:
        prefix = classname
        parts = classname.split(".") if classname else []
        for cut in range(len(parts), 0, -1):
            file = "/".join(parts[:cut]) + ".py"
            if file in files or (root / file).is_file():
                prefix = "::".join([file, *parts[cut:]])
                break
        if known is not None:
            known[classname] = prefix
    return f"{prefix}::{name}" if prefix else name


def _message(problem: ElementTree.Element, text: str) -> str:
    """What went wrong, in one line: pytest's message, or for an error in a fixture, at
    collection or one spread over lines, the first ``E`` line of the text (``fixture
    'base_url' not found`` rather than ``failed on setup with "file ..., line 4``)."""
    message = problem.get("message") or ""
    for prefix in _SETUP:
        if message.startswith(prefix):
            message = message[len(prefix) :].removesuffix('"')
    errors = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    if errors and (not message or "\n" in message or message == "collection failure"):
        return errors[0]
    return message or next(iter(text.strip().splitlines()[-1:]), "")


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
        locations = list(_TRACE_LOCATION.finditer(text))
        files = {relative(m.group("path"), root) for m in locations}
        failed = FailedCase(
            name=_case_name(case, root, files),
            outcome=outcome,
            message=_message(problem, text),
            text=text,
        )
        if locations:
            last = locations[-1]
            failed.path = relative(last.group("path"), root)
            failed.line = int(last.group("line"))
        elif case.get("file"):
            failed.path = relative(case.get("file", ""), root)
            failed.line = int(case.get("line", "1") or 1)
        suite.failed.append(failed)
    return suite


def durations(path: Path, root: Path) -> dict[str, float]:
    """Each test's seconds in a JUnit report, by its pytest id (what splits a suite into
    shards, :mod:`noxops.incremental.shards`); a test reported twice (an error at teardown) adds up.
    """
    root_el = read_xml(path, root)
    found: dict[str, float] = {}
    known: dict[str, str] = {}
    for case in _cases(root_el):
        name = _case_name(case, root, set(), known)
        found[name] = found.get(name, 0.0) + _float(case.get("time"))
    return found


def mypy_findings(path: Path, root: Path) -> tuple[Suite, list[Finding]]:
    """mypy's JUnit report: its totals and every error it printed, as findings."""
    suite = read_junit(path, root)
    findings: list[Finding] = []
    for case in suite.failed:
        for match, message in _mypy_messages(case.text):
            if match.group("level") == "note":
                continue
            code = _MYPY_CODE.match(message)
            findings.append(
                Finding(
                    tool="mypy",
                    rule=code.group("code") if code else "error",
                    message=code.group("message") if code else message,
                    path=relative(match.group("path"), root),
                    line=int(match.group("line")),
                    column=int(match.group("col") or 0),
                    level="error" if match.group("level") == "error" else "warning",
                    url="https://mypy.readthedocs.io/en/stable/error_code_list.html",
                )
            )
    return suite, findings


def _mypy_messages(text: str) -> list[tuple[re.Match[str], str]]:
    """Each message mypy printed with its location, whole: with ``pretty = true`` a long
    message goes on over unindented lines (the source line and its marker are indented)."""
    found: list[tuple[re.Match[str], str]] = []
    for raw in text.splitlines():
        match = _MYPY_LINE.match(raw.strip())
        if match:
            found.append((match, match.group("message").rstrip()))
        elif found and raw.strip() and not raw[0].isspace() and not _MYPY_LEVEL.search(raw):
            last, message = found[-1]
            found[-1] = (last, f"{message} {raw.strip()}")
    return found
