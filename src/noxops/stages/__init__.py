"""The pipeline's stages, one module each, gathered in one registry.

A stage is a function ``(session, config) -> None`` plus how nox should register it: its
Pythons (the tools Python, the test matrix, or none), what it requires, whether a plain
``nox`` runs it, and its timeout. :mod:`noxops.registry` turns the enabled stages into nox
sessions, in :data:`PIPELINE_ORDER`.
"""

from __future__ import annotations

# Importing a stage module registers its stages.
from noxops.stages import (  # noqa: F401
    build,
    deploy,
    integration,
    lint,
    report,
    security,
    smoke,
    tests,
    typecheck,
)
from noxops.stages.base import STAGES, Stage, stage

__all__ = ["PIPELINE_ORDER", "STAGES", "Stage", "ordered", "stage"]

# The order of a plain `nox` run and of `nox -l`; stages not named here come after, in the
# order they were registered, and `report` always last.
PIPELINE_ORDER = (
    "lint",
    "fmt",
    "type",
    "security",
    "tests",
    "coverage",
    "integration",
    "build",
    "smoke",
)


def ordered() -> list[Stage]:
    """Every registered stage in pipeline order."""
    rank = {name: i for i, name in enumerate(PIPELINE_ORDER)}
    stages = sorted(STAGES.values(), key=lambda st: rank.get(st.name, len(rank)))
    return sorted(stages, key=lambda st: st.name == "report")
