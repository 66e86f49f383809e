"""Deploy notifications: a Slack incoming webhook (text plus blocks) and e-mail over SMTP with
STARTTLS. Settings come from environment variables named in ``[tool.noxops.deploy.<env>.notify]``;
their values (webhook URLs, passwords) are never printed. A failing notification is reported
and does not change the deploy's result.
"""

from __future__ import annotations

import json
import os
import smtplib
import ssl
import urllib.error
import urllib.request
from email.message import EmailMessage
from typing import Callable

from noxops.deploy.config import NotifyConfig
from noxops.deploy.context import DeployResult
from noxops.deploy.http import open_url

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
    run = os.environ.get("GITHUB_RUN_ID") and os.environ.get("GITHUB_SERVER_URL")
    if run:
        repo = os.environ.get("GITHUB_REPOSITORY", "")
        facts.append(
            (
                "CI run",
                f"{os.environ['GITHUB_SERVER_URL']}/{repo}/actions/runs/"
                f"{os.environ['GITHUB_RUN_ID']}",
            )
        )
    elif os.environ.get("CI_JOB_URL"):
        facts.append(("CI run", os.environ["CI_JOB_URL"]))
    elif os.environ.get("BUILD_URL"):
        facts.append(("CI run", os.environ["BUILD_URL"]))
    return facts


def slack_payload(result: DeployResult, project: str) -> dict[str, object]:
    title = _title(result, project)
    emoji = _EMOJI.get(result.outcome, ":x:")
    fields = [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in _facts(result)]
    blocks: list[dict[str, object]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
        {"type": "section", "fields": fields[:10]},
    ]
    if result.message:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": result.message[:2900]}}
        )
    return {"text": f"{emoji} {title}: {result.image}", "blocks": blocks}


def send_slack(webhook: str, payload: dict[str, object], timeout: float = 10.0) -> None:
    request = urllib.request.Request(  # noqa: S310 - the configured webhook
        webhook,
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with open_url(request, timeout=timeout) as response:
        if not 200 <= response.status < 300:
            raise OSError(f"HTTP {response.status}")


def email_message(result: DeployResult, project: str, sender: str, to: list[str]) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = _title(result, project)
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    lines = [f"{k}: {v}" for k, v in _facts(result)]
    if result.message:
        lines += ["", result.message]
    if result.analysis:
        lines += ["", "Analysis:"] + [f"  {json.dumps(a, sort_keys=True)}" for a in result.analysis]
    msg.set_content("\n".join(lines) + "\n")
    return msg


def send_email(
    host: str,
    msg: EmailMessage,
    *,
    user: str | None = None,
    password: str | None = None,
    ca_file: str | None = None,
    timeout: float = 15.0,
) -> None:
    """Send over SMTP, upgrading with STARTTLS (required: no plain-text fallback)."""
    name, _, port = host.partition(":")
    context = ssl.create_default_context(cafile=ca_file or None)
    with smtplib.SMTP(name, int(port or 587), timeout=timeout) as smtp:
        smtp.ehlo()
        smtp.starttls(context=context)
        smtp.ehlo()
        if user and password:
            smtp.login(user, password)
        smtp.send_message(msg)


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def notify(
    cfg: NotifyConfig, result: DeployResult, project: str, log: Callable[[str], None]
) -> dict[str, str]:
    """Send to every configured channel; returns channel -> 'sent', 'skipped' or the error."""
    outcome: dict[str, str] = {}
    if (result.ok and not cfg.on_success) or (not result.ok and not cfg.on_failure):
        return outcome
    env = os.environ
    webhook = env.get(cfg.slack_webhook_env, "")
    password = env.get(cfg.smtp_password_env, "")
    secrets = [webhook, password]
    if webhook:
        try:
            send_slack(webhook, slack_payload(result, project))
            outcome["slack"] = "sent"
        except (OSError, ValueError) as exc:
            outcome["slack"] = _scrub(f"failed: {exc}", secrets)
    else:
        outcome["slack"] = f"skipped (${cfg.slack_webhook_env} unset)"
    host = env.get(cfg.smtp_host_env, "")
    to = [a.strip() for a in env.get(cfg.mail_to_env, "").split(",") if a.strip()]
    sender = env.get(cfg.mail_from_env, "") or f"noxops@{project}"
    if host and to:
        try:
            send_email(
                host,
                email_message(result, project, sender, to),
                user=env.get(cfg.smtp_user_env) or None,
                password=password or None,
                ca_file=env.get(cfg.smtp_ca_file_env) or None,
            )
            outcome["email"] = "sent"
        except (OSError, smtplib.SMTPException, ssl.SSLError, ValueError) as exc:
            outcome["email"] = _scrub(f"failed: {type(exc).__name__}: {exc}", secrets)
    else:
        outcome["email"] = f"skipped (${cfg.smtp_host_env} or ${cfg.mail_to_env} unset)"
    for channel, state in outcome.items():
        log(f"notification {channel}: {state}")
    return outcome
