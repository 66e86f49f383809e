"""The output formats: SARIF against its schema, GitLab Code Quality fields, GitHub annotations
and step summary, the terminal table, the HTML page, sonar-project.properties, summary JSON."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from noxops.config import load
from noxops.reports.collect import build_report
from noxops.reports.github import (
    MAX_PER_LEVEL,
    annotation_commands,
    escape_data,
    escape_property,
    step_summary,
)
from noxops.reports.gitlab import SEVERITIES, code_quality
from noxops.reports.html import render_html
from noxops.reports.model import Check, Finding, Report
from noxops.reports.sarif import sarif
from noxops.reports.sonar import sonar_properties
from noxops.reports.summary import summary
from noxops.reports.terminal import render, use_colour
from noxops.stages import STAGES

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "report_samples"


@pytest.fixture
def failing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Report:
    """The report over the real failing sample (lint, type, bandit and a test failing)."""
    monkeypatch.setenv("CI", "true")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "calc"\n[tool.noxops]\npython = ["3.11"]\n', encoding="utf-8"
    )
    shutil.copytree(SAMPLES / "failing", tmp_path / "reports")
    config = dataclasses.replace(
        load(tmp_path), root=Path("/tmp/rx"), reports_dir=str(tmp_path / "reports")
    )
    return build_report(config, STAGES.for_config(config))


def _many(n: int, level: str = "error") -> Report:
    findings = [
        Finding("ruff", "E501", f"line {i} too long", "src/a.py", line=i, level="error")
        for i in range(1, n + 1)
    ]
    if level == "warning":
        for f in findings:
            f.level = "warning"
    return Report("p", [Check("lint", "failed", f"{n}", findings=findings)], verdict="FAILED")


# -- SARIF --------------------------------------------------------------------------------


def test_sarif_validates_against_the_2_1_0_schema(failing: Report) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((SAMPLES / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    log = json.loads(json.dumps(sarif(failing)))
    jsonschema.Draft4Validator(schema).validate(log)
    assert log["version"] == "2.1.0"
    results = {run["tool"]["driver"]["name"]: run["results"] for run in log["runs"]}
    assert {tool: len(r) for tool, r in results.items()} == {
        "ruff": 1,
        "flake8": 0,
        "mypy": 1,
        "bandit": 2,
        "pylint": 0,
    }
    uris = {
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for r in results.values()
        for res in r
        for loc in res["locations"]
    }
    assert uris == {"src/calc/bad.py"}  # repository-relative, not /tmp/rx/...
    b602 = next(r for r in results["bandit"] if r["ruleId"] == "B602")
    assert b602["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 10,
        "startColumn": 12,
    }


def test_sarif_of_a_clean_run_is_valid_too() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((SAMPLES / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    log = sarif(Report("p", [Check("lint", "passed", "ok")]))
    jsonschema.Draft4Validator(schema).validate(log)
    assert all(run["results"] == [] for run in log["runs"])


def test_schema_rejects_what_it_should() -> None:
    # The schema really checks: a result without a message is invalid.
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((SAMPLES / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    log = sarif(_many(1))
    del log["runs"][0]["results"][0]["message"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema).validate(log)


# -- GitLab Code Quality ------------------------------------------------------------------


def test_code_quality_has_gitlabs_documented_fields(failing: Report) -> None:
    issues = code_quality(failing)
    assert len(issues) == 5  # ruff, mypy, 2 bandit, the failing test
    for issue in issues:
        assert isinstance(issue["description"], str) and issue["description"]
        assert isinstance(issue["check_name"], str) and issue["check_name"]
        assert re.fullmatch(r"[0-9a-f]{32}", issue["fingerprint"])
        assert issue["severity"] in SEVERITIES
        assert isinstance(issue["location"]["path"], str)
        assert not issue["location"]["path"].startswith("/")
        assert isinstance(issue["location"]["lines"]["begin"], int)
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    severity = {i["check_name"]: i["severity"] for i in issues}
    assert severity["bandit:B404"] == "minor"
    assert severity["bandit:B602"] == "critical"
    assert severity["mypy:return-value"] == "major"


def test_fingerprints_unique_for_repeated_findings_and_stable() -> None:
    report = _many(3)
    for f in report.findings:
        f.message = "same"
    first = [i["fingerprint"] for i in code_quality(report)]
    assert len(set(first)) == 3
    for f in report.findings:
        f.line += 10  # code moved: the fingerprints stay
    assert [i["fingerprint"] for i in code_quality(report)] == first


# -- GitHub -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "data", "prop"),
    [
        ("plain", "plain", "plain"),
        ("100%", "100%25", "100%25"),
        ("a\nb", "a%0Ab", "a%0Ab"),
        ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"),
        ("k: v, w", "k: v, w", "k%3A v%2C w"),
        ("%0A", "%250A", "%250A"),  # an escape in the text is not an escape
        ("C:\\x,y", "C:\\x,y", "C%3A\\x%2Cy"),
    ],
)
def test_annotation_escaping(raw: str, data: str, prop: str) -> None:
    assert escape_data(raw) == data
    assert escape_property(raw) == prop


def test_annotation_command_shape() -> None:
    finding = Finding("mypy", "arg-type", "bad: 50%\nnext", "src/a,b.py", line=3, column=7)
    report = Report("p", [Check("type", "failed", "1", findings=[finding])])
    assert annotation_commands(report) == [
        "::error file=src/a%2Cb.py,line=3,col=7,title=mypy arg-type::bad: 50%25%0Anext"
    ]


@pytest.mark.parametrize(("n", "shown"), [(0, 0), (1, 1), (10, 10), (11, 10), (250, 10)])
def test_annotations_stay_within_githubs_per_step_limit(n: int, shown: int) -> None:
    for level in ("error", "warning"):
        lines = annotation_commands(_many(n, level))
        assert len(lines) == shown
        assert all(line.startswith(f"::{level} ") for line in lines)
        if n > MAX_PER_LEVEL:
            assert f"{n - MAX_PER_LEVEL + 1} more {level}s not annotated" in lines[-1]


def test_annotations_only_for_lint_type_and_bandit(failing: Report) -> None:
    lines = annotation_commands(failing)
    assert [re.search(r"title=(\w+)", line).group(1) for line in lines] == [  # type: ignore[union-attr]
        "ruff",
        "mypy",
        "bandit",
        "bandit",
    ]
    assert all(",line=" in line and "file=src/calc/bad.py" in line for line in lines)


def test_step_summary_is_markdown_under_the_limit(failing: Report) -> None:
    text = step_summary(failing)
    assert "| lint | ❌ FAILED | blocks |" in text
    assert "`reports/sessions/lint.log`" in text
    big = _many(30000)
    for f in big.findings:
        f.message = "x" * 60
    limited = step_summary(big, limit=1024 * 1024)
    assert 900_000 < len(limited.encode("utf-8")) <= 1024 * 1024
    assert "more findings in `reports/summary.json`" in limited
    assert len(step_summary(big, limit=20_000).encode("utf-8")) <= 20_000


# -- terminal -----------------------------------------------------------------------------


def test_terminal_table_reads_without_colour(failing: Report) -> None:
    text = render(failing, colour=False)
    assert "\x1b[" not in text
    rows = {line.split()[0]: line.split()[1] for line in text.splitlines()[3:9]}
    assert rows == {
        "lint": "FAILED",
        "type": "FAILED",
        "bandit": "FAILED",
        "audit": "NOT",
        "tests-3.11": "FAILED",
        "coverage": "NOT",
    }
    assert "NOT AUDITED" in text and "NOT RUN" in text
    assert "log: reports/sessions/tests-3.11.log" in text
    assert text.rstrip().splitlines()[-1].startswith("gate: FAILED")
    assert "\x1b[31;1mFAILED" in render(failing, colour=True)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("tty", "env", "expected"),
    [
        (True, {}, True),
        (False, {}, False),
        (True, {"NO_COLOR": "1"}, False),
        (True, {"TERM": "dumb"}, False),
        (False, {"FORCE_COLOR": "1"}, True),
        (False, {"FORCE_COLOR": "0"}, False),
        (False, {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
    ],
)
def test_colour_only_on_a_terminal(tty: bool, env: dict[str, str], expected: bool) -> None:
    stream = _Tty() if tty else io.StringIO()
    assert use_colour(stream, env) is expected


# -- HTML, Sonar, JSON --------------------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.external: list[str] = []
        self.hrefs: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name == "href" and value:
                self.hrefs.append(value)
            if name == "src" or (tag == "link" and name == "href"):
                self.external.append(value or "")


def test_html_page_is_self_contained(failing: Report, tmp_path: Path) -> None:
    failing.checks[0].findings[0].message = "<script>alert(1)</script>"
    page = render_html(failing, Path("/tmp/rx/reports"), Path("/tmp/rx"))
    parser = _Links()
    parser.feed(page)
    assert parser.external == [] and "script" not in parser.tags
    assert "&lt;script&gt;" in page
    assert "sessions/lint.log" in parser.hrefs  # links to each session's log
    assert "src/calc/bad.py" in page and "53.3" not in page  # coverage is per-Python here
    assert "Checks and timings" in page and "Coverage per file" in page


def test_sonar_properties(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "my calc"\n[tool.noxops]\npython = ["3.10", "3.11"]\n',
        encoding="utf-8",
    )
    (tmp_path / "src").mkdir()
    (tmp_path / "tests").mkdir()
    reports = tmp_path / "reports"
    reports.mkdir()
    for name in ("coverage.xml", "ruff.json", "bandit.json"):
        (reports / name).write_text("x", encoding="utf-8")
    config = load(tmp_path)
    text = sonar_properties(config, STAGES.for_config(config))
    props = dict(line.split("=", 1) for line in text.splitlines() if line and "#" not in line[:1])
    assert props == {
        "sonar.projectKey": "my_calc",
        "sonar.projectName": "my calc",
        "sonar.projectBaseDir": ".",
        "sonar.sources": "src",
        "sonar.tests": "tests",
        "sonar.python.version": "3.10,3.11",
        "sonar.sourceEncoding": "UTF-8",
        "sonar.python.coverage.reportPaths": "reports/coverage.xml",
        "sonar.python.xunit.reportPath": "reports/junit-*.xml",
        "sonar.python.ruff.reportPaths": "reports/ruff.json",
        "sonar.python.bandit.reportPaths": "reports/bandit.json",
        "sonar.qualitygate.wait": "true",
        "sonar.qualitygate.timeout": "300",
    }


def test_summary_json(failing: Report) -> None:
    data = json.loads(json.dumps(summary(failing)))
    assert data["format"] == 1 and data["exit_code"] == 1 and data["passed"] is False
    assert data["counts"] == {
        "passed": 0,
        "failed": 4,
        "not-run": 1,
        "not-audited": 1,
        "skipped": 0,
    }
    lint = next(c for c in data["checks"] if c["name"] == "lint")
    assert lint["findings"][0]["rule"] == "F401" and lint["blocks"] is True
