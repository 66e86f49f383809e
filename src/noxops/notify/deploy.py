"""Deploy notifications: what a deploy or rollback notice says, laid out by
:mod:`noxops.notify.message` and sent through :mod:`noxops.notify.channels` (the Slack and
SMTP implementation every notice shares).
Settings come from environment variables named in ``[tool.noxops.deploy.<env>.notify]``;
their values (webhook URLs, passwords) are never printed. A failing notification is reported
and does not change the deploy's result.
"""

from __future__ import annotations

import json
import os
from email.message import EmailMessage
from typing import Callable

from noxops.deploy.context import DeployResult
from noxops.deploy.settings import NotifyConfig
from noxops.notify.channels import deliver, send_email, send_slack
from noxops.notify.message import mail_message, slack_message
from noxops.notify.outcome import ci_context

__all__ = ["email_message", "notify", "send_email", "send_slack", "slack_payload"]

_EMOJI = {"deployed": ":white_check_mark:", "planned": ":memo:", "rolled back": ":rewind:"}


def _title(result: DeployResult, project: str) -> str:
    what = "rollback" if result.action == "rollback" else "deploy"
    verdict = {
        "deployed": "succeeded",
        "planned": "planned (dry run)",
        "rolled back": "FAILED and was rolled back",
        "failed": "FAILED",
    }.get(result.outcome, result.outcome)
    return f"{project} {what} to {result.env} {verdict}"


def _facts(result: DeployResult) -> list[tuple[str, str]]:
    facts = [
        ("Environment", result.env),
        ("Strategy", result.strategy),
        ("Image", result.image),
        ("Previous image", result.previous_image or "(none)"),
        ("Outcome", result.outcome),
        ("Duration", f"{result.seconds:.0f}s"),
    ]
    ci = ci_context(os.environ)
    if ci.job_url or ci.url:
        facts.append(("CI run", ci.job_url or ci.url))
    return facts


def slack_payload(result: DeployResult, project: str) -> dict[str, object]:
    title = _title(result, project)
    emoji = _EMOJI.get(result.outcome, ":x:")
    text = f"{emoji} {title}: {result.image}"
    return slack_message(title, _facts(result), result.message, text=text)


def email_message(result: DeployResult, project: str, sender: str, to: list[str]) -> EmailMessage:
    analysis = ["Analysis:"] + [f"  {json.dumps(a, sort_keys=True)}" for a in result.analysis]
    return mail_message(
        _title(result, project),
        _facts(result),
        result.message,
        sender=sender,
        to=to,
        more=analysis if result.analysis else (),
    )


def notify(
    cfg: NotifyConfig, result: DeployResult, project: str, log: Callable[[str], None]
) -> dict[str, str]:
    """Send to every configured channel; returns channel -> 'sent', 'skipped' or the error."""
    if (result.ok and not cfg.on_success) or (not result.ok and not cfg.on_failure):
        return {}
    return deliver(
        cfg,
        os.environ,
        slack=lambda: slack_payload(result, project),
        email=lambda sender, to: email_message(result, project, sender, to),
        default_sender=f"noxops@{project}",
        log=log,
    )
