"""The pipeline's outcome as a Slack message (coloured by status) and as an e-mail.

:func:`slack_message` and :func:`mail_message` lay out every notice, the pipeline's and a
deploy's (``deploy.notify``): a title, facts as fields or ``Key: value`` lines, a message.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage

from noxops.notify.outcome import Outcome

__all__ = [
    "COLOURS",
    "email_message",
    "facts",
    "mail_message",
    "slack_message",
    "slack_payload",
    "title",
]

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


def slack_message(
    head: str,
    facts: Sequence[tuple[str, str]],
    message: str,
    *,
    text: str,
    colour: str | None = None,
) -> dict[str, object]:
    """An incoming-webhook message: ``text`` (the fallback line), a header, up to 10 fields and
    the message, cut to Slack's limits (150, 2000 and 3000 characters) so Slack never refuses
    it; in a coloured attachment when ``colour`` is given."""
    blocks: list[dict[str, object]] = [
        {"type": "header", "text": {"type": "plain_text", "text": head[:150]}},
        {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v[:1900]}"} for k, v in facts][:10],
        },
    ]
    if message:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": message[:2900]}})
    if colour is None:
        return {"text": text, "blocks": blocks}
    return {"text": text, "attachments": [{"color": colour, "blocks": blocks}]}


def mail_message(
    subject: str,
    facts: Sequence[tuple[str, str]],
    message: str,
    *,
    sender: str,
    to: list[str],
    more: Sequence[str] = (),
) -> EmailMessage:
    """A plain-text e-mail: one ``Key: value`` line a fact, then the message, then ``more``."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    lines = [f"{k}: {v}" for k, v in facts]
    if message:
        lines += ["", message]
    if more:
        lines += ["", *more]
    msg.set_content("\n".join(lines) + "\n")
    return msg


def slack_payload(outcome: Outcome) -> dict[str, object]:
    """The pipeline's Slack message, in an attachment coloured by status."""
    head = title(outcome)
    return slack_message(
        head,
        facts(outcome),
        outcome.message,
        text=f"{_EMOJI.get(outcome.status, ':warning:')} {head}",
        colour=COLOURS.get(outcome.status, _AMBER),
    )


def email_message(outcome: Outcome, sender: str, to: list[str]) -> EmailMessage:
    """A plain-text e-mail with the same facts."""
    return mail_message(title(outcome), facts(outcome), outcome.message, sender=sender, to=to)
