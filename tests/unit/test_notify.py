"""The pipeline's notice without nox: what it reads, how it is worded, and its delivery to a
loopback Slack webhook (200 and 500) and a loopback SMTP server with STARTTLS and a login
(accepted and refused), with the planted secrets absent from everything it returns or logs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.loopback import SlackSink, smtp_server

from noxops.errors import NoxopsError
from noxops.notify.message import COLOURS, slack_payload
from noxops.notify.outcome import Outcome, ci_context, read_outcome
from noxops.notify.pipeline import problems, send_outcome
from noxops.notify.settings import PipelineNotifyConfig
from noxops.stages.notify import parse_notify_args

pytest.importorskip("aiosmtpd")

PASSWORD = "pl4nted-smtp-passw0rd"  # noqa: S105 - a test credential
HOOK = "T111/B222/pl4nted-hook-secret"


def _summary(folder: Path, passed: bool) -> Path:
    checks = [
        {"name": "lint", "status": "failed", "blocks": not passed, "mode": "blocking"},
        {"name": "pylint", "status": "failed", "blocks": False, "mode": "advisory"},
        {"name": "tests-3.11", "status": "passed", "blocks": False, "mode": "blocking"},
    ]
    path = folder / "reports" / "summary.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    verdict = "PASSED: ..." if passed else "FAILED: 1 blocking check(s) failed: lint"
    data = {"project": "calc", "passed": passed, "verdict": verdict, "checks": checks}
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


GITHUB = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_SHA": "0123456789abcdef0123",
    "GITHUB_REF_NAME": "main",
    "GITHUB_SERVER_URL": "https://github.example",
    "GITHUB_REPOSITORY": "acme/calc",
    "GITHUB_RUN_ID": "42",
}


def test_the_outcome_comes_from_the_summary_and_the_ci_variables(tmp_path: Path) -> None:
    out = read_outcome(_summary(tmp_path, False), project="x", root=tmp_path, env=GITHUB)
    assert (out.project, out.status, out.failed, out.advisory) == (
        "calc",
        "failure",
        ("lint",),
        ("pylint",),
    )
    assert out.report == "reports/summary.json"
    assert out.ci.url == "https://github.example/acme/calc/actions/runs/42"
    assert (out.ci.commit, out.ci.branch) == ("0123456789abcdef0123", "main")
    payload = slack_payload(out)
    attachment = payload["attachments"][0]  # type: ignore[index]
    assert attachment["color"] == COLOURS["failure"]
    assert payload["text"] == ":x: calc pipeline on main FAILED"
    # --status wins over the report; the command line's message is added.
    forced = read_outcome(
        _summary(tmp_path, False), project="x", root=tmp_path, env={}, status="passed", message="hi"
    )
    assert (forced.status, forced.message) == ("success", "hi")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"GITLAB_CI": "true", "CI_COMMIT_SHA": "abc", "CI_COMMIT_REF_NAME": "dev",
             "CI_PIPELINE_URL": "https://gl/p/1", "CI_JOB_URL": "https://gl/j/2"},
            ("gitlab", "abc", "dev", "https://gl/p/1"),
        ),
        (
            {"JENKINS_URL": "https://j/", "GIT_COMMIT": "def", "BRANCH_NAME": "feature",
             "BUILD_URL": "https://j/job/7/"},
            ("jenkins", "def", "feature", "https://j/job/7/"),
        ),
    ],
)  # fmt: skip
def test_gitlab_and_jenkins_variables(env: dict[str, str], expected: tuple[str, ...]) -> None:
    ctx = ci_context(env)
    assert (ctx.provider, ctx.commit, ctx.branch, ctx.url) == expected


def test_no_report_and_no_status_is_unknown_and_bad_words_are_refused(tmp_path: Path) -> None:
    out = read_outcome(tmp_path / "none.json", project="calc", root=tmp_path, env={})
    assert out.status == "unknown" and "none.json was not written" in out.verdict
    assert slack_payload(out)["attachments"][0]["color"] == "#ecb22e"  # type: ignore[index]
    with pytest.raises(NoxopsError, match="--status 'green': use one of success"):
        read_outcome(tmp_path / "none.json", project="c", root=tmp_path, env={}, status="green")
    with pytest.raises(NoxopsError, match="unrecognized arguments: --colour"):
        parse_notify_args(["--colour", "red"])
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    with pytest.raises(NoxopsError, match=r"could not read bad\.json"):
        read_outcome(tmp_path / "bad.json", project="c", root=tmp_path, env={})


def _env(slack_url: str, port: int, ca: Path, password: str) -> dict[str, str]:
    return {
        "NOXOPS_SLACK_WEBHOOK": slack_url,
        "NOXOPS_SMTP_HOST": f"127.0.0.1:{port}",
        "NOXOPS_SMTP_USER": "ci",
        "NOXOPS_SMTP_PASSWORD": password,
        "NOXOPS_SMTP_CA_FILE": str(ca),
        "NOXOPS_MAIL_TO": "team@example.test",
    }


def test_delivered_to_slack_and_by_mail_over_starttls(tmp_path: Path) -> None:
    outcome = Outcome(project="calc", status="success", verdict="PASSED: 3 of 3", message="hi")
    logged: list[str] = []
    with SlackSink(HOOK) as slack, smtp_server(tmp_path, PASSWORD) as mail:
        env = _env(slack.url, mail.port, mail.ca_file, PASSWORD)
        sent = send_outcome(PipelineNotifyConfig(), outcome, env, logged.append)
    assert sent == {"slack": "sent", "email": "sent"}
    assert problems(sent) == []
    body = slack.payloads[0]["body"]
    assert body["attachments"][0]["color"] == COLOURS["success"]
    assert body["text"] == ":white_check_mark: calc pipeline passed"
    assert mail.starttls_seen and mail.logins == [("ci", True)]
    [message] = mail.messages
    assert message["Subject"] == "calc pipeline passed"
    assert message["From"] == "noxops@calc" and message["To"] == "team@example.test"
    assert "Verdict: PASSED: 3 of 3" in str(message.get_payload())
    text = "\n".join(logged) + json.dumps(sent)
    assert "notification slack (http://127.0.0.1/***): sent" in text
    assert HOOK not in text and PASSWORD not in text


def test_a_500_and_a_refused_login_are_reported_not_raised(tmp_path: Path) -> None:
    outcome = Outcome(project="calc", status="failure", failed=("lint",))
    logged: list[str] = []
    with SlackSink(HOOK, status=500) as slack, smtp_server(tmp_path, PASSWORD) as mail:
        env = _env(slack.url, mail.port, mail.ca_file, "wr0ng-" + PASSWORD)
        sent = send_outcome(PipelineNotifyConfig(), outcome, env, logged.append)
    assert sent["slack"] == "failed: HTTP Error 500: Internal Server Error"
    assert sent["email"].startswith("failed: SMTPAuthenticationError: (535")
    # smtplib tries each mechanism the server offers (PLAIN, then LOGIN): each was refused.
    assert mail.logins and {ok for _user, ok in mail.logins} == {False}
    assert mail.messages == []
    assert len(problems(sent)) == 2
    text = "\n".join(logged) + json.dumps(sent)
    assert HOOK not in text and PASSWORD not in text


def test_on_success_false_sends_nothing_and_nothing_configured_is_a_problem() -> None:
    quiet = PipelineNotifyConfig(on_success=False)
    logged: list[str] = []
    assert send_outcome(quiet, Outcome(project="c", status="success"), {}, logged.append) == {}
    assert "on_success = false" in logged[0]
    sent = send_outcome(PipelineNotifyConfig(), Outcome(project="c", status="failure"), {}, print)
    assert problems(sent) == [
        "no channel is configured: skipped ($NOXOPS_SLACK_WEBHOOK unset); "
        "skipped ($NOXOPS_SMTP_HOST or $NOXOPS_MAIL_TO unset)"
    ]
