"""Real nox runs of ``notify`` on a fixture project, against a loopback Slack webhook and a
loopback SMTP server with STARTTLS and a login; the planted secrets never reach the output,
the session logs or any report file."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.loopback import Mailbox, SlackSink, smtp_server
from support.noxrun import copy_fixture, run_nox

pytestmark = pytest.mark.slow
pytest.importorskip("nox")
pytest.importorskip("aiosmtpd")

PASSWORD = "pl4nted-smtp-passw0rd"  # noqa: S105 - a test credential
HOOK = "T333/B444/pl4nted-hook-secret"


def _env(slack: SlackSink, mail: Mailbox, password: str = PASSWORD) -> dict[str, str]:
    return {
        "NOXOPS_SLACK_WEBHOOK": slack.url,
        "NOXOPS_SMTP_HOST": f"127.0.0.1:{mail.port}",
        "NOXOPS_SMTP_USER": "ci",
        "NOXOPS_SMTP_PASSWORD": password,
        "NOXOPS_SMTP_CA_FILE": str(mail.ca_file),
        "NOXOPS_MAIL_TO": "team@example.test",
        "NOXOPS_MAIL_FROM": "ci@example.test",
        "GITHUB_ACTIONS": "",
        "GITLAB_CI": "",
        "JENKINS_URL": "",
        "BUILD_URL": "",
        "CI_PIPELINE_URL": "",
        "CI_JOB_URL": "",
        "GITHUB_RUN_ID": "",
    }


def _no_secret_anywhere(project: Path, output: str) -> None:
    assert HOOK not in output and PASSWORD not in output
    for path in (project / "reports").rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            assert HOOK not in text and PASSWORD not in text, path


def test_the_report_outcome_reaches_slack_and_mail(tmp_path: Path) -> None:
    project = copy_fixture("clean_project", tmp_path)
    with SlackSink(HOOK) as slack, smtp_server(tmp_path, PASSWORD) as mail:
        env = _env(slack, mail)
        report = run_nox(project, "-s", "report", env=env)  # nothing ran: the gate fails
        assert report.returncode != 0, report
        run = run_nox(project, "-s", "notify", env=env)
    assert run.returncode == 0, run
    assert "pipeline outcome: failure (FAILED: " in run.output
    assert "notification slack (http://127.0.0.1/***): sent" in run.output
    assert "notification email: sent" in run.output
    [payload] = [p["body"] for p in slack.payloads]
    assert payload["attachments"][0]["color"] == "#e01e5a"
    fields = "\n".join(f["text"] for f in payload["attachments"][0]["blocks"][1]["fields"])
    assert "*Failed checks*\nlint, type, bandit, audit" in fields
    assert "*Report*\nreports/summary.json" in fields
    [message] = mail.messages
    assert message["Subject"] == "calc pipeline FAILED"
    assert mail.starttls_seen
    _no_secret_anywhere(project, report.output + run.output)


def test_status_and_message_without_a_report(tmp_path: Path) -> None:
    project = copy_fixture("clean_project", tmp_path)
    with SlackSink(HOOK) as slack, smtp_server(tmp_path, PASSWORD) as mail:
        run = run_nox(
            project, "-s", "notify", "--", "--status", "success", "--message", "release 1.2 is out",
            env=_env(slack, mail),
        )  # fmt: skip
    assert run.returncode == 0, run
    [payload] = [p["body"] for p in slack.payloads]
    assert payload["text"] == ":white_check_mark: calc pipeline passed"
    assert payload["attachments"][0]["color"] == "#2eb67d"
    assert "release 1.2 is out" in str(payload)
    assert "release 1.2 is out" in str(mail.messages[0].get_payload())
    bad = run_nox(project, "-s", "notify", "--", "--status", "green")
    assert bad.returncode != 0
    assert "--status 'green': use one of success" in bad.output
    assert "Traceback" not in bad.output


def test_failed_notices_pass_unless_required(tmp_path: Path) -> None:
    project = copy_fixture("clean_project", tmp_path)
    with SlackSink(HOOK, status=500) as slack, smtp_server(tmp_path, PASSWORD) as mail:
        env = _env(slack, mail, password="wr0ng-" + PASSWORD)
        lenient = run_nox(project, "-s", "notify", "--", "--status", "failure", env=env)
        pyproject = project / "pyproject.toml"
        pyproject.write_text(
            pyproject.read_text() + "\n[tool.noxops.notify]\nrequired = true\n", encoding="utf-8"
        )
        strict = run_nox(project, "-s", "notify", "--", "--status", "failure", env=env)
    assert lenient.returncode == 0, lenient
    assert "notification slack (http://127.0.0.1/***): failed: HTTP Error 500" in lenient.output
    assert "notification email: failed: SMTPAuthenticationError" in lenient.output
    assert "notification not delivered" in lenient.output
    assert strict.returncode != 0, strict
    assert "notification failed: slack failed: HTTP Error 500" in strict.output
    assert "required = true" in strict.output
    _no_secret_anywhere(project, lenient.output + strict.output)
