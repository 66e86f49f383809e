"""The terminal summary: one row per check, readable without colour.

Status words carry the meaning on their own (``FAILED``, ``NOT RUN``, ``NOT AUDITED``);
colour is added only on a terminal, and never when ``NO_COLOR`` is set or ``TERM=dumb``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import IO, Optional

from noxops.reports.gate import STATUS_WORDS
from noxops.reports.model import Check, Report

__all__ = ["format_duration", "render", "use_colour"]

_COLOURS = {"passed": "32", "failed": "31;1", "not-run": "33;1", "not-audited": "33;1"}
_MAX_DETAILS = 5


def use_colour(stream: IO[str], env: Optional[Mapping[str, str]] = None) -> bool:
    env = os.environ if env is None else env
    if env.get("NO_COLOR") or env.get("TERM") == "dumb":
        return False
    if env.get("FORCE_COLOR", "0") not in ("", "0"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def format_duration(seconds: Optional[float]) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m{secs:02d}s"


def _gate_word(check: Check) -> str:
    if check.blocks:
        return "BLOCKS"
    return check.mode


def render(report: Report, *, colour: bool = False, width: int = 100) -> str:
    """The table, the details of what did not pass, and the verdict."""
    headers = ("CHECK", "STATUS", "GATE", "TIME", "RESULT")
    rows = [
        (
            c.name,
            STATUS_WORDS[c.status],
            _gate_word(c),
            format_duration(c.duration),
            c.summary,
        )
        for c in report.checks
    ]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers[:4])]
    room = max(20, width - sum(widths) - 2 * 4)

    def line(cells: tuple[str, ...], status: str = "") -> str:
        parts = [cells[i].ljust(widths[i]) for i in range(4)]
        result = cells[4] if len(cells[4]) <= room else cells[4][: room - 3] + "..."
        if colour and status in _COLOURS:
            parts[1] = f"\x1b[{_COLOURS[status]}m{parts[1]}\x1b[0m"
        return "  ".join([*parts, result]).rstrip()

    out = [f"noxops report: {report.project}", line(headers)]
    out.append("  ".join("-" * w for w in widths) + "  " + "-" * min(room, 40))
    out += [line(r, c.status) for r, c in zip(rows, report.checks)]
    for check in report.checks:
        flagged = check.other_revision is not None
        if check.status == "passed" and not check.findings and not check.problems and not flagged:
            continue
        lines = [*check.problems, *check.details]
        if not check.details:
            lines += [f"{f.path}:{f.line}: {f.rule} {f.message}" for f in check.findings if f.path]
        if not lines and not check.log:
            continue
        out.append("")
        out.append(f"{check.name} ({STATUS_WORDS[check.status]}):")
        out += [f"  {text.splitlines()[0] if text else ''}" for text in lines[:_MAX_DETAILS]]
        if len(lines) > _MAX_DETAILS:
            out.append(f"  ... and {len(lines) - _MAX_DETAILS} more (see reports/summary.json)")
        if check.log:
            out.append(f"  log: {check.log}")
    out.append("")
    verdict = f"gate: {report.verdict}"
    if colour:
        verdict = f"\x1b[{'32' if report.passed else '31;1'}m{verdict}\x1b[0m"
    out.append(verdict)
    return "\n".join(out) + "\n"
