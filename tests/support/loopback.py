"""Loopback servers that stand in for notification channels: a Slack incoming webhook (an
HTTP server answering a chosen status) and an SMTP server (aiosmtpd) that requires STARTTLS,
with a certificate made here, and a login."""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from support.certs import make_ca

__all__ = ["Mailbox", "SlackSink", "free_port", "http_server", "smtp_server"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def http_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """``handler`` served on 127.0.0.1 from a thread (a thread per request, not waited for
    on the way out); yields ``127.0.0.1:<port>``, and shuts the server down after."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class SlackSink:
    """An incoming webhook on 127.0.0.1 at ``/services/<secret>``; it answers ``status``."""

    def __init__(self, secret: str, status: int = 200) -> None:
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
                body = b"ok" if status == 200 else b"server_error"
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/{secret}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> SlackSink:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Mailbox:
    """What the SMTP server received, and where to reach it."""

    port: int = 0
    ca_file: Path = Path()
    messages: list[Message] = field(default_factory=list)
    starttls_seen: bool = False
    logins: list[tuple[str, bool]] = field(default_factory=list)  # (user, accepted)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.starttls_seen = self.starttls_seen or session.ssl is not None
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@contextmanager
def smtp_server(folder: Path, password: str) -> Iterator[Mailbox]:
    """aiosmtpd on 127.0.0.1 requiring STARTTLS and a login whose password is ``password``;
    its certificate is signed by a CA written to ``mailbox.ca_file``."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ca = make_ca()
    cert, key = ca.issue("127.0.0.1", server=True).write(folder, "smtp")
    ca_file = folder / "ca.crt"
    ca_file.write_bytes(ca.cert_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    mailbox = Mailbox(port=free_port(), ca_file=ca_file)

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = isinstance(data, LoginPassword) and data.password == password.encode()
        user = data.login.decode() if isinstance(data, LoginPassword) else "?"
        mailbox.logins.append((user, ok))
        # handled=False: aiosmtpd answers a refusal with 535 itself (else it says nothing).
        return AuthResult(success=ok, handled=False)

    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=mailbox.port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticate,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
