"""``sonar-project.properties`` for SonarQube / SonarCloud, pointing at the stages' reports.

It is written to the reports folder (never over a project's own file), with every path
relative to the project root, so the scanner runs from the root:
``sonar-scanner -Dproject.settings=reports/sonar-project.properties``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Optional

from noxops.reports.files import display

if TYPE_CHECKING:
    from noxops.config import Config
    from noxops.stages.base import OutputKind, Stage

__all__ = ["sonar_properties"]


def _escape(value: str) -> str:
    """A .properties value: backslashes, and newlines written as escapes."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


def _key(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.:-]", "_", name) or "project"


def _pattern(config: Config, stages: Mapping[str, Stage], kind: OutputKind) -> Optional[str]:
    """One glob for every declared output of ``kind`` (``{python}`` as ``*``), or None."""
    names = [
        out.name(config, "*") for st in stages.values() for out in st.outputs if out.kind == kind
    ]
    if len(names) <= 1:
        return names[0] if names else None
    prefix = _common_start(names)
    suffix = _common_start([n[len(prefix) :][::-1] for n in names])[::-1]
    return f"{prefix}*{suffix}"


def _common_start(texts: list[str]) -> str:
    """The longest text every one of ``texts`` starts with (characters, not path parts)."""
    first = min(texts, key=len)
    for i, char in enumerate(first):
        if any(t[i] != char for t in texts):
            return first[:i]
    return first


def sonar_properties(config: Config, stages: Mapping[str, Stage]) -> str:
    """The properties for the reports the ``stages`` declare."""
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
    combined = _pattern(config, stages, "coverage")
    parts = _pattern(config, stages, "coverage-part")
    per_python = reports.is_dir() and not (combined and (reports / combined).is_file())
    coverage = parts if per_python and parts else combined
    if coverage:
        props["sonar.python.coverage.reportPaths"] = f"{rel}/{coverage}"
    junit = _pattern(config, stages, "junit")
    if junit:
        props["sonar.python.xunit.reportPath"] = f"{rel}/{junit}"
    scanners: tuple[OutputKind, ...] = ("ruff", "bandit")
    for kind in scanners:
        file = _pattern(config, stages, kind)
        if file and (reports / file).is_file():
            props[f"sonar.python.{kind}.reportPaths"] = f"{rel}/{file}"
    lines = [
        "# Written by `noxops report` from the reports of the last pipeline run.",
        "# Run the scanner from the project root:",
        f"#   sonar-scanner -Dproject.settings={rel}/sonar-project.properties",
    ]
    lines += [f"{k}={_escape(v)}" for k, v in props.items()]
    return "\n".join(lines) + "\n"
