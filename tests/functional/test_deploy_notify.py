"""Deploy notifications arrive: Slack on a loopback HTTP server, e-mail on a loopback
aiosmtpd server that requires STARTTLS (self-signed certificate made here) and a login."""

from __future__ import annotations

import datetime
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from support.deploykit import Run, make_project
from support.fakekube import FakeKube

V1, V2 = "reg.test/web:1", "reg.test/web:2"
PASSWORD = "s3cret-smtp-pass"  # noqa: S105 - a test credential
HOOK_SECRET = "T000/B000/hook-secret-xyz"  # noqa: S105 - a test credential


class SlackSink:
    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                sink.payloads.append(
                    {"path": self.path, "body": json.loads(self.rfile.read(length))}
                )
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/{HOOK_SECRET}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> SlackSink:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp.crt", folder / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.starttls_seen = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.starttls_seen = self.starttls_seen or session.ssl is not None
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[tuple[Mailbox, int, Path]]:
    aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")
    from aiosmtpd.smtp import AuthResult, LoginPassword

    cert, key = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    mailbox = Mailbox()

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = isinstance(data, LoginPassword) and data.password == PASSWORD.encode()
        return AuthResult(success=ok)

    port = _free_port()
    controller = aiosmtpd_controller.Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticate,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield mailbox, port, cert
    finally:
        controller.stop()


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
    with SlackSink() as slack:
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
    dead = _free_port()
    monkeypatch.setenv("NOXOPS_SLACK_WEBHOOK", f"http://127.0.0.1:{dead}/services/{HOOK_SECRET}")
    monkeypatch.setenv("NOXOPS_SMTP_HOST", f"127.0.0.1:{port}")
    monkeypatch.setenv("NOXOPS_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("NOXOPS_MAIL_TO", "ops@example.test")
    monkeypatch.delenv("NOXOPS_SMTP_CA_FILE", raising=False)  # the self-signed cert is refused
    run = Run(make_project(tmp_path / "p", fake, {"staging": {}}))
    result = run("staging", V1)
    assert result.outcome == "deployed"
    sent = run.report("staging")["notifications"]
    assert sent["slack"].startswith("failed:")
    assert sent["email"].startswith("failed: SSLCertVerificationError")
    assert mailbox.messages == []
    assert HOOK_SECRET not in run.text and PASSWORD not in run.text
