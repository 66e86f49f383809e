"""GitHub Actions: workflow annotations and the job's step summary (Markdown).

GitHub shows at most 10 error and 10 warning annotations per step (and drops the rest
silently), so the first nine of each kind are printed and the tenth says how many more
there are. The step summary must stay under 1 MiB: finding rows are dropped, with a note,
until it fits.
"""

from __future__ import annotations

from pathlib import Path

from noxops.reports.gate import STATUS_WORDS
from noxops.reports.model import Finding, Report
from noxops.reports.terminal import format_duration

__all__ = [
    "MAX_PER_LEVEL",
    "SUMMARY_LIMIT",
    "annotation_commands",
    "append_step_summary",
    "escape_data",
    "escape_property",
    "step_summary",
]

MAX_PER_LEVEL = 10
SUMMARY_LIMIT = 1024 * 1024  # bytes GitHub accepts per step summary
_ANNOTATED = ("ruff", "flake8", "mypy", "bandit", "pylint")
_ICONS = {
    "passed": "✅",
    "failed": "❌",
    "not-run": "⚠️",
    "not-audited": "⚠️",
    "skipped": "⏭️",
}


def escape_data(text: str) -> str:
    """A workflow command's message: ``%``, CR and LF are escaped."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: also ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _command(finding: Finding) -> str:
    props = [f"file={escape_property(finding.path)}", f"line={finding.line}"]
    if finding.column:
        props.append(f"col={finding.column}")
    props.append(f"title={escape_property(f'{finding.tool} {finding.rule}')}")
    level = "error" if finding.level == "error" else "warning"
    return f"::{level} {','.join(props)}::{escape_data(finding.message)}"


def annotation_commands(report: Report) -> list[str]:
    """Workflow commands for the lint, type and bandit findings, within GitHub's limits."""
    findings = [f for c in report.checks for f in c.findings if f.tool in _ANNOTATED and f.path]
    lines: list[str] = []
    for level in ("error", "warning"):
        chosen = [f for f in findings if (f.level == "error") == (level == "error")]
        if len(chosen) <= MAX_PER_LEVEL:
            lines += [_command(f) for f in chosen]
            continue
        lines += [_command(f) for f in chosen[: MAX_PER_LEVEL - 1]]
        rest = len(chosen) - (MAX_PER_LEVEL - 1)
        lines.append(
            f"::{level} title={escape_property('noxops report')}::"
            + escape_data(
                f"{rest} more {level}s not annotated (GitHub shows {MAX_PER_LEVEL} per step); "
                "see the job summary or reports/summary.json"
            )
        )
    return lines


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def step_summary(report: Report, limit: int = SUMMARY_LIMIT) -> str:
    """The Markdown summary, kept under ``limit`` bytes."""
    head = [
        f"## noxops report: {_cell(report.project)}",
        "",
        f"**{'✅' if report.passed else '❌'} {_cell(report.verdict)}**",
        "",
        "| Check | Status | Gate | Time | Result | Log |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for c in report.checks:
        gate = "blocks" if c.blocks else c.mode
        log = f"`{c.log}`" if c.log else ""
        head.append(
            f"| {_cell(c.name)} | {_ICONS[c.status]} {STATUS_WORDS[c.status]} | {gate} | "
            f"{format_duration(c.duration)} | {_cell(c.summary)} | {log} |"
        )
    notes = [
        f"- **{_cell(c.name)}**: {_cell(text)}"
        for c in report.checks
        for text in [*c.problems, *c.details]
        if c.status != "passed"
    ]
    rows = [
        f"| {f.tool} | `{_cell(f.rule)}` | `{_cell(f.path)}:{f.line}` | {_cell(f.message)} |"
        for f in report.findings
    ]
    tail = ["", "Full logs of each session: `reports/sessions/<session>.log` (keep `reports/` "
            "as a build artifact to read them).", ""]  # fmt: skip

    def build(n_notes: int, n_rows: int) -> str:
        parts = list(head)
        if n_notes:
            parts += ["", "### What did not pass", "", *notes[:n_notes]]
            if n_notes < len(notes):
                parts.append(f"- … {len(notes) - n_notes} more in `reports/summary.json`")
        if n_rows:
            parts += ["", "### Findings", "", "| Tool | Rule | Where | Message |"]
            parts += ["| --- | --- | --- | --- |", *rows[:n_rows]]
            if n_rows < len(rows):
                parts.append(
                    f"\n{len(rows) - n_rows} more findings in `reports/summary.json` "
                    "(the summary is limited to 1 MiB)"
                )
        return "\n".join(parts + tail)

    def size(text: str) -> int:
        return len(text.encode("utf-8"))

    def fitting(items: list[str], room: int) -> int:
        """How many of ``items`` (one line each) fit in ``room`` bytes."""
        used = 0
        for count, item in enumerate(items):
            used += size(item) + 1
            if used > room:
                return count
        return len(items)

    reserve = 200  # the "more in summary.json" lines and the findings header
    text = build(len(notes), len(rows))
    if size(text) <= limit:
        return text
    n_notes = fitting(notes, limit - size(build(0, 0)) - reserve)
    n_rows = fitting(rows, limit - size(build(n_notes, 0)) - reserve)
    text = build(n_notes, n_rows)
    while size(text) > limit and (n_rows or n_notes):  # pragma: no cover - reserve suffices
        n_rows, n_notes = (n_rows - 1, n_notes) if n_rows else (0, n_notes - 1)
        text = build(n_notes, n_rows)
    return text


def append_step_summary(report: Report, path: Path) -> None:
    """Append to ``$GITHUB_STEP_SUMMARY``, leaving room for what the step already wrote."""
    used = path.stat().st_size if path.is_file() else 0
    with path.open("a", encoding="utf-8") as fh:
        fh.write(step_summary(report, limit=max(4096, SUMMARY_LIMIT - used - 1)) + "\n")
