"""``sonar-project.properties`` for SonarQube / SonarCloud, pointing at the stages' reports.

It is written to the reports folder (never over a project's own file), with every path
relative to the project root, so the scanner runs from the root:
``sonar-scanner -Dproject.settings=reports/sonar-project.properties``. The ``sonar`` session
runs the Python scanner (``pysonar``) with the same properties given as ``-D`` arguments;
the token goes to it in ``$SONAR_TOKEN``, never on its command line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Callable, Optional

from noxops.reports.files import display

if TYPE_CHECKING:
    from noxops.config import Config
    from noxops.stages.base import OutputKind, Stage

__all__ = ["SCANNER", "scan", "scanner_argv", "sonar_properties", "sonar_props"]

SCANNER = "pysonar"  # the PyPI package and its command


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


def sonar_props(config: Config, stages: Mapping[str, Stage]) -> dict[str, str]:
    """The analysis properties for the reports the ``stages`` declare, in file order."""
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
    rc = config.report
    if rc.sonar_organization:
        props["sonar.organization"] = rc.sonar_organization
    if rc.sonar_host_url:
        props["sonar.host.url"] = rc.sonar_host_url
    if rc.sonar_exclusions:
        props["sonar.exclusions"] = ",".join(rc.sonar_exclusions)
    props["sonar.qualitygate.wait"] = "true" if rc.sonar_qualitygate_wait else "false"
    if rc.sonar_qualitygate_wait:
        props["sonar.qualitygate.timeout"] = f"{rc.sonar_qualitygate_timeout:g}"
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
    scanners: tuple[OutputKind, ...] = ("ruff", "flake8", "bandit")  # sonar.python.<kind>.*
    for kind in scanners:
        file = _pattern(config, stages, kind)
        if file and (reports / file).is_file():
            props[f"sonar.python.{kind}.reportPaths"] = f"{rel}/{file}"
    return props


def sonar_properties(config: Config, stages: Mapping[str, Stage]) -> str:
    """``sonar-project.properties`` for the reports the ``stages`` declare."""
    rel = display(config.reports, config.root)
    props = sonar_props(config, stages)
    lines = [
        "# Written by `noxops report` from the reports of the last pipeline run.",
        "# Run the scanner from the project root:",
        f"#   sonar-scanner -Dproject.settings={rel}/sonar-project.properties",
    ]
    lines += [f"{k}={_escape(v)}" for k, v in props.items()]
    return "\n".join(lines) + "\n"


def scanner_argv(config: Config, stages: Mapping[str, Stage]) -> list[str]:
    """The scanner's command: ``pysonar`` with every property as a ``-D`` argument."""
    return [SCANNER, *(f"-D{k}={v}" for k, v in sonar_props(config, stages).items())]


def scan(
    config: Config,
    stages: Mapping[str, Stage],
    env: Mapping[str, str],
    run: Callable[[list[str], dict[str, str]], None],
) -> Optional[str]:
    """Run the scanner with ``run(argv, env)`` when the token variable is set; otherwise
    return why it did not run. The token travels in ``SONAR_TOKEN`` only."""
    name = config.report.sonar_token_env
    token = env.get(name, "")
    if not token:
        return (
            f"no SonarQube token: ${name} is unset, so the scanner did not run; set it (a CI "
            "secret holding a SonarQube/SonarCloud token) to analyse the project, or leave the "
            "sonar session out"
        )
    run(scanner_argv(config, stages), {"SONAR_TOKEN": token})
    return None
