"""The pipeline's stages, one module each, gathered in one registry.

A stage is a function ``(session, config) -> None`` plus how nox should register it: its
Pythons (the tools Python, the test matrix, or none), what it requires, whether a plain
``nox`` runs it, and its timeout. :mod:`noxops.registry` turns the enabled stages into nox
sessions.
"""

from __future__ import annotations

from noxops.stages.base import STAGES, Stage, stage

# Importing a stage module registers its stages, in pipeline order.
from noxops.stages import lint, typecheck, security, tests, integration, build, report, deploy  # noqa: E402, F401, E501  # isort: skip

__all__ = ["STAGES", "Stage", "stage"]
