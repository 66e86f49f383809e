"""The ``smoke`` stage: tests against the built image, or a deployed service.

Registered when there is a Dockerfile (or a configured ``base_url`` of a deployed service).
It does not run on a plain ``nox`` (see :mod:`noxops.stages.build`). The work is
:func:`noxops.image.runner.smoke`; this is its nox layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from noxops.errors import NoxopsError
from noxops.image import runner
from noxops.image.settings import ImageConfig
from noxops.stages.base import CI, runner_hooks, stage

if TYPE_CHECKING:
    import nox

    from noxops.config import Config

__all__ = ["smoke", "smoke_paths"]


def smoke_paths(config: Config) -> list[str]:
    """``[tool.noxops.image.smoke] tests``: the other test stages leave them out (their tests
    need the running service this stage provides: ``base_url``)."""
    return [config.image.smoke.tests]


@stage(
    "smoke",
    default=False,
    section="image",
    settings=ImageConfig,
    enabled=runner.smoke_enabled,
    allow_parallel=False,
    outputs=[runner.SMOKE_JUNIT],
    ci=CI(stage="smoke", docker=True),
    test_paths=smoke_paths,
)
def smoke(session: nox.Session, config: Config) -> None:
    """Start the built image, wait for its health check, run tests/smoke against it."""
    command, install = runner_hooks(session)
    try:
        runner.smoke(config, session.posargs, command=command, install=install, log=session.log)
    except NoxopsError as exc:
        session.error(str(exc))
