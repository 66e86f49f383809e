"""The ``notify`` stage: the pipeline's outcome to Slack and e-mail, after the report.

It reads ``reports/summary.json`` (the report stage's), or takes ``--status`` and
``--message`` when there is none: ``nox -s notify -- --status success --message "..."``.
Not part of a plain ``nox``; CI runs it after the report whatever happened (the generated
pipelines place it in their report stage, with ``if: always()`` / ``when: always`` / ``post``).
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, NoReturn

from noxops.errors import NoxopsError
from noxops.notify.settings import PipelineNotifyConfig
from noxops.reports.output import OUTPUT_FILES
from noxops.stages.base import CI, stage

if TYPE_CHECKING:
    import nox

    from noxops.config import Config

__all__ = ["notify", "parse_notify_args"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise NoxopsError(f"nox -s notify: {message}; {self.format_usage().strip()}")


def parse_notify_args(posargs: list[str]) -> argparse.Namespace:
    """``--status``, ``--message`` and ``--summary`` after ``--``; mistakes raise NoxopsError."""
    parser = _Parser(prog="nox -s notify --", add_help=False)
    parser.add_argument("--status", help="success, failure, cancelled, unstable or unknown")
    parser.add_argument("--message", default="", help="a line added to the notice")
    parser.add_argument("--summary", help="the report's summary.json (default: the reports')")
    return parser.parse_args(posargs)


def _channel_variables(config: Config) -> tuple[str, ...]:
    """The variables of the Slack and e-mail channels, which CI hands in from its secrets."""
    cfg = config.notify
    names = (
        cfg.slack_webhook_env, cfg.smtp_host_env, cfg.smtp_user_env, cfg.smtp_password_env,
        cfg.smtp_ca_file_env, cfg.mail_from_env, cfg.mail_to_env,
    )  # fmt: skip
    return tuple(dict.fromkeys(n for n in names if n))


@stage(
    "notify",
    python="none",
    default=False,
    section="notify",
    settings=PipelineNotifyConfig,
    allow_parallel=False,
    # CI runs it in the report stage, after the report job, whatever the pipeline's outcome.
    ci=CI(stage="report", secrets=_channel_variables),
    check=False,  # it tells the outcome; it is not a check of the code
)
def notify(session: nox.Session, config: Config) -> None:
    """Send the pipeline's outcome (the report's summary.json) to Slack and e-mail."""
    # Only this stage sends (smtplib, ssl, urllib): not loaded by every nox process.
    from noxops.notify.outcome import read_outcome
    from noxops.notify.pipeline import problems, send_outcome

    try:
        opts = parse_notify_args(list(session.posargs))
        summary = config.reports / OUTPUT_FILES["summary"]
        if opts.summary:
            summary = config.root / opts.summary
        outcome = read_outcome(
            summary,
            project=config.project_name,
            root=config.root,
            env=os.environ,
            status=opts.status,
            message=opts.message,
        )
    except NoxopsError as exc:
        session.error(str(exc))
    session.log(
        f"pipeline outcome: {outcome.status}" + (f" ({outcome.verdict})" if outcome.verdict else "")
    )
    sent = send_outcome(config.notify, outcome, os.environ, session.log)
    wrong = problems(sent)
    if wrong and config.notify.required:
        session.error(
            f"notification failed: {'; '.join(wrong)} ([tool.noxops.notify] required = true)"
        )
    if wrong:
        session.warn(
            f"notification not delivered: {'; '.join(wrong)}; the session still passes "
            "(set [tool.noxops.notify] required = true to fail it)"
        )
