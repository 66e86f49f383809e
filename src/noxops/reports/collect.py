"""Gathering what every stage wrote into one result per check.

Each check is read from its report file, by the reader its kind declares (the kinds of
noxops's own files are declared here, after :class:`Reader`; a project's stage declares its
own with :func:`noxops.reports.outputs.kind`), and from its session's record (noxops's own under
reports/sessions, or nox's ``--report``). A file that cannot be read gives a check that did
not run, with the reason; a check whose stage is part of the pipeline but left nothing is
"not run"; a report older than its session's last start is stale and not trusted.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Optional, TypeVar

from noxops.image import revision
from noxops.image.manifest import Manifest, ManifestError
from noxops.image.manifest import load as load_manifest
from noxops.incremental import affected
from noxops.project import interpreters
from noxops.reports.cobertura import read_coverage
from noxops.reports.files import display, mtime, read_json, read_text
from noxops.reports.gate import (
    apply_gate,
    bandit_blocking,
    bandit_limit,
    coverage_figure,
    coverage_passes,
    coverage_precision,
    fail_under,
    percent_text,
)
from noxops.reports.junit import Suite, mypy_findings, read_junit
from noxops.reports.model import Check, Finding, ReadProblem, Report
from noxops.reports.outputs import KINDS, KindReader, kind
from noxops.reports.records import SessionRecord, read_nox_report, read_records
from noxops.reports.scanners import read_bandit, read_flake8, read_pylint, read_ruff

if TYPE_CHECKING:
    from noxops.config import Config
    from noxops.stages.base import Output, Stage

__all__ = ["Expected", "Reader", "build_report", "expected_checks", "findings", "gather"]

_T = TypeVar("_T")
_STALE_SLACK = 2.0  # seconds
# Folders of environments and installed packages: what a tool reports there is not the code.
_ENVIRONMENT_DIRS = frozenset({".nox", ".tox", ".venv", "venv", "site-packages", "dist-packages"})


def _outside_project(path: str) -> bool:
    """Whether a file a tool reported lies outside the project's own code: an absolute path
    or one leading out (left so by :func:`~noxops.reports.files.relative`), or one inside an
    environment (``.nox``, ``.venv``, ``site-packages``)."""
    parts = path.replace("\\", "/").split("/")
    return (
        path.startswith("/")
        or bool(re.match(r"^[A-Za-z]:/", path))
        or ".." in parts
        or any(p in _ENVIRONMENT_DIRS for p in parts)
    )


Stages = Mapping[str, "Stage"]


@dataclass(frozen=True)
class Expected:
    """One check a stage's declared output feeds: which session writes which file."""

    check: str
    session: str
    file: str
    stage: Stage
    output: Output
    python: Optional[str] = None


def _runs(st: Stage, config: Config) -> bool:
    """Whether a plain ``nox`` runs the stage with this configuration."""
    default = config.default_sessions
    if not st.enabled(config):
        return False
    return st.default if default is None else st.name in default


def _entries(config: Config, stages: Stages, pythons: Sequence[str]) -> list[Expected]:
    """Every (check, session, file) the stages' declarations give, in pipeline order."""
    found: list[Expected] = []
    for st in stages.values():
        if not st.check:
            continue
        for out in st.outputs:
            if out.check is None:
                continue
            if "{python}" in out.check:
                found += [
                    Expected(
                        check=out.check.replace("{python}", py),
                        session=f"{st.name}-{py}",
                        file=out.name(config, py),
                        stage=st,
                        output=out,
                        python=py,
                    )
                    for py in pythons
                ]
            else:
                found.append(Expected(out.check, st.name, out.name(config), st, out))
    return found


def expected_checks(config: Config, stages: Stages) -> dict[str, str]:
    """The checks a plain ``nox`` produces with this configuration: check -> its session."""
    return {
        e.check: e.session
        for e in _entries(config, stages, config.pythons)
        if _runs(e.stage, config) and e.output.when(config)
    }


class Reader:
    """Builds checks from report files and session records: what each kind's ``read`` is
    handed, with the steps every reader shares (:meth:`base`, :meth:`read`,
    :meth:`session_failed`)."""

    def __init__(self, config: Config, records: dict[str, SessionRecord], stages: Stages) -> None:
        self.config = config
        self.root = config.root
        self.records = records
        self.stages = stages
        self.coverage_files: list[tuple[str, float, int, int]] = []

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
        st = self.stages.get(session)
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

    def linter(
        self,
        name: str,
        session: str,
        file: str,
        tool: str,
        reader: Callable[[Path, Path], list[Finding]],
    ) -> tuple[Check, str]:
        """A linter's report read into its check, failed by any finding; with the figure its
        summary says ("" when the report could not be read: the check says why)."""
        check = self.base(name, session, [self.shown(file)])
        findings = self.read(check, session, file, reader)
        if findings is None:
            return check, ""
        check.findings = findings
        check.metrics["findings"] = len(findings)
        figure = f"{len(findings)} {tool} finding(s)" if findings else f"no {tool} findings"
        check.status, check.summary = ("failed" if findings else "passed"), figure
        return check, figure

    def ruff(self, name: str, session: str, file: str) -> Check:
        check, figure = self.linter(name, session, file, "ruff", read_ruff)
        if not figure or check.findings:
            return check
        if not self.session_failed(check, session, figure) and session not in self.records:
            check.details.append("black and isort: no session record, only ruff's report read")
        return check

    def mypy(self, name: str, session: str, file: str) -> Check:
        check = self.base(name, session, [self.shown(file)])
        parsed = self.read(check, session, file, mypy_findings)
        if parsed is None:
            return check
        suite, reported = parsed
        # Errors in installed packages are not the project's: mypy itself failed there.
        outside = [f for f in reported if _outside_project(f.path)]
        findings = [f for f in reported if f not in outside]
        check.findings = findings
        check.metrics["errors"] = len(findings)
        if suite.failures or suite.errors:
            check.status = "failed"
            check.summary = f"{len(findings)} mypy error(s)"
            if outside:
                check.summary = (
                    f"mypy failed in code outside the project ({len(outside)} error(s) in "
                    f"installed packages, first {outside[0].path}:{outside[0].line}: "
                    f"{outside[0].message}): a tool failure, not the project's findings; the "
                    "usual cause is a target Python the environment was not installed for"
                ) + (f"; and {check.summary} in the project" if findings else "")
                check.details += [f"{f.path}:{f.line}: {f.message}" for f in outside][:20]
            elif not findings:
                check.details += [c.text.strip()[:500] for c in suite.failed]
        else:
            check.status, check.summary = "passed", "mypy clean"
            self.session_failed(check, session, "mypy clean")
        return check

    def bandit(self, name: str, session: str, file: str) -> Check:
        check = self.base(name, session, [self.shown(file)])
        parsed = self.read(check, session, file, read_bandit)
        if parsed is None:
            return check
        findings, errors = parsed
        limit, note = bandit_limit(self.config)
        over = bandit_blocking(findings, limit)
        check.details += [note] if note else []
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

    def audit(self, name: str, session: str, file: str) -> Check:
        check = self.base(name, session, [self.shown(file)])
        data = self.read(check, session, file, read_json)
        if data is None:
            return check
        status = data.get("status")
        unbound = self.unbound_audit(session, file, data.get("run"))
        if unbound and status in ("audited", "vulnerable", "not-audited"):
            check.status, check.summary = "not-audited", f"not audited: {unbound}"
        elif status == "audited":
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
            problem = ReadProblem(self.shown(file), f"unknown audit status {status!r}")
            check.problems.append(str(problem))
            check.summary = str(problem)
        return check

    def unbound_audit(self, session: str, file: str, run: object) -> str:
        """Why the audit in ``file`` is not the last ``session`` run's own ("" when it is).

        Only a readable record of that run, with its id, vouches for the file: one left by an
        earlier run, or planted, must never read "no known vulnerabilities"."""
        rec = self.records.get(session)
        shown = self.shown(file)
        if rec is None:
            return f"there is no record of the {session} session to bind {shown} to its run"
        if rec.status == "unreadable":
            return f"{shown} cannot be bound to a {session} run: {_short(rec.reason)}"
        if not rec.run:
            return f"{shown} cannot be bound to a run: {rec.source or session} records no run id"
        if run != rec.run:
            return f"{shown} is not from the last {session} run ({session} {rec.status})"
        return ""

    def junit(self, name: str, session: str, file: str) -> Check:
        from noxops.incremental import (
            shards,  # a Python's tests run as shards: one check from them all
        )

        sharded = shards.read_suite(self.config, session, file)
        if sharded is not None:
            check = self.base(name, session, sharded.sources)
            check.duration, check.problems = sharded.duration, sharded.problems
            suite: Optional[Suite] = sharded.suite
        else:
            check = self.base(name, session, [self.shown(file)])
            suite = self.read(check, session, file, read_junit)
        if suite is None:
            return check
        _suite_figures(check, suite)
        if sharded is not None:
            check.details.insert(0, sharded.note)
            bad = suite.failures or suite.errors
            if sharded.failed_runs and not bad:  # a run failed outside its tests
                runs = ", ".join(map(str, sharded.failed_runs))
                check.status, check.summary = "failed", f"{check.summary}; shard(s) {runs} failed"
            else:
                check.status = "failed" if bad or not suite.tests else "passed"
            if not sharded.complete:  # part of the suite is never its result
                check.partial = sharded.note
                check.summary = f"{check.summary}; {sharded.note}"
                check.status = "failed" if check.status == "failed" else "not-run"
            else:
                check.summary = f"{check.summary} ({sharded.note})"
            return check
        picked = affected.read_selection(self.config, session)
        selected = picked is not None and picked.get("mode") == "affected"
        nothing = not suite.tests and not selected  # an affected run may select no test
        check.status = "failed" if suite.failures or suite.errors or nothing else "passed"
        if selected and picked is not None:
            check.selected = str(picked.get("summary") or "affected tests only")
            check.summary += (
                f" (affected tests only: {picked.get('selected')} of {picked.get('known')}, "
                f"since the full run of {picked.get('base')}; not a full run)"
            )
        if check.status == "passed":
            self.session_failed(check, session, check.summary)
        if picked is not None and picked.get("mode") == "partial":
            # -- -k slow: what ran says nothing of the rest of the suite
            check.partial = str(picked.get("summary") or "partial run: not the full suite")
            check.summary = f"{check.summary}; {check.partial}"
            check.details.insert(0, check.partial)
            if check.status == "passed":
                check.status = "not-run"
        return check

    def coverage(self, name: str, session: str, file: str) -> Check:
        check = self.base(name, session, [self.shown(file)])
        cov = self.read(check, session, file, read_coverage)
        if cov is None:
            return check
        threshold, digits = fail_under(self.config), coverage_precision(self.config)
        check.metrics["percent"] = round(cov.percent, 2)
        check.metrics["fail_under"] = threshold
        check.summary = f"{coverage_figure(cov.percent, digits)}% (min {percent_text(threshold)}%)"
        check.status = "passed" if coverage_passes(cov.percent, threshold, digits) else "failed"
        note = affected.gate_note(self.config)
        if note:
            check.summary += " (full run + affected reruns)"
            check.details.append(f"coverage {note}")
        partial = affected.partial_note(self.config)
        if partial:
            check.summary += " (includes a partial run)"
            check.details.append(f"the coverage gate {partial}")
        if check.status == "passed":
            self.session_failed(check, session, check.summary)
        self.coverage_files.extend((f.path, f.percent, f.covered, f.statements) for f in cov.files)
        return check

    def manifest(self, name: str, session: str, file: str) -> Check:
        def parse(path: Path, root: Path) -> Manifest:
            read_text(path, root)  # missing, empty, not UTF-8: said as for every report
            try:
                return load_manifest(path)
            except ManifestError as exc:
                raise ReadProblem(display(path, root), exc.why) from None

        check = self.base(name, session, [self.shown(file)])
        built = self.read(check, session, file, parse)
        if built is None:
            return check
        parts = []
        if built.image:
            parts.append(built.references[0] if built.references else built.image)
        digest = built.digest or built.image_id
        if digest:
            parts.append(digest[:19])
        for dist in (built.wheel, built.sdist):
            if dist:
                parts.append(Path(dist).name)
        check.status, check.summary = "passed", ", ".join(parts) or "built"
        data = built.to_dict()
        check.details += [f"{k}: {v}" for k, v in sorted(data.items()) if isinstance(v, str) and v]
        self.session_failed(check, session, check.summary)
        return check

    def load(self, name: str, session: str, file: str) -> Check:
        check = self.base(name, session, [self.shown(file)])
        data = self.read(check, session, file, read_json)
        if data is None:
            return check
        figures = data.get("figures") or {}
        for key in ("p95_ms", "error_ratio", "rps", "requests", "failures"):
            value = figures.get(key)
            if isinstance(value, (int, float)):
                check.metrics[key] = value
        slo = data.get("slo") or {}
        check.summary = (
            f"p95 {figures.get('p95_ms', 0):.0f} ms, {figures.get('error_ratio', 1):.2%} errors, "
            f"{figures.get('rps', 0):.1f} req/s (SLO: p95 <= {slo.get('p95_latency_ms', '?')} "
            f"ms, errors <= {slo.get('max_error_ratio', '?')}, >= "
            f"{slo.get('min_throughput_rps', '?')} req/s)"
        )
        check.details += [str(m) for m in data.get("misses") or []]
        check.status = "passed" if data.get("passed") else "failed"
        plot = data.get("plot")
        if isinstance(plot, str) and self.path(plot).is_file():
            check.sources.append(self.shown(plot))  # the HTML report shows it
        if check.status == "passed":
            self.session_failed(check, session, check.summary)
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


def findings(tool: str, parse: Callable[[Path, Path], list[Finding]]) -> KindReader:
    """The ``read`` of a kind of findings file: ``parse`` turns the file (path, project root)
    into findings, or raises :class:`~noxops.reports.model.ReadProblem`; the check fails on any
    finding, or when its session failed although the file holds none."""

    def read(reader: Reader, name: str, session: str, file: str) -> Check:
        check, figure = reader.linter(name, session, file, tool, parse)
        if figure:
            reader.session_failed(check, session, figure)
        return check

    return read


# The kinds of report file noxops's own stages write, each with how it is read into its check
# and how CI publishes it.
kind("junit", doc="JUnit XML of a test run", read=Reader.junit, publish="junit")
kind("mypy", doc="mypy's JUnit XML", read=Reader.mypy, publish="junit")
kind(
    "coverage",
    doc="a Cobertura XML coverage report (the gate's)",
    read=Reader.coverage,
    publish="coverage",
)
kind("coverage-part", doc="one Python's Cobertura XML, combined later")
kind("coverage-data", doc="coverage.py's data (one Python's run, or the combined runs)")
kind("ruff", doc="ruff's JSON findings", read=Reader.ruff)
kind(
    "flake8",
    doc="flake8's findings in its default format (path:line:col: CODE message)",
    read=findings("flake8", read_flake8),
)
kind(
    "pylint",
    doc="pylint's JSON findings (json2 or the older json format)",
    read=findings("pylint", read_pylint),
)
kind("bandit", doc="bandit's JSON report", read=Reader.bandit)
kind("audit", doc="noxops's dependency-audit verdict", read=Reader.audit)
kind("manifest", doc="the build manifest", read=Reader.manifest)
kind("load", doc="noxops's load-test figures against the SLO", read=Reader.load)
kind("codequality", doc="GitLab Code Quality", publish="codequality")
kind("sarif", doc="SARIF 2.1.0", publish="sarif")
kind("file", doc="anything else a person may read")


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
    return interpreters.find(version) is None


def _pythons(config: Config, stages: Stages, records: Mapping[str, SessionRecord]) -> list[str]:
    """The configured Pythons plus those an earlier run left files or records for."""
    pythons = list(config.pythons)
    reports = config.reports
    for st in stages.values():
        for out in st.outputs:
            if out.check is None or "{python}" not in out.check:
                continue
            before, _, after = out.name(config, "\0").partition("\0")
            pattern = re.compile(re.escape(before) + r"(\d+\.\d+)" + re.escape(after) + "$")
            files = sorted(reports.glob(before + "*" + after)) if reports.is_dir() else []
            found = [m.group(1) for p in files if (m := pattern.match(p.name))]
            prefix = f"{st.name}-"
            found += [n[len(prefix) :] for n in records if n.startswith(prefix)]
            pythons += [py for py in found if py not in pythons and re.match(r"^\d+\.\d+$", py)]
    return pythons


def gather(
    config: Config, stages: Stages, nox_report: Optional[Path] = None
) -> tuple[list[Check], list[tuple[str, float, int, int]], list[str]]:
    """Every check's result (before the gate), coverage per file, and general problems.

    The checks are those the ``stages`` declare (their outputs with a check), in order.
    """
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

    reader = Reader(config, records, stages)
    expected = expected_checks(config, stages)
    reports = config.reports
    checks: list[Check] = []
    covered_sessions = {name for name, st in stages.items() if not st.check}
    for entry in _entries(config, stages, _pythons(config, stages, records)):
        declared = KINDS.get(entry.output.kind)
        read = declared.read if declared is not None else _undeclared(entry.output.kind)
        file_there = (reports / entry.file).exists()
        present = file_there or entry.session in records
        if not entry.output.when(config) and not file_there:
            continue  # not a check with this configuration: its session may still be shown
        covered_sessions.add(entry.session)
        if read is None:
            continue
        if not present and entry.check not in expected:
            continue
        if not present and entry.python is not None and _missing_locally(entry.python):
            checks.append(
                Check(
                    name=entry.check,
                    status="skipped",
                    summary=f"skipped: Python {entry.python} is not installed here "
                    "(in CI a missing Python fails the run)",
                )
            )
            continue
        check = _explained(
            read(reader, entry.check, entry.session, entry.file), records, entry.session
        )
        check = _revision(check, config, records, entry.session)
        check = _marked(check, records, entry.session, config)
        check.mode = entry.output.mode  # the gate's default for it (the configuration wins)
        checks.append(check)
    for name, rec in records.items():
        if name not in covered_sessions:
            check = _explained(reader.session_only(rec), records, rec.name)
            check = _revision(check, config, records, rec.name)
            checks.append(_marked(check, records, rec.name, config))
    return checks, reader.coverage_files, problems


def _undeclared(name: str) -> KindReader:
    """The ``read`` of a file of kind ``name``, which no :func:`~noxops.reports.outputs.kind`
    declares: its check is not run, and says why (a file nobody read never passes)."""

    def read(reader: Reader, check: str, session: str, file: str) -> Check:
        result = reader.base(check, session, [reader.shown(file)])
        result.summary = f"not read: {reader.shown(file)} is of kind {name!r}, declared nowhere"
        result.problems.append(result.summary)
        return result

    return read


def _explained(check: Check, records: Mapping[str, SessionRecord], session: str) -> Check:
    """A failed check with no finding or failing test to show gets the lines of its session's
    log that say what ended the run (its record keeps them), not only "Returned code 1"."""
    rec = records.get(session)
    if check.status == "failed" and not check.findings and not check.details and rec:
        check.details += rec.errors
    return check


def _revision(
    check: Check, config: Config, records: Mapping[str, SessionRecord], session: str
) -> Check:
    """A run that used the build manifest's image says which revision it was when that was
    not HEAD's (or could not be checked). Only the record of the session's last run counts."""
    rec = records.get(session)
    path = revision.record_path(config, session)
    if rec is None or not rec.run or not path.exists():
        return check
    try:
        use = revision.Use.from_dict(read_json(path, config.root))
    except ReadProblem as exc:
        check.problems.append(f"{exc}: which revision's image {session} used is unknown")
        return check
    if use.run != rec.run or not use.note():
        return check
    if use.other:
        check.other_revision = use.note()
        check.summary = f"{check.summary} ({use.note()})"
    check.details.insert(0, use.note())
    return check


def _marked(
    check: Check, records: Mapping[str, SessionRecord], session: str, config: Config
) -> Check:
    """A result ``--changed-only`` replayed says so everywhere it is shown: in its summary, on
    each finding (so in CI annotations, SARIF and Code Quality) and in the JSON; with the
    commit of the run it replays, when its run record (the one that finished then) has it."""
    from noxops.incremental import changed

    rec = records.get(session)
    if rec is None or rec.replayed_from is None:
        return check
    when = rec.replayed_from.replace("T", " ").replace("Z", " UTC") or "an earlier run"
    note = f"unchanged since {when}, not rerun"
    try:
        run = read_json(changed.record_path(config, session), config.root)
    except ReadProblem:
        run = {}
    commit = changed.replayed_commit(run) if run.get("finished") == rec.replayed_from else ""
    if commit:
        note = f"replayed from {commit}: {note}"
    check.replayed = rec.replayed_from
    check.summary = f"{check.summary} ({note})"
    for finding in check.findings:
        finding.message = f"{finding.message} ({note})"
    return check


def build_report(config: Config, stages: Stages, nox_report: Optional[Path] = None) -> Report:
    """Gather the ``stages``' checks, apply the gate, and return the report every output is
    written from."""
    checks, coverage_files, problems = gather(config, stages, nox_report)
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
