"""``sonar-project.properties`` for SonarQube / SonarCloud, pointing at the stages' reports.

It is written to the reports folder (never over a project's own file), with every path
relative to the project root, so the scanner runs from the root:
``sonar-scanner -Dproject.settings=reports/sonar-project.properties``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from noxops.reports.files import display

if TYPE_CHECKING:
    from noxops.config import Config

__all__ = ["sonar_properties"]


def _escape(value: str) -> str:
    """A .properties value: backslashes, and newlines written as escapes."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


def _key(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.:-]", "_", name) or "project"


def sonar_properties(config: Config) -> str:
    reports = config.reports
    rel = display(reports, config.root)
    props: dict[str, str] = {
        "sonar.projectKey": config.report.sonar_project_key or _key(config.project_name),
        "sonar.projectName": config.project_name,
        "sonar.projectBaseDir": ".",
        "sonar.sources": ",".join(config.sources),
        "sonar.python.version": ",".join(config.pythons),
        "sonar.sourceEncoding": "UTF-8",
    }
    if (config.root / "tests").is_dir():
        props["sonar.tests"] = "tests"
    combined = reports / "coverage.xml"
    per_python = reports.is_dir() and not combined.is_file()
    props["sonar.python.coverage.reportPaths"] = (
        f"{rel}/coverage-*.xml" if per_python else f"{rel}/coverage.xml"
    )
    props["sonar.python.xunit.reportPath"] = f"{rel}/junit-*.xml"
    if (reports / "ruff.json").is_file():
        props["sonar.python.ruff.reportPaths"] = f"{rel}/ruff.json"
    if (reports / "bandit.json").is_file():
        props["sonar.python.bandit.reportPaths"] = f"{rel}/bandit.json"
    lines = [
        "# Written by `noxops report` from the reports of the last pipeline run.",
        "# Run the scanner from the project root:",
        f"#   sonar-scanner -Dproject.settings={rel}/sonar-project.properties",
    ]
    lines += [f"{k}={_escape(v)}" for k, v in props.items()]
    return "\n".join(lines) + "\n"
