"""Deploy notifications arrive: Slack on a loopback HTTP server, e-mail on a loopback
aiosmtpd server that requires STARTTLS (self-signed certificate made here) and a login."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.deploykit import Run, make_project
from support.fakekube import FakeKube
from support.loopback import Mailbox, SlackSink, free_port, smtp_server

V1, V2 = "reg.test/web:1", "reg.test/web:2"
PASSWORD = "s3cret-smtp-pass"  # noqa: S105 - a test credential
HOOK_SECRET = "T000/B000/hook-secret-xyz"  # noqa: S105 - a test credential


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[tuple[Mailbox, int, Path]]:
    pytest.importorskip("aiosmtpd.controller")
    with smtp_server(tmp_path, PASSWORD) as mailbox:
        yield mailbox, mailbox.port, mailbox.ca_file


@pytest.fixture
def fake() -> Iterator[FakeKube]:
    with FakeKube() as server:
        yield server


def test_success_and_rollback_notifications_arrive(
    tmp_path: Path,
    fake: FakeKube,
    smtp: tuple[Mailbox, int, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mailbox, port, cert = smtp
    with SlackSink(HOOK_SECRET) as slack:
        monkeypatch.setenv("NOXOPS_SLACK_WEBHOOK", slack.url)
        monkeypatch.setenv("NOXOPS_SMTP_HOST", f"127.0.0.1:{port}")
        monkeypatch.setenv("NOXOPS_SMTP_USER", "deployer")
        monkeypatch.setenv("NOXOPS_SMTP_PASSWORD", PASSWORD)
        monkeypatch.setenv("NOXOPS_SMTP_CA_FILE", str(cert))
        monkeypatch.setenv("NOXOPS_MAIL_FROM", "ci@example.test")
        monkeypatch.setenv("NOXOPS_MAIL_TO", "ops@example.test, dev@example.test")
        run = Run(make_project(tmp_path / "p", fake, {"staging": {}}))
        ok = run("staging", V1)
        fake.never_ready.add(V2)
        bad = run("staging", V2)

    assert (ok.outcome, bad.outcome) == ("deployed", "rolled back")
    assert [p["path"] for p in slack.payloads] == [f"/services/{HOOK_SECRET}"] * 2
    first, second = (p["body"] for p in slack.payloads)
    assert first["text"] == f":white_check_mark: shop-web deploy to staging succeeded: {V1}"
    assert first["blocks"][0]["type"] == "header"
    fields = {f["text"] for f in first["blocks"][1]["fields"]}
    assert f"*Image*\n{V1}" in fields and "*Strategy*\nrolling" in fields
    assert second["text"].startswith(":rewind: shop-web deploy to staging FAILED and was rolled")
    assert "progress deadline" in second["blocks"][2]["text"]["text"]

    assert mailbox.starttls_seen
    assert [m["Subject"] for m in mailbox.messages] == [
        "shop-web deploy to staging succeeded",
        "shop-web deploy to staging FAILED and was rolled back",
    ]
    assert mailbox.messages[0]["To"] == "ops@example.test, dev@example.test"
    body = mailbox.messages[1].get_payload()
    assert isinstance(body, str)
    assert f"Image: {V2}" in body and f"Previous image: {V1}" in body
    assert run.report("staging")["notifications"] == {"slack": "sent", "email": "sent"}
    assert PASSWORD not in run.text and HOOK_SECRET not in run.text


def test_failing_notifications_do_not_change_the_result(
    tmp_path: Path,
    fake: FakeKube,
    smtp: tuple[Mailbox, int, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mailbox, port, _cert = smtp
    dead = free_port()
    monkeypatch.setenv("NOXOPS_SLACK_WEBHOOK", f"http://127.0.0.1:{dead}/services/{HOOK_SECRET}")
    monkeypatch.setenv("NOXOPS_SMTP_HOST", f"127.0.0.1:{port}")
    monkeypatch.setenv("NOXOPS_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("NOXOPS_MAIL_TO", "ops@example.test")
    monkeypatch.delenv("NOXOPS_SMTP_CA_FILE", raising=False)  # its CA is not trusted: refused
    run = Run(make_project(tmp_path / "p", fake, {"staging": {}}))
    result = run("staging", V1)
    assert result.outcome == "deployed"
    sent = run.report("staging")["notifications"]
    assert sent["slack"].startswith("failed:")
    assert sent["email"].startswith("failed: SSLCertVerificationError")
    assert mailbox.messages == []
    assert HOOK_SECRET not in run.text and PASSWORD not in run.text
