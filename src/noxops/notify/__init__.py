"""Notices of the pipeline's outcome and of deploys: Slack and e-mail, no nox needed.

:mod:`noxops.notify.channels` sends (one Slack and one SMTP implementation for every notice),
:mod:`noxops.notify.outcome` reads what happened, :mod:`noxops.notify.message` words it and
:mod:`noxops.notify.pipeline` sends the pipeline's outcome.
"""

from __future__ import annotations

from noxops.notify.config import ChannelConfig, PipelineNotifyConfig
from noxops.notify.outcome import CIContext, Outcome, ci_context, read_outcome
from noxops.notify.pipeline import problems, send_outcome

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
