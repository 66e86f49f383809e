"""The ``build`` stage: the wheel, sdist and container image (see docs/build.md).

Registered when there is something to build: a Dockerfile, or a ``[build-system]`` for the
wheel and sdist. It does not run on a plain ``nox``: the release part of a pipeline is asked
for by name (``nox -s build smoke``) or listed in ``default_sessions``. The work is
:func:`noxops.image.runner.run`; this is its nox layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from noxops.errors import NoxopsError
from noxops.image import runner
from noxops.image.manifest import MANIFEST
from noxops.image.settings import ImageConfig
from noxops.stages.base import CI, runner_hooks, stage

if TYPE_CHECKING:
    import nox

    from noxops.config import Config

__all__ = ["build"]


def _image(config: Config) -> bool:
    """The build drives a Docker engine when there is an image to build."""
    return (config.root / config.image.dockerfile).is_file()


@stage(
    "build",
    default=False,
    section="image",
    settings=ImageConfig,
    enabled=runner.build_enabled,
    allow_parallel=False,
    outputs=[MANIFEST, runner.SBOM],
    ci=CI(stage="build", docker=_image, artifacts=("reports", "dist")),
)
def build(session: nox.Session, config: Config) -> None:
    """Build the wheel, sdist and container image; write its SBOM and the build manifest."""
    command, install = runner_hooks(session)
    try:
        runner.run(
            config,
            session.posargs,
            command=command,
            install=install,
            python=None if session.python is None else str(session.python),
            uv=getattr(session, "venv_backend", "") == "uv",
            log=session.log,
        )
    except NoxopsError as exc:
        session.error(str(exc))
