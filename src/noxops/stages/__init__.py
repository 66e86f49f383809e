"""The pipeline's stages, one module each, each declared once (:class:`Stage`).

A stage is a function ``(session, config) -> None`` plus its declaration: how nox should
register it (Pythons, requires, default, timeout), its environment, the files it reads and
writes, and what its CI job needs. :mod:`noxops.runtime.declare` turns the enabled stages into nox
sessions; the report, ``--changed-only``, the CI generator and ``noxops doctor`` read the same
declarations. Adding a stage is one module that calls :func:`stage`.
"""

from __future__ import annotations

# Importing a stage module declares its stages; within a CI stage, the pipeline runs them in
# this order.
# isort: off
from noxops.stages import lint, typecheck, pylint, security, tests, integration  # noqa: F401
from noxops.stages import build, smoke, load, report, sonar, notify, deploy  # noqa: F401

# isort: on
from noxops.stages.base import (
    CI,
    CI_ORDER,
    STAGES,
    Output,
    Stage,
    StageRegistry,
    ordered,
    stage,
    whole_project,
)

__all__ = [
    "CI",
    "CI_ORDER",
    "STAGES",
    "Output",
    "Stage",
    "StageRegistry",
    "ordered",
    "stage",
    "whole_project",
]
