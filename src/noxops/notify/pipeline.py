"""Sending the pipeline's outcome to every configured channel (no nox needed)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Callable

from noxops.notify.channels import deliver
from noxops.notify.message import email_message, slack_payload
from noxops.notify.outcome import Outcome
from noxops.notify.settings import PipelineNotifyConfig

__all__ = ["problems", "send_outcome"]


def send_outcome(
    cfg: PipelineNotifyConfig, outcome: Outcome, env: Mapping[str, str], log: Callable[[str], None]
) -> dict[str, str]:
    """Notify every channel (channel -> 'sent', 'skipped (...)' or 'failed: ...'); ``{}``
    when ``on_success``/``on_failure`` say this outcome is not to be sent."""
    wanted = cfg.on_success if outcome.ok else cfg.on_failure
    if not wanted:
        which = "on_success" if outcome.ok else "on_failure"
        log(f"not notifying: [tool.noxops.notify] {which} = false ({outcome.status})")
        return {}
    return deliver(
        cfg,
        env,
        slack=lambda: slack_payload(outcome),
        email=lambda sender, to: email_message(outcome, sender, to),
        default_sender=f"noxops@{outcome.project or 'localhost'}",
        log=log,
    )


def problems(sent: dict[str, str]) -> list[str]:
    """What ``required = true`` fails on: a channel that failed, or no channel configured."""
    failed = [f"{channel} {state}" for channel, state in sent.items() if state.startswith("failed")]
    if sent and not failed and all(state.startswith("skipped") for state in sent.values()):
        return ["no channel is configured: " + "; ".join(sent.values())]
    return failed
