"""Gathering what every stage wrote into one result per check.

Each check is read from its report file and from its session's record (noxops's own under
reports/sessions, or nox's ``--report``). A file that cannot be read gives a check that did
not run, with the reason; a check whose stage is part of the pipeline but left nothing is
"not run"; a report older than its session's last start is stale and not trusted.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Optional, TypeVar

from noxops.reports.cobertura import Coverage, read_coverage
from noxops.reports.files import display, mtime, read_json
from noxops.reports.gate import apply_gate, bandit_blocking, coverage_passes, fail_under
from noxops.reports.junit import Suite, mypy_findings, read_junit
from noxops.reports.model import Check, Finding, ReadProblem, Report
from noxops.reports.scanners import read_bandit, read_ruff
from noxops.reports.sessions import SessionRecord, read_nox_report, read_records

if TYPE_CHECKING:
    from noxops.config import Config

__all__ = ["build_report", "expected_checks", "gather"]

_T = TypeVar("_T")
_STALE_SLACK = 2.0  # seconds
# Sessions that are not checks: the report itself and the fixer.
_NOT_CHECKS = {"report", "fmt"}


def expected_checks(config: Config) -> dict[str, str]:
    """The checks a plain ``nox`` produces with this configuration: check -> its session."""
    from noxops.stages import STAGES

    default = config.default_sessions
    expected: dict[str, str] = {}

    def runs(stage_name: str) -> bool:
        st = STAGES.get(stage_name)
        if st is None or not st.enabled(config):
            return False
        return st.default if default is None else stage_name in default

    if runs("lint"):
        expected["lint"] = "lint"
    if runs("type"):
        expected["type"] = "type"
    if runs("security"):
        expected["bandit"] = "security"
        if config.security.audit:
            expected["audit"] = "security"
    if runs("tests"):
        for py in config.pythons:
            expected[f"tests-{py}"] = f"tests-{py}"
    if runs("coverage"):
        expected["coverage"] = "coverage"
    for name in ("integration", "build", "smoke"):
        if runs(name):
            expected[name] = name
    return expected


class _Reader:
    """Builds checks from report files and session records."""

    def __init__(self, config: Config, records: dict[str, SessionRecord]) -> None:
        self.config = config
        self.root = config.root
        self.records = records

    def path(self, name: str) -> Path:
        return self.config.reports / name

    def shown(self, name: str) -> str:
        return display(self.path(name), self.root)

    def base(self, name: str, session: str, sources: list[str]) -> Check:
        rec = self.records.get(session)
        return Check(
            name=name,
            status="not-run",
            summary="not run",
            duration=rec.duration if rec and rec.status != "aborted" else None,
            sources=sources,
            log=rec.log if rec else None,
        )

    def read(
        self, check: Check, session: str, file: str, parse: Callable[[Path, Path], _T]
    ) -> Optional[_T]:
        """Parse ``file`` for ``check``; on a problem, mark the check and return None."""
        rec = self.records.get(session)
        path = self.path(file)
        if rec is not None and rec.status == "skipped":
            check.status, check.summary = "skipped", f"skipped: {rec.reason or 'by nox'}"
            return None
        if rec is not None and rec.status == "aborted":
            check.summary = f"not run: {rec.reason or 'aborted'}"
            return None
        try:
            started = rec.started_epoch if rec is not None else 0.0
            if started and path.exists() and mtime(path) < started - _STALE_SLACK:
                raise ReadProblem(
                    self.shown(file),
                    f"it is older than the last {session} session, which did not rewrite it "
                    "(stale)",
                )
            return parse(path, self.root)
        except ReadProblem as exc:
            check.problems.append(str(exc))
            blocked = self.blocked_by(session) if rec is None and not path.exists() else []
            if blocked:
                check.summary = f"not run: it needs {', '.join(blocked)}, which did not pass"
            elif rec is not None and not rec.ok:
                check.status = "failed"
                check.summary = f"{session} {rec.status}: {_short(rec.reason)}; {exc}"
            else:
                check.summary = str(exc)
            return None

    def blocked_by(self, session: str) -> list[str]:
        """The sessions ``session`` requires that did not succeed (so nox did not run it)."""
        from noxops.stages import STAGES

        st = STAGES.get(session)
        required = st.requires if st is not None else ()
        return sorted(
            name
            for name, rec in self.records.items()
            if not rec.ok and any(name == r or name.startswith(f"{r}-") for r in required)
        )

    def session_failed(self, check: Check, session: str, figure: str) -> bool:
        """When the session failed although its report looks fine, the check failed."""
        rec = self.records.get(session)
        if rec is None or rec.ok:
            return False
        check.status = "failed"
        why = rec.reason or "see its log"
        check.summary = f"{figure}; session {rec.status}: {_short(why)}"
        return True

    # -- the checks -------------------------------------------------------------------

    def lint(self) -> Check:
        check = self.base("lint", "lint", [self.shown("ruff.json")])
        findings = self.read(check, "lint", "ruff.json", read_ruff)
        if findings is None:
            return check
        check.findings = findings
        check.metrics["findings"] = len(findings)
        figure = f"{len(findings)} ruff finding(s)" if findings else "no ruff findings"
        check.status, check.summary = ("failed" if findings else "passed"), figure
        rec = self.records.get("lint")
        if not findings and not self.session_failed(check, "lint", figure) and rec is None:
            check.details.append("black and isort: no session record, only ruff's report read")
        return check

    def type(self) -> Check:
        check = self.base("type", "type", [self.shown("mypy-junit.xml")])
        parsed = self.read(check, "type", "mypy-junit.xml", mypy_findings)
        if parsed is None:
            return check
        suite, findings = parsed
        check.findings = findings
        check.metrics["errors"] = len(findings)
        if suite.failures or suite.errors:
            check.status = "failed"
            check.summary = f"{len(findings)} mypy error(s)"
            if not findings:
                check.details += [c.text.strip()[:500] for c in suite.failed]
        else:
            check.status, check.summary = "passed", "mypy clean"
            self.session_failed(check, "type", "mypy clean")
        return check

    def bandit(self) -> Check:
        check = self.base("bandit", "security", [self.shown("bandit.json")])
        parsed = self.read(check, "security", "bandit.json", read_bandit)
        if parsed is None:
            return check
        findings, errors = parsed
        limit = self.config.report.max_bandit_severity
        over = bandit_blocking(findings, limit)
        for f in findings:
            f.level = "error" if f in over else "warning"
        check.findings = findings
        check.details += [f"bandit could not scan {e}" for e in errors]
        check.metrics["findings"] = len(findings)
        check.metrics["over_threshold"] = len(over)
        check.status = "failed" if over or errors else "passed"
        tolerated = f" (max tolerated severity: {limit})" if limit != "none" else ""
        check.summary = f"{len(findings)} finding(s), {len(over)} over the threshold{tolerated}"
        if not findings:
            check.summary = "no findings"
        return check

    def audit(self) -> Check:
        check = self.base("audit", "security", [self.shown("audit.json")])
        data = self.read(check, "security", "audit.json", read_json)
        if data is None:
            return check
        status = data.get("status")
        if status == "audited":
            check.status = "passed"
            check.summary = f"{data.get('audited', 0)} package(s) audited, no known vulnerabilities"
        elif status == "vulnerable":
            vulns = data.get("vulnerabilities") or []
            check.status = "failed"
            check.summary = f"{len(vulns)} known vulnerabilit{'y' if len(vulns) == 1 else 'ies'}"
            check.details += [
                f"{v.get('name')} {v.get('version')}: {v.get('id')}"
                + (f" (fixed in {', '.join(v['fix_versions'])})" if v.get("fix_versions") else "")
                for v in vulns
                if isinstance(v, dict)
            ]
        elif status == "not-audited":
            check.status = "not-audited"
            check.summary = f"not audited: {data.get('reason') or 'no reason given'}"
            check.details += [f"skipped {s}" for s in data.get("skipped") or []]
        else:
            problem = ReadProblem(self.shown("audit.json"), f"unknown audit status {status!r}")
            check.problems.append(str(problem))
            check.summary = str(problem)
        return check

    def junit(self, name: str, session: str, file: str) -> Check:
        check = self.base(name, session, [self.shown(file)])
        suite = self.read(check, session, file, read_junit)
        if suite is None:
            return check
        _suite_figures(check, suite)
        check.status = "failed" if suite.failures or suite.errors or not suite.tests else "passed"
        if check.status == "passed":
            self.session_failed(check, session, check.summary)
        return check

    def coverage(self) -> tuple[Check, Optional[Coverage]]:
        check = self.base("coverage", "coverage", [self.shown("coverage.xml")])
        cov = self.read(check, "coverage", "coverage.xml", read_coverage)
        if cov is None:
            return check, None
        threshold = fail_under(self.config)
        check.metrics["percent"] = round(cov.percent, 2)
        check.metrics["fail_under"] = threshold
        check.summary = f"{cov.percent:.1f}% (min {threshold:g}%)"
        check.status = "passed" if coverage_passes(cov.percent, threshold) else "failed"
        if check.status == "passed":
            self.session_failed(check, "coverage", check.summary)
        return check, cov

    def build(self) -> Check:
        from noxops.build.manifest import Manifest, ManifestError, load
        from noxops.reports.files import read_text

        def parse(path: Path, root: Path) -> Manifest:
            read_text(path, root)  # missing, empty, not UTF-8: said as for every report
            try:
                return load(path)
            except ManifestError as exc:
                raise ReadProblem(display(path, root), exc.why) from None

        file = str(getattr(self.config.image, "manifest", "build-manifest.json"))
        check = self.base("build", "build", [self.shown(file)])
        built = self.read(check, "build", file, parse)
        if built is None:
            return check
        parts = []
        if built.image:
            parts.append(built.references[0] if built.references else built.image)
        digest = built.digest or built.image_id
        if digest:
            parts.append(digest[:19])
        for name in (built.wheel, built.sdist):
            if name:
                parts.append(Path(name).name)
        check.status, check.summary = "passed", ", ".join(parts) or "built"
        data = built.to_dict()
        check.details += [f"{k}: {v}" for k, v in sorted(data.items()) if isinstance(v, str) and v]
        self.session_failed(check, "build", check.summary)
        return check

    def session_only(self, rec: SessionRecord) -> Check:
        check = Check(
            name=rec.name,
            status="passed",
            summary="session succeeded",
            duration=rec.duration,
            log=rec.log,
            sources=[rec.source] if rec.source else [],
        )
        if rec.status == "skipped":
            check.status, check.summary = "skipped", f"skipped: {rec.reason}"
        elif rec.status == "aborted":
            check.status, check.summary = "not-run", f"not run: {rec.reason}"
        elif not rec.ok:
            check.status, check.summary = "failed", f"session {rec.status}: {_short(rec.reason)}"
        return check


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _suite_figures(check: Check, suite: Suite) -> None:
    bad = suite.failures + suite.errors
    parts = [f"{suite.passed} passed"]
    if suite.failures:
        parts.append(f"{suite.failures} failed")
    if suite.errors:
        parts.append(f"{suite.errors} error(s)")
    if suite.skipped:
        parts.append(f"{suite.skipped} skipped")
    check.summary = ", ".join(parts) if suite.tests else "no tests ran"
    check.metrics.update(
        tests=suite.tests, failures=suite.failures, errors=suite.errors, skipped=suite.skipped
    )
    for case in suite.failed:
        where = f" ({case.path}:{case.line})" if case.path else ""
        check.details.append(f"{case.outcome.upper()} {case.name}{where}: {_short(case.message)}")
        if case.path:
            check.findings.append(
                Finding(
                    tool="pytest",
                    rule=case.outcome,
                    message=f"{case.name} {case.outcome}: {_short(case.message, 500)}",
                    path=case.path,
                    line=case.line or 1,
                    level="error",
                )
            )
    if bad and not check.details:  # pragma: no cover - totals without cases
        check.details.append(f"{bad} test(s) did not pass")


def _missing_locally(version: str) -> bool:
    """Outside CI, nox skips the tests of a Python this machine does not have."""
    if os.environ.get("CI"):
        return False
    from noxops import interpreters

    return interpreters.find(version) is None


_PY = re.compile(r"^junit-(\d+\.\d+)\.xml$")


def gather(
    config: Config, nox_report: Optional[Path] = None
) -> tuple[list[Check], list[tuple[str, float, int, int]], list[str]]:
    """Every check's result (before the gate), coverage per file, and general problems."""
    records: dict[str, SessionRecord] = {}
    problems: list[str] = []
    if nox_report is not None:
        try:
            records.update(read_nox_report(nox_report, config.root))
        except ReadProblem as exc:
            problems.append(str(exc))
    own, bad_records = read_records(config)
    problems += bad_records
    records.update(own)  # noxops's own records know more (timeouts, logs)

    reader = _Reader(config, records)
    expected = expected_checks(config)
    reports = config.reports
    pythons = list(config.pythons)
    for path in sorted(reports.glob("junit-*.xml")) if reports.is_dir() else []:
        match = _PY.match(path.name)
        if match and match.group(1) not in pythons:
            pythons.append(match.group(1))
    pythons += [
        n[len("tests-") :]
        for n in records
        if n.startswith("tests-") and n[len("tests-") :] not in pythons
    ]

    candidates: list[tuple[str, str, Callable[[], Check]]] = [
        ("lint", "ruff.json", reader.lint),
        ("type", "mypy-junit.xml", reader.type),
        ("bandit", "bandit.json", reader.bandit),
        ("audit", "audit.json", reader.audit),
    ]
    for py in pythons:
        candidates.append(
            (
                f"tests-{py}",
                f"junit-{py}.xml",
                functools.partial(reader.junit, f"tests-{py}", f"tests-{py}", f"junit-{py}.xml"),
            )
        )
    coverage_files: list[tuple[str, float, int, int]] = []

    def coverage_check() -> Check:
        check, cov = reader.coverage()
        if cov is not None:
            coverage_files.extend((f.path, f.percent, f.covered, f.statements) for f in cov.files)
        return check

    candidates += [
        ("coverage", "coverage.xml", coverage_check),
        (
            "integration",
            "junit-integration.xml",
            lambda: reader.junit("integration", "integration", "junit-integration.xml"),
        ),
        ("build", str(getattr(config.image, "manifest", "build-manifest.json")), reader.build),
        ("smoke", "junit-smoke.xml", lambda: reader.junit("smoke", "smoke", "junit-smoke.xml")),
    ]
    session_of = {"bandit": "security", "audit": "security"}
    checks: list[Check] = []
    covered_sessions: set[str] = set()
    for name, file, build in candidates:
        session = session_of.get(name, name)
        covered_sessions.add(session)
        present = (reports / file).exists() or session in records
        if name == "audit" and not config.security.audit and not (reports / file).exists():
            continue
        if not present and name not in expected:
            continue
        if not present and name.startswith("tests-") and _missing_locally(name[len("tests-") :]):
            checks.append(
                Check(
                    name=name,
                    status="skipped",
                    summary=f"skipped: Python {name[len('tests-') :]} is not installed here "
                    "(in CI a missing Python fails the run)",
                )
            )
            continue
        checks.append(build())
    for name, rec in records.items():
        if name not in covered_sessions and name not in _NOT_CHECKS:
            checks.append(reader.session_only(rec))
    return checks, coverage_files, problems


def build_report(config: Config, nox_report: Optional[Path] = None) -> Report:
    """Gather, apply the gate, and return the report every output is written from."""
    checks, coverage_files, problems = gather(config, nox_report)
    kept, passed, verdict = apply_gate(checks, config)
    if problems:
        verdict += f" ({len(problems)} unreadable session record(s): {'; '.join(problems)})"
    report = Report(
        project=config.project_name,
        checks=kept,
        passed=passed,
        verdict=verdict,
        coverage_files=sorted(coverage_files),
        generated=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    return report
