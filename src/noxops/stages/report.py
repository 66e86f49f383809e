"""The ``report`` stage: one quality gate over every stage's results."""

from __future__ import annotations

from typing import TYPE_CHECKING

from noxops.reports.output import OUTPUT_FILES, run_report
from noxops.reports.settings import ReportConfig
from noxops.stages.base import CI, STAGES, Output, stage

if TYPE_CHECKING:
    import nox

    from noxops.config import Config

__all__ = ["OUTPUTS", "report"]


# The report's own files (named once, in noxops.reports.output), for CI to publish.
OUTPUTS = (
    Output(OUTPUT_FILES["gitlab"], kind="codequality"),
    Output(OUTPUT_FILES["sarif"], kind="sarif"),
    *(Output(OUTPUT_FILES[k], kind="file") for k in ("summary", "html", "sonar")),
)


@stage(
    "report",
    python="none",
    section="report",
    settings=ReportConfig,
    allow_parallel=False,
    outputs=OUTPUTS,
    ci=CI(stage="report"),
    check=False,  # the gate over the checks, not one of them
)
def report(session: nox.Session, config: Config) -> None:
    """Gate on every stage's results; write the summary, SARIF, Code Quality, HTML."""
    code = run_report(config, STAGES.for_config(config))
    if code:
        session.error("the quality gate failed: see the table above")
