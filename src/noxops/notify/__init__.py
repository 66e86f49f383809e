"""Notices of the pipeline's outcome and of deploys: Slack and e-mail, no nox needed.

:mod:`noxops.notify.channels` sends (one Slack and one SMTP implementation for every notice),
:mod:`noxops.notify.outcome` reads what happened, :mod:`noxops.notify.message` words it and
:mod:`noxops.notify.pipeline` sends the pipeline's outcome.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from noxops.notify.outcome import CIContext, Outcome, ci_context, read_outcome
    from noxops.notify.pipeline import problems, send_outcome
    from noxops.notify.settings import ChannelConfig, PipelineNotifyConfig

__all__ = [
    "CIContext",
    "ChannelConfig",
    "Outcome",
    "PipelineNotifyConfig",
    "ci_context",
    "problems",
    "read_outcome",
    "send_outcome",
]

# Loaded when first used: every nox process reads the configuration (noxops.notify.settings), and
# only the notify stage and deploys send (smtplib, ssl and urllib take a while to import).
_WHERE = {
    "ChannelConfig": "config",
    "PipelineNotifyConfig": "config",
    "CIContext": "outcome",
    "Outcome": "outcome",
    "ci_context": "outcome",
    "read_outcome": "outcome",
    "problems": "pipeline",
    "send_outcome": "pipeline",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
