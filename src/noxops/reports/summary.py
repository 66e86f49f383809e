"""The machine-readable summary: ``reports/summary.json``."""

from __future__ import annotations

from typing import Any

from noxops.reports.model import Report

__all__ = ["SUMMARY_FORMAT", "summary"]

SUMMARY_FORMAT = 1


def summary(report: Report) -> dict[str, Any]:
    """Every check with its status, mode, figures, findings and log; the verdict and exit code."""
    data = report.to_dict()
    data["format"] = SUMMARY_FORMAT
    data["counts"] = {
        status: sum(1 for c in report.checks if c.status == status)
        for status in ("passed", "failed", "not-run", "not-audited", "skipped")
    }
    return data
