"""The ``smoke`` stage: tests against the built image, or a deployed service.

Registered when there is a Dockerfile (or a configured ``base_url`` of a deployed service).
It does not run on a plain ``nox`` (see :mod:`noxops.stages.build`). The work is
:func:`noxops.build.runner.smoke`; this is its nox layer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from noxops.build import runner
from noxops.errors import NoxopsError
from noxops.stages.base import stage

if TYPE_CHECKING:
    import nox

    from noxops.config import Config

__all__ = ["smoke"]


@stage("smoke", default=False, section="image", allow_parallel=False, enabled=runner.smoke_enabled)
def smoke(session: nox.Session, config: Config) -> None:
    """Start the built image, wait for its health check, run tests/smoke against it."""

    def command(argv: Sequence[str], env: Mapping[str, str]) -> None:
        session.run(*argv, external=True, env=dict(env))

    def install(requirements: Sequence[str]) -> None:
        session.install(*requirements)

    try:
        runner.smoke(config, session.posargs, command=command, install=install, log=session.log)
    except NoxopsError as exc:
        session.error(str(exc))
