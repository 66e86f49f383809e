"""The ``security`` stage: bandit over the sources and an audit of the resolved dependencies.

The audit never reports "no known vulnerabilities" unless it really checked: every
dependency must have been looked up (pip-audit's ``skip_reason`` says when one was not),
and a known-vulnerable canary must come back vulnerable (a database that cannot be reached
answers "nothing found" for everything). Otherwise the result is "not audited", which fails
the stage unless ``allow_unaudited`` is set.

The evidence is this run's own: pip-audit's earlier outputs are deleted before it runs, a
pip-audit that leaves no readable report (a crash) is shown and counts as "not audited",
and ``audit.json`` carries the session's run id (:mod:`noxops.reports.records`), which
the report checks against the session's record. Requirements behind extras
(``psycopg[binary]`` -> psycopg-binary) are audited too.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noxops.config import SecurityConfig
from noxops.masking import mask
from noxops.reports.gate import bandit_blocking, bandit_limit
from noxops.reports.model import ReadProblem
from noxops.reports.scanners import read_bandit
from noxops.runtime import inject
from noxops.stages.base import (
    CI,
    Install,
    Output,
    project_install,
    report_path,
    run_tool,
    stage,
    write_json,
)

if TYPE_CHECKING:
    import nox

    from noxops.config import Config

__all__ = [
    "AUDIT",
    "BANDIT",
    "AuditResult",
    "bandit_verdict",
    "classify_audit",
    "security",
    "security_env",
    "security_paths",
]

BANDIT = Output("bandit.json", kind="bandit", check="bandit")
# noxops's verdict on the audit (pip-audit's own output is kept beside it).
AUDIT = Output("audit.json", kind="audit", check="audit", when=lambda config: config.security.audit)
PIP_AUDIT = Output("pip-audit.json", kind="file")

# A release with long-published advisories: if the audit finds nothing here, it found nothing
# anywhere because it could not reach its data.
CANARY = "requests==2.5.0"


@dataclass
class AuditResult:
    """What the dependency audit established."""

    status: str  # "audited", "vulnerable" or "not-audited"
    audited: int = 0
    skipped: list[str] = field(default_factory=list)
    vulnerabilities: list[dict[str, Any]] = field(default_factory=list)
    reason: str = ""
    run: str = ""  # the session run that made it (NOXOPS_RUN_ID)

    @property
    def summary(self) -> str:
        if self.status == "audited":
            return f"dependency audit: {self.audited} packages audited, no known vulnerabilities"
        if self.status == "vulnerable":
            lines = [f"dependency audit: {len(self.vulnerabilities)} known vulnerabilities"]
            lines += [
                f"  {v['name']} {v['version']}: {v['id']}"
                + (f" (fixed in {', '.join(v['fix_versions'])})" if v["fix_versions"] else "")
                for v in self.vulnerabilities
            ]
            return "\n".join(lines)
        return f"dependency audit: NOT AUDITED: {self.reason}"


def classify_audit(project: dict[str, Any], canary: dict[str, Any] | None) -> AuditResult:
    """Decide from pip-audit's JSON for the project (and for the canary) what was audited."""
    deps = project.get("dependencies", [])
    skipped = [f"{d['name']}: {d['skip_reason']}" for d in deps if d.get("skip_reason")]
    vulns = [
        {
            "name": d["name"],
            "version": d.get("version", "?"),
            "id": v.get("id", "?"),
            "fix_versions": v.get("fix_versions", []),
        }
        for d in deps
        for v in d.get("vulns", [])
    ]
    audited = len(deps) - len(skipped)
    if vulns:
        return AuditResult("vulnerable", audited, skipped, vulns)
    if skipped:
        return AuditResult(
            "not-audited",
            audited,
            skipped,
            reason=f"{len(skipped)} of {len(deps)} packages could not be looked up "
            f"(first: {skipped[0]})",
        )
    canary_deps = (canary or {}).get("dependencies", [])
    if canary is not None and not any(d.get("vulns") for d in canary_deps):
        return AuditResult(
            "not-audited",
            0,
            reason=f"the vulnerability service reported nothing for {CANARY}, which has "
            "published advisories, so its data was not reachable",
        )
    return AuditResult("audited", audited)


def bandit_verdict(config: Config, path: Path) -> tuple[list[str], list[str], list[str]]:
    """Every bandit finding as a log line, those that fail the stage, and the files bandit
    could not scan (they fail it too). The findings that fail are the ones above
    ``[tool.noxops.security] max_bandit_severity`` (low by default): the same judge as the
    report's bandit check (:mod:`noxops.reports.gate`), which fails on both as well."""
    findings, errors = read_bandit(path, config.root)
    over = bandit_blocking(findings, bandit_limit(config)[0])
    lines = [
        f"{f.path}:{f.line}: {f.rule} [{'over the threshold' if f in over else 'tolerated'}] "
        f"{f.message}"
        for f in findings
    ]
    unscanned = [f"bandit could not scan {e}" for e in errors]
    return lines, [line for f, line in zip(findings, lines) if f in over], unscanned


def _bandit_result(
    config: Config, path: Path, ok: bool, problems: list[str]
) -> tuple[list[str], list[str], list[str]]:
    """:func:`bandit_verdict` of bandit's run; what went wrong is added to ``problems``."""
    if not ok:
        problems.append("bandit could not run (see its output above)")
    if not ok or not path.is_file():
        return [], [], []
    try:
        return bandit_verdict(config, path)
    except ReadProblem as exc:
        problems.append(f"bandit's report cannot be read: {exc}")
        return [], [], []


def _bandit_config_args(config: Config) -> list[str]:
    """``-c pyproject.toml`` when the project configures bandit there (bandit does not look)."""
    if "bandit" in config.project.tool:
        return ["-c", str(config.project.path)]
    return []


def _pip_audit(session: nox.Session, requirements: Path, output: Path) -> dict[str, Any]:
    """pip-audit's JSON for ``requirements``; an earlier run's output never stands in for it,
    and when it leaves none (a crash), its output is shown and nothing counts as audited."""
    output.unlink(missing_ok=True)
    shown = str(
        session.run(
            "pip-audit", "--requirement", str(requirements), "--no-deps", "--disable-pip",
            "--progress-spinner=off", "--format=json", f"--output={output}",
            success_codes=[0, 1], silent=True,
        ) or ""
    )  # fmt: skip
    try:
        loaded: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
        if not isinstance(loaded.get("dependencies"), list):
            raise ValueError("no 'dependencies' list")
    except (OSError, ValueError, AttributeError) as exc:
        tail = "\n".join(shown.strip().splitlines()[-20:])
        session.warn(f"pip-audit wrote no readable report ({exc}); its output:\n{mask(tail)}")
        why = f"pip-audit failed and wrote no readable report ({type(exc).__name__})"
        return {"dependencies": [{"name": "(all)", "skip_reason": why}]}
    return loaded


def security_env(config: Config, python: str | None) -> list[Install]:
    """The project as users get it (not editable), then bandit and pip-audit.

    Two calls: the project's dependency closure is listed for the audit before the tools are
    installed beside it.
    """
    tools = ("bandit", *(["pip-audit"] if config.security.audit else []))
    return [project_install(config, editable=False), tools]


def security_paths(config: Config) -> list[str]:
    """What bandit scans; with the audit on, the stage's result also depends on advisory data
    that changes daily, so ``--changed-only`` cannot tell (LookupError)."""
    if config.security.audit:
        raise LookupError("the dependency audit depends on advisory data that changes daily")
    return list(config.security.paths) or config.sources


@stage(
    "security",
    section="security",
    settings=SecurityConfig,
    env=security_env,
    inputs=security_paths,
    outputs=[BANDIT, AUDIT, PIP_AUDIT],
    ci=CI(stage="quality"),
)
def security(session: nox.Session, config: Config) -> None:
    """Scan the sources with bandit and audit the resolved dependencies."""
    cfg = config.security
    problems: list[str] = []
    project_args, tool_args = security_env(config, None)
    session.install(*project_args)
    frozen = ""
    if cfg.audit:
        # The installed closure of the project's requirements (noxops/_inject/).
        script = inject.copy("noxops_list_deps.py", Path(str(session.virtualenv.location)))
        listed = session.run("python", str(script), config.project_name, silent=True)
        frozen = str(listed or "")
    session.install(*tool_args)

    bandit_json = BANDIT.path(config)
    paths = list(cfg.paths) or config.sources
    ok = run_tool(
        session, "bandit", "-r", "-q", "-f", "json", "-o", str(bandit_json),
        *_bandit_config_args(config), *cfg.bandit_args,
        *paths, success_codes=[0, 1], silent=True,
    )  # fmt: skip
    findings, over, unscanned = _bandit_result(config, bandit_json, ok, problems)
    for line in findings + unscanned:
        session.log(line)
    if unscanned:
        problems.append(f"bandit could not scan {len(unscanned)} file(s) (listed above)")
    limit, note = bandit_limit(config)
    if note:
        session.warn(f"noxops: {note}")
    if over:
        problems.append(
            f"bandit: {len(findings)} finding(s), {len(over)} above the tolerated severity "
            f"({limit}; [tool.noxops.security] max_bandit_severity)"
        )
    elif findings:
        session.log(
            f"bandit: {len(findings)} finding(s), none above the tolerated severity ({limit})"
        )
    elif not unscanned:
        session.log(f"bandit: no findings in {', '.join(paths)}")

    if not cfg.audit:
        return _finish(session, problems)
    run = os.environ.get("NOXOPS_RUN_ID") or os.urandom(16).hex()
    AUDIT.path(config).unlink(missing_ok=True)  # no earlier verdict survives a failed run
    requirements = report_path(config, "audit-requirements.txt")
    requirements.write_text(frozen, encoding="utf-8")
    project = _pip_audit(session, requirements, PIP_AUDIT.path(config))
    canary_req = report_path(config, ".audit-canary.txt")
    canary_req.write_text(CANARY + "\n", encoding="utf-8")
    canary = _pip_audit(session, canary_req, report_path(config, ".audit-canary.json"))
    result = classify_audit(project, canary)
    result.run = run
    write_json(AUDIT.path(config), asdict(result))
    session.log(result.summary)
    if result.status == "vulnerable":
        problems.append("dependency audit found known vulnerabilities")
    elif result.status == "not-audited":
        if cfg.allow_unaudited or os.environ.get("NOXOPS_ALLOW_UNAUDITED") == "1":
            session.warn(
                "dependencies NOT AUDITED; allowed by [tool.noxops.security] allow_unaudited "
                "or NOXOPS_ALLOW_UNAUDITED=1"
            )
        else:
            problems.append(
                "dependencies were not audited; fix access to the vulnerability data, or set "
                "allow_unaudited = true in [tool.noxops.security] (or NOXOPS_ALLOW_UNAUDITED=1 "
                "for this machine) to accept that"
            )
    _finish(session, problems)


def _finish(session: nox.Session, problems: list[str]) -> None:
    if problems:
        session.error("security failed: " + "; ".join(problems))
