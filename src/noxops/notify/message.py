"""The pipeline's outcome as a Slack message (coloured by status) and as an e-mail."""

from __future__ import annotations

from email.message import EmailMessage

from noxops.notify.outcome import Outcome

__all__ = ["COLOURS", "email_message", "facts", "slack_payload", "title"]

# Slack attachment colours: green, red, amber.
COLOURS = {"success": "#2eb67d", "failure": "#e01e5a"}
_AMBER = "#ecb22e"
_EMOJI = {"success": ":white_check_mark:", "failure": ":x:", "cancelled": ":no_entry_sign:"}
_WORDS = {
    "success": "passed",
    "failure": "FAILED",
    "cancelled": "was cancelled",
    "unstable": "is unstable",
    "unknown": "finished without a report",
}


def title(outcome: Outcome) -> str:
    """``<project> pipeline passed`` / ``FAILED`` / ..., with the branch when known."""
    where = f" on {outcome.ci.branch}" if outcome.ci.branch else ""
    return f"{outcome.project} pipeline{where} {_WORDS.get(outcome.status, outcome.status)}"


def facts(outcome: Outcome) -> list[tuple[str, str]]:
    """The notice's fields, in order; those not known are left out."""
    found = [
        ("Status", outcome.status),
        ("Branch", outcome.ci.branch),
        ("Commit", outcome.ci.commit[:12]),
        ("Failed checks", ", ".join(outcome.failed)),
        ("Advisory findings", ", ".join(outcome.advisory)),
        ("Verdict", outcome.verdict),
        ("CI run", outcome.ci.url or outcome.ci.job_url),
        ("Report", outcome.report),
    ]
    return [(k, v) for k, v in found if v]


def slack_payload(outcome: Outcome) -> dict[str, object]:
    """An incoming-webhook message: a fallback text line and a coloured attachment."""
    head = title(outcome)
    emoji = _EMOJI.get(outcome.status, ":warning:")
    blocks: list[dict[str, object]] = [
        {"type": "header", "text": {"type": "plain_text", "text": head[:150]}},
        {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v[:1900]}"} for k, v in facts(outcome)][
                :10
            ],
        },
    ]
    if outcome.message:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": outcome.message[:2900]}}
        )
    return {
        "text": f"{emoji} {head}",
        "attachments": [{"color": COLOURS.get(outcome.status, _AMBER), "blocks": blocks}],
    }


def email_message(outcome: Outcome, sender: str, to: list[str]) -> EmailMessage:
    """A plain-text e-mail with the same facts."""
    msg = EmailMessage()
    msg["Subject"] = title(outcome)
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    lines = [f"{k}: {v}" for k, v in facts(outcome)]
    if outcome.message:
        lines += ["", outcome.message]
    msg.set_content("\n".join(lines) + "\n")
    return msg
