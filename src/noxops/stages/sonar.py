"""The ``sonar`` stage: the SonarQube / SonarCloud scanner over the pipeline's reports.

Not part of a plain ``nox``: run it after the report (``nox -s report sonar``). It runs
``pysonar`` with the properties of ``reports/sonar-project.properties`` when the token
variable (``[tool.noxops.report] sonar_token_env``, ``SONAR_TOKEN``) is set, and says so and
skips when it is not.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from noxops.reports.settings import ReportConfig
from noxops.reports.sonar import SCANNER, scan
from noxops.stages.base import CI, STAGES, stage

if TYPE_CHECKING:
    import nox

    from noxops.config import Config

__all__ = ["sonar"]


@stage(
    "sonar",
    default=False,
    section="report",
    settings=ReportConfig,
    allow_parallel=False,
    ci=CI(stage="report", secrets=lambda config: (config.report.sonar_token_env,)),
    check=False,  # Sonar's quality gate is its own; the scanner fails the session on it
)
def sonar(session: nox.Session, config: Config) -> None:
    """Run the Sonar scanner (pysonar) on the reports, when a token is set."""

    def run(argv: list[str], env: dict[str, str]) -> None:
        session.install(SCANNER)
        session.run(*argv, env=env)

    why = scan(config, STAGES.for_config(config), os.environ, run)
    if why:
        session.skip(why)
