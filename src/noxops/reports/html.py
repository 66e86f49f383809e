"""One self-contained HTML page (no scripts, no external files): checks, timings, findings,
coverage per file, the charts checks made (SVG, embedded as images), with links to each
session's log."""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path

from noxops.reports.gate import STATUS_WORDS
from noxops.reports.model import Report
from noxops.reports.terminal import format_duration

__all__ = ["render_html"]

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}
table{border-collapse:collapse;width:100%}th,td{padding:.3em .6em;text-align:left;
border-bottom:1px solid #ddd;vertical-align:top}th{background:#f4f4f4}
.passed{color:#176f2c}.failed{color:#b00020;font-weight:bold}.not-run,.not-audited{color:#a05a00;
font-weight:bold}.skipped{color:#666}.verdict{padding:.7em 1em;border-radius:4px;font-weight:bold}
.ok{background:#e6f4ea}.bad{background:#fde7e9}.bar{background:#4a7bd0;height:.8em;display:inline-block}
.num{text-align:right;white-space:nowrap}code{font-size:.95em}pre{white-space:pre-wrap;margin:0}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _href(target: str, page_dir: Path, root: Path) -> str:
    """A link from the page to a project-relative file."""
    rel = os.path.relpath(root / target, page_dir)
    return _e(Path(rel).as_posix())


def _figures(report: Report, root: Path) -> list[str]:
    """Each SVG a check read, as an embedded image (an <img> runs no script in it)."""
    found = []
    for c in report.checks:
        for source in c.sources:
            path = root / source
            if source.endswith(".svg") and path.is_file():
                data = base64.b64encode(path.read_bytes()).decode("ascii")
                found.append(
                    f'<figure><img alt="{_e(c.name)} chart" '
                    f'src="data:image/svg+xml;base64,{data}"><figcaption>{_e(c.name)}: '
                    f"{_e(c.summary)}</figcaption></figure>"
                )
    return found


def render_html(report: Report, page_dir: Path, root: Path) -> str:
    longest = max([c.duration or 0.0 for c in report.checks] + [1e-9])
    rows = []
    for c in report.checks:
        width = int(100 * (c.duration or 0.0) / longest)
        log = f'<a href="{_href(c.log, page_dir, root)}">log</a>' if c.log else ""
        rows.append(
            f'<tr><td>{_e(c.name)}</td><td class="{c.status}">{_e(STATUS_WORDS[c.status])}</td>'
            f"<td>{'blocks' if c.blocks else _e(c.mode)}</td>"
            f'<td class="num">{_e(format_duration(c.duration))}</td>'
            f'<td><span class="bar" style="width:{width}%"></span></td>'
            f"<td>{_e(c.summary)}</td><td>{log}</td></tr>"
        )
    notes = [
        f"<li><b>{_e(c.name)}</b>: <pre>{_e(text)}</pre></li>"
        for c in report.checks
        if c.status != "passed" or c.other_revision is not None
        for text in [*c.problems, *c.details]
    ]
    findings = [
        f"<tr><td>{_e(f.tool)}</td><td><code>{_e(f.rule)}</code></td>"
        f"<td><code>{_e(f.path)}:{f.line}</code></td><td>{_e(f.level)}</td>"
        f"<td>{_e(f.message)}</td></tr>"
        for f in report.findings
    ]
    coverage = [
        f'<tr><td><code>{_e(p)}</code></td><td class="num">{pct:.1f}%</td>'
        f'<td class="num">{cov} / {n}</td></tr>'
        for p, pct, cov, n in report.coverage_files
    ]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>noxops report: {_e(report.project)}</title><style>{_CSS}</style></head><body>",
        f"<h1>noxops report: {_e(report.project)}</h1>",
        f'<p class="verdict {"ok" if report.passed else "bad"}">{_e(report.verdict)}</p>',
        f"<p>Generated {_e(report.generated)}.</p>",
        "<h2>Checks and timings</h2>",
        "<table><tr><th>Check</th><th>Status</th><th>Gate</th><th>Time</th><th></th>"
        "<th>Result</th><th>Log</th></tr>",
        *rows,
        "</table>",
    ]
    if notes:
        parts += ["<h2>What did not pass</h2><ul>", *notes, "</ul>"]
    figures = _figures(report, root)
    if figures:
        parts += ["<h2>Charts</h2>", *figures]
    parts.append(f"<h2>Findings ({len(findings)})</h2>")
    if findings:
        parts += [
            "<table><tr><th>Tool</th><th>Rule</th><th>Where</th><th>Level</th>"
            "<th>Message</th></tr>",
            *findings,
            "</table>",
        ]
    else:
        parts.append("<p>None.</p>")
    parts.append("<h2>Coverage per file</h2>")
    if coverage:
        parts += [
            "<table><tr><th>File</th><th>Covered</th><th>Lines</th></tr>",
            *coverage,
            "</table>",
        ]
    else:
        parts.append("<p>No coverage report.</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
