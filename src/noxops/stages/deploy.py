"""The ``deploy-<env>`` and ``rollback-<env>`` stages, one pair per ``[tool.noxops.deploy.<env>]``.

The static stage registry cannot know the environments, so this module provides
:func:`expand`, which :mod:`noxops.runtime.declare` calls with the loaded configuration to add the
per-environment stages. They run without a virtualenv (python="none") and only on request
(never in a plain ``nox``). Arguments after ``--``: ``--approve``, ``--dry-run``,
``--image=<ref>``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from noxops.errors import NoxopsError
from noxops.stages.base import CI, STAGES, Stage

if TYPE_CHECKING:
    import nox

    from noxops.config import Config

__all__ = ["expand"]


def _session_func(env: str, action: str) -> Callable[[nox.Session, Config], None]:
    def run(session: nox.Session, config: Config) -> None:
        from noxops.deploy import runner  # only deploys load it (every nox process loads this)

        try:
            result = runner.run(config, env, session.posargs, action=action, log=session.log)
        except NoxopsError as exc:
            session.error(str(exc))
        if not result.ok:
            session.error(f"{action} to {env} {result.outcome}: {result.message}")
        if action == "deploy" and result.outcome == "deployed":
            _queue_smoke(session, config.deploy[env].smoke, config.deploy[env].url, env)

    return run


def _queue_smoke(session: nox.Session, wanted: bool, url: str | None, env: str) -> None:
    """Run the smoke tests against the live service next (``smoke = true``)."""
    if not wanted:
        return
    if not url:
        session.warn(f"[tool.noxops.deploy.{env}] smoke = true needs url; smoke tests skipped")
        return
    try:
        session.notify("smoke", [f"--base-url={url}"])
    except ValueError:
        session.warn("smoke = true, but there is no smoke session (see [tool.noxops.image])")


def _constant(value: float) -> Callable[[Config], float]:
    return lambda config: value


def expand(config: Config) -> list[Stage]:
    """``deploy-<env>`` and ``rollback-<env>`` for every enabled deploy environment."""
    stages: list[Stage] = []
    for env, cfg in config.deploy.items():
        if not cfg.enabled:
            continue
        limit = float(cfg.timeout)
        for action, doc in (
            ("deploy", f"Deploy the built image to {env} ({cfg.strategy})."),
            ("rollback", f"Roll {env} back to the previous version."),
        ):
            stages.append(
                Stage(
                    name=f"{action}-{env}",
                    func=_session_func(env, action),
                    doc=doc,
                    python="none",
                    default=False,
                    timeout=_constant(limit),
                    section=f"deploy.{env}",
                    allow_parallel=False,  # one change to a cluster at a time
                    ci=CI(stage="deploy"),
                )
            )
    return stages


# The registry asks this module for the per-environment stages of a configuration.
STAGES.add_expander(expand)
