"""The pipeline's stages, one module each, gathered in one registry.

A stage is a function ``(session, config) -> None`` plus how nox should register it: its
Pythons (the tools Python, the test matrix, or none), what it requires, whether a plain
``nox`` runs it, and its timeout. :mod:`noxops.registry` turns the enabled stages into nox
sessions.
"""

from __future__ import annotations

# Importing a stage module registers its stages, in pipeline order.
from noxops.stages import (  # noqa: F401  # isort: skip
    build,
    deploy,
    integration,
    lint,
    report,
    security,
    tests,
    typecheck,
)
from noxops.stages.base import STAGES, Stage, stage

__all__ = ["STAGES", "Stage", "stage"]
