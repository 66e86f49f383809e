"""``[tool.noxops.report]``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from noxops.schema import one_of, option, percent, time_limit

__all__ = ["MODES", "SEVERITIES", "ReportConfig"]

MODES = ("blocking", "advisory", "off")
SEVERITIES = ("none", "low", "medium", "high")


def _modes(value: Any) -> str | None:
    bad = {k: v for k, v in value.items() if v not in MODES}
    if bad:
        key, mode = next(iter(bad.items()))
        return f"{key} = {mode!r}: a check is one of {', '.join(map(repr, MODES))}"
    return None


@dataclass(frozen=True)
class ReportConfig:
    """``[tool.noxops.report]``: the ``report`` session and its quality gate."""

    enabled: bool = option(True, doc="Register the report session.")
    checks: dict[str, str] = option(
        factory=dict,
        check=_modes,
        doc=(
            "How each check counts, by check name or glob (lint, type, bandit, audit, "
            "tests-3.12, tests-*, coverage, integration, build, smoke, or any nox session): "
            "'blocking' (the default: the gate fails unless it passed), 'advisory' (shown, "
            "never fails the gate) or 'off' (not reported)."
        ),
    )
    coverage_fail_under: Optional[float] = option(
        None,
        check=percent,
        doc="Coverage (percent) below which `coverage` and the report's coverage check fail, "
        "in place of [tool.noxops.tests] fail_under (lower or higher); unset means that one.",
    )
    max_bandit_severity: Optional[str] = option(
        None,
        check=one_of(*SEVERITIES),
        doc="Deprecated: [tool.noxops.security] max_bandit_severity replaces it (this one is "
        "still read when that is unset, with a note saying so).",
    )
    session_logs: Optional[bool] = option(
        None,
        doc="Keep each noxops session's full output in reports/sessions/<session>.log (the "
        "terminal still shows it as it runs). Unset means only when the output is not a "
        "terminal (CI logs), so tools keep their colours and live output locally.",
    )
    sonar_project_key: Optional[str] = option(
        None, doc="sonar.projectKey for sonar-project.properties; unset means the project name."
    )
    sonar_organization: Optional[str] = option(
        None, doc="sonar.organization (SonarCloud); unset leaves it out."
    )
    sonar_host_url: Optional[str] = option(
        None,
        doc="sonar.host.url, the SonarQube server; unset means the scanner's default "
        "(SonarCloud, or $SONAR_HOST_URL).",
    )
    sonar_exclusions: list[str] = option(
        factory=list, doc="sonar.exclusions: globs of source files Sonar leaves out."
    )
    sonar_qualitygate_wait: bool = option(
        True,
        doc="sonar.qualitygate.wait: the scanner waits for the quality gate and fails the "
        "sonar session when it fails.",
    )
    sonar_qualitygate_timeout: float = option(
        300.0, check=time_limit, doc="sonar.qualitygate.timeout: seconds to wait for the gate."
    )
    sonar_token_env: str = option(
        "SONAR_TOKEN",
        doc="Variable holding the Sonar token; the sonar session runs the scanner only when it "
        "is set.",
    )
    timeout: float = option(600.0, check=time_limit, doc="Seconds before the stage is stopped.")
