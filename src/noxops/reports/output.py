"""Writing every output of the report and deciding the exit code."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from noxops.config import Config
    from noxops.reports.collect import Stages
    from noxops.reports.model import Report

# The report's own modules (gathering, HTML, SARIF, the CI providers, ...) are imported by the
# functions below, when a report is made: the report and notify stages import this module for
# OUTPUT_FILES, and every nox process (one per session under `nox -j`) loads every stage.

__all__ = ["OUTPUT_FILES", "run_report", "write_outputs"]

OUTPUT_FILES = {
    "summary": "summary.json",
    "html": "report.html",
    "gitlab": "gl-code-quality-report.json",
    "sarif": "noxops.sarif",
    "sonar": "sonar-project.properties",
}


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def write_outputs(
    report: Report, config: Config, stages: Stages, env: Optional[Mapping[str, str]] = None
) -> dict[str, Path]:
    """Write every file output (and the GitHub step summary when it is set); returns them."""
    from noxops.ci import providers
    from noxops.reports.github import append_step_summary
    from noxops.reports.gitlab import code_quality
    from noxops.reports.html import render_html
    from noxops.reports.sarif import sarif
    from noxops.reports.sonar import sonar_properties
    from noxops.reports.summary import summary

    env = os.environ if env is None else env
    folder = config.reports
    paths = {kind: folder / name for kind, name in OUTPUT_FILES.items()}
    _write(paths["summary"], _json(summary(report)))
    _write(paths["html"], render_html(report, folder, config.root))
    _write(paths["gitlab"], _json(code_quality(report)))
    _write(paths["sarif"], _json(sarif(report)))
    _write(paths["sonar"], sonar_properties(config, stages))
    step_summary = providers.summary_file(env)
    if step_summary is not None:
        append_step_summary(report, step_summary)
        paths["github"] = step_summary
    return paths


def run_report(
    config: Config,
    stages: Stages,
    *,
    nox_report: Optional[Path] = None,
    stream: Optional[IO[str]] = None,
    env: Optional[Mapping[str, str]] = None,
    colour: Optional[bool] = None,
) -> int:
    """Gather the ``stages``' checks, gate, print the table (and GitHub annotations), write the
    files: the exit code."""
    from noxops.ci import providers
    from noxops.masking import mask_data, register_environ
    from noxops.reports.collect import build_report
    from noxops.reports.files import display
    from noxops.reports.github import annotation_commands
    from noxops.reports.terminal import render, use_colour

    env = os.environ if env is None else env
    stream = sys.stdout if stream is None else stream
    register_environ(env)
    # Every output shows the report masked: a failure's message or a tool's finding may
    # quote a secret, and JSON and HTML would escape it past the masker after writing.
    report = mask_data(build_report(config, stages, nox_report))
    paths = write_outputs(report, config, stages, env)
    if providers.current(env).annotations:
        for line in annotation_commands(report):
            stream.write(line + "\n")
    use = use_colour(stream, env) if colour is None else colour
    stream.write(render(report, colour=use))
    shown = ", ".join(display(p, config.root) for k, p in paths.items() if k != "github")
    stream.write(f"written: {shown}\n")
    stream.flush()
    return report.exit_code
