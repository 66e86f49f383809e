"""``[tool.noxops.notify]``, and the channel settings it shares with each deploy environment.

Every channel setting names an environment variable, so CI secrets stay out of
pyproject.toml; a variable that is unset disables that channel.
"""

from __future__ import annotations

from dataclasses import dataclass

from noxops.schema import option, time_limit

__all__ = ["ChannelConfig", "PipelineNotifyConfig"]


@dataclass(frozen=True)
class ChannelConfig:
    """Where notices go: Slack and e-mail, each given by environment variable names."""

    slack_webhook_env: str = option(
        "NOXOPS_SLACK_WEBHOOK", doc="Variable holding the Slack incoming-webhook URL."
    )
    smtp_host_env: str = option(
        "NOXOPS_SMTP_HOST", doc="Variable holding the SMTP server, host or host:port (587)."
    )
    smtp_user_env: str = option("NOXOPS_SMTP_USER", doc="Variable holding the SMTP user.")
    smtp_password_env: str = option(
        "NOXOPS_SMTP_PASSWORD", doc="Variable holding the SMTP password."
    )
    smtp_ca_file_env: str = option(
        "NOXOPS_SMTP_CA_FILE",
        doc="Variable naming a CA bundle to trust for STARTTLS (unset: the system's CAs).",
    )
    mail_from_env: str = option("NOXOPS_MAIL_FROM", doc="Variable holding the sender address.")
    mail_to_env: str = option(
        "NOXOPS_MAIL_TO", doc="Variable holding the recipients, separated by commas."
    )


@dataclass(frozen=True)
class PipelineNotifyConfig(ChannelConfig):
    """``[tool.noxops.notify]``: the ``notify`` session (the pipeline's outcome)."""

    enabled: bool = option(True, doc="Register the notify session.")
    on_success: bool = option(True, doc="Notify when the pipeline passed.")
    on_failure: bool = option(
        True, doc="Notify when the pipeline failed, was cancelled, or left no report."
    )
    required: bool = option(
        False,
        doc=(
            "Fail the notify session when a configured channel could not be reached (or none "
            "is configured). Unset, a failed notice is reported and the session still passes."
        ),
    )
    timeout: float = option(120.0, check=time_limit, doc="Seconds before the stage is stopped.")
