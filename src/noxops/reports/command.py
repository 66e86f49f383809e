"""``noxops report``: the quality gate over the last pipeline run's reports."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from noxops.config import load
from noxops.errors import NoxopsError
from noxops.reports.output import run_report
from noxops.stages import STAGES

__all__ = ["add_parser", "main"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "report",
        help="gate on the pipeline's results and write the reports",
        description=(
            "Read what every stage wrote under the reports folder, print one row per check, "
            "write the summary (JSON, HTML, SARIF, GitLab Code Quality, "
            "sonar-project.properties, GitHub step summary) and exit 0 only when every "
            "blocking check passed."
        ),
    )
    parser.add_argument(
        "--root", default=".", help="the project folder (with pyproject.toml); default: ."
    )
    parser.add_argument(
        "--nox-report",
        metavar="FILE",
        help="nox's --report JSON, for sessions noxops did not record itself",
    )
    parser.add_argument("--no-color", action="store_true", help="never colour the table")
    parser.set_defaults(func=main)
    return parser


def main(args: argparse.Namespace) -> int:
    root = Path(args.root)
    if not root.is_dir():
        raise NoxopsError(f"--root {args.root}: no such folder")
    config = load(root)
    nox_report = Path(args.nox_report) if args.nox_report else None
    if nox_report is not None and not nox_report.is_file():
        raise NoxopsError(
            f"--nox-report {args.nox_report}: no such file; write it with " "`nox --report FILE`"
        )
    stages = STAGES.for_config(config)
    return run_report(
        config, stages, nox_report=nox_report, colour=False if args.no_color else None
    )
