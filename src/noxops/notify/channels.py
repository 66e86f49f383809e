"""Sending a notice: a Slack incoming webhook, and e-mail over SMTP with STARTTLS and login.

One implementation for every notice noxops sends (the pipeline's outcome, deploys and
rollbacks). The settings are read from the environment variables a :class:`ChannelConfig`
names; their values (webhook URLs, passwords) are registered with :mod:`noxops.masking` before
anything is sent, so they never appear in what is returned or logged, here or later.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.request
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Callable

from noxops import masking
from noxops.deploy.http import open_url
from noxops.errors import NoxopsError
from noxops.notify.settings import ChannelConfig

__all__ = ["deliver", "send_email", "send_slack"]

SlackPayload = Callable[[], "dict[str, object]"]
EmailBuilder = Callable[[str, "list[str]"], EmailMessage]  # (sender, recipients) -> message


def send_slack(webhook: str, payload: dict[str, object], timeout: float = 10.0) -> None:
    """POST ``payload`` to a Slack incoming webhook; anything but 2xx raises ``OSError``."""
    request = urllib.request.Request(  # noqa: S310 - open_url allows http(s) only
        webhook,
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with open_url(request, timeout=timeout) as response:
        if not 200 <= response.status < 300:
            raise OSError(f"HTTP {response.status}")


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


def deliver(
    cfg: ChannelConfig,
    env: Mapping[str, str],
    *,
    slack: SlackPayload,
    email: EmailBuilder,
    default_sender: str,
    log: Callable[[str], None],
) -> dict[str, str]:
    """Send to every channel ``cfg`` configures in ``env``: channel -> 'sent',
    'skipped (...)' or 'failed: ...' (secrets masked). Never raises for a channel."""
    outcome: dict[str, str] = {}
    webhook = env.get(cfg.slack_webhook_env, "")
    password = env.get(cfg.smtp_password_env, "")
    masking.register_webhook(webhook)
    masking.register_password(password)
    if webhook:
        try:
            send_slack(webhook, slack())
            outcome["slack"] = "sent"
        except (OSError, ValueError, NoxopsError) as exc:
            outcome["slack"] = masking.mask(f"failed: {exc}")
    else:
        outcome["slack"] = f"skipped (${cfg.slack_webhook_env} unset)"
    host = env.get(cfg.smtp_host_env, "")
    to = [a.strip() for a in env.get(cfg.mail_to_env, "").split(",") if a.strip()]
    sender = env.get(cfg.mail_from_env, "") or default_sender
    if host and to:
        try:
            send_email(
                host,
                email(sender, to),
                user=env.get(cfg.smtp_user_env) or None,
                password=password or None,
                ca_file=env.get(cfg.smtp_ca_file_env) or None,
            )
            outcome["email"] = "sent"
        except (OSError, smtplib.SMTPException, ssl.SSLError, ValueError) as exc:
            outcome["email"] = masking.mask(f"failed: {type(exc).__name__}: {exc}")
    else:
        outcome["email"] = f"skipped (${cfg.smtp_host_env} or ${cfg.mail_to_env} unset)"
    for channel, state in outcome.items():
        where = f" ({masking.shown_webhook(webhook)})" if channel == "slack" and webhook else ""
        log(f"notification {channel}{where}: {state}")
    return outcome
