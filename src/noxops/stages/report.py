"""The ``report`` stage: one quality gate over every stage's results."""

from __future__ import annotations

from typing import TYPE_CHECKING

from noxops.stages.base import stage

if TYPE_CHECKING:
    import nox

    from noxops.config import Config

__all__ = ["report"]


@stage("report", python="none", section="report", allow_parallel=False)
def report(session: nox.Session, config: Config) -> None:
    """Gate on every stage's results; write the summary, SARIF, Code Quality, HTML."""
    from noxops.reports.output import run_report

    code = run_report(config)
    if code:
        session.error("the quality gate failed: see the table above")
