"""The ``pylint`` stage: pylint's findings, advisory in the gate unless configured blocking.

On where pylint is the project's linter (it configures pylint, pins it or runs its pre-commit
hook: :func:`noxops.project.tools.linters`), else opt-in (``[tool.noxops.pylint] enabled = true``);
then part of a plain ``nox`` and of CI, so its findings reach every report. pylint runs at
the version the project pins. The session passes when pylint only found something
(the gate decides what counts); it fails when pylint itself could not run (fatal error or
usage error).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from noxops.config import PylintConfig
from noxops.project import tools
from noxops.stages.base import CI, Install, Output, install_plan, project_install, stage

if TYPE_CHECKING:
    import nox

    from noxops.config import Config

__all__ = ["PYLINT", "pylint", "pylint_env", "pylint_paths"]

PYLINT = Output("pylint.json", kind="pylint", check="pylint", mode="advisory")
# pylint's exit code is a bit mask: 1 fatal, 2 error, 4 warning, 8 refactor, 16 convention,
# 32 usage error. Messages alone are findings for the report, not a failed session.
_FOUND_ONLY = [code for code in range(32) if not code & 1]


def pylint_paths(config: Config) -> list[str]:
    return list(config.pylint.paths) or list(config.sources)


def pylint_env(config: Config, python: str | None) -> list[Install]:
    """The project (so imports resolve), its configured groups, and pylint (its pin)."""
    return [
        project_install(
            config, tools.pinned(config, "pylint") or "pylint>=3", groups=config.pylint.groups
        )
    ]


def _json(config: Config) -> str:
    """pylint's JSON format: ``json2``, or the older ``json`` where the project pins pylint 2
    (json2 came with pylint 3; the report reads both)."""
    pin = tools.pinned(config, "pylint") or ""
    return "json" if re.search(r"==\s*[12]\.|<\s*3(\.0)?\s*($|[,;])", pin) else "json2"


def _on(config: Config) -> bool:
    """Unless ``enabled`` is set: on where pylint is the project's linter."""
    return config.pylint.enabled is not None or "pylint" in tools.linter_names(config)


@stage(
    "pylint",
    section="pylint",
    settings=PylintConfig,
    enabled=_on,
    env=pylint_env,
    inputs=pylint_paths,
    outputs=[PYLINT],
    ci=CI(stage="quality"),
)
def pylint(session: nox.Session, config: Config) -> None:
    """Run pylint (advisory findings in the report unless configured blocking)."""
    install_plan(session, config, pylint_env)
    out = PYLINT.path(config)
    session.run(
        "pylint", f"--output-format=text,{_json(config)}:{out}", *config.pylint.pylint_args,
        *pylint_paths(config), success_codes=_FOUND_ONLY,
    )  # fmt: skip
