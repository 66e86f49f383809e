"""URLs, password masking, endpoints and the readiness loop (no servers needed)."""

from __future__ import annotations

import socket
import threading
import time
from typing import Optional

import pytest

from noxops.services.base import (
    Endpoint,
    NotReady,
    Service,
    ServiceError,
    free_port,
    kind,
    mask_url,
    tail,
    wait_until_ready,
)
from noxops.services.postgres import KIND as POSTGRES
from noxops.services.redis import KIND as REDIS
from noxops.services.redis import resp_command


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("postgresql://app:s3cret@db:5432/app", "postgresql://app:***@db:5432/app"),
        ("redis://:pw@cache:6379/0", "redis://:***@cache:6379/0"),
        ("see postgres://u:p%40ss@h/d and redis://h:1", "see postgres://u:***@h/d and redis://h:1"),
        ("postgresql://app@db/app", "postgresql://app@db/app"),
        ("no url here", "no url here"),
    ],
)
def test_mask_url_hides_every_password(text: str, masked: str) -> None:
    assert mask_url(text) == masked


def test_endpoint_round_trips_special_characters() -> None:
    endpoint = Endpoint("postgresql", "db.example", 6543, "us@er", "p:a/s s@", "my db")
    parsed = POSTGRES.parse(endpoint.url)
    assert parsed == endpoint
    assert "p:a/s s@" not in endpoint.masked_url
    assert endpoint.masked_url == "postgresql://us%40er:***@db.example:6543/my%20db"


def test_defaults_for_missing_parts() -> None:
    assert POSTGRES.parse("postgres://db").port == 5432
    parsed = REDIS.parse("redis://cache")
    assert (parsed.port, parsed.password, parsed.database) == (6379, "", "")
    assert Endpoint("redis", "::1", 1).url == "redis://[::1]:1"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("mysql://u:secretpw@h/d", "has scheme 'mysql'; expected 'postgresql://' or 'postgres://'"),
        ("postgresql://u:secretpw@/d", "names no host"),
        ("postgresql://u:secretpw@h:99999/d", "is not a valid URL"),
        ("just words", "has scheme '(none)'"),
    ],
)
def test_malformed_urls_are_named_with_the_password_masked(url: str, problem: str) -> None:
    with pytest.raises(ServiceError) as info:
        POSTGRES.parse(url)
    assert problem in str(info.value)
    assert str(info.value).startswith("DATABASE_URL ")
    assert "secretpw" not in str(info.value)


def test_env_exports_url_and_parts() -> None:
    pg = POSTGRES.env(Endpoint("postgresql", "h", 1, "u", "p", "d"))
    assert pg == {
        "DATABASE_URL": "postgresql://u:p@h:1/d",
        "PGHOST": "h",
        "PGPORT": "1",
        "PGUSER": "u",
        "PGPASSWORD": "p",
        "PGDATABASE": "d",
    }
    rd = REDIS.env(Endpoint("redis", "h", 2, database="3"))
    assert rd["REDIS_URL"] == "redis://h:2/3"
    assert (rd["REDIS_HOST"], rd["REDIS_PORT"], rd["REDIS_DB"]) == ("h", "2", "3")


def test_service_repr_never_shows_the_password() -> None:
    endpoint = Endpoint("postgresql", "h", 1, "u", "topsecret", "d")
    service = Service("postgres", "local", endpoint, POSTGRES.env(endpoint))
    assert "topsecret" not in repr(service)
    assert service.password == "topsecret"  # noqa: S105
    assert (service.host, service.port, service.user, service.database) == ("h", 1, "u", "d")


def test_kinds_are_found_by_name_and_unknown_names_are_listed() -> None:
    assert kind("postgres") is POSTGRES
    assert kind("redis") is REDIS
    with pytest.raises(ServiceError, match="unknown service 'rabbitmq'; known services: postgres"):
        kind("rabbitmq")


def test_wait_returns_once_the_probe_answers() -> None:
    calls: list[float] = []

    def probe(left: float) -> None:
        calls.append(left)
        if len(calls) < 3:
            raise NotReady("starting up")

    elapsed = wait_until_ready(probe, timeout=5, what="Thing")
    assert len(calls) == 3
    assert elapsed < 2


def test_wait_times_out_with_the_last_error_and_log_tail() -> None:
    def probe(left: float) -> None:
        raise NotReady("connection refused to postgresql://u:pw@h:1/d")

    started = time.monotonic()
    with pytest.raises(ServiceError) as info:
        wait_until_ready(probe, timeout=0.3, what="Thing (local)", log=lambda: "    | boom")
    assert time.monotonic() - started < 2
    message = str(info.value)
    assert message.startswith("Thing (local) was not ready after 0.3s")
    assert "connection refused to postgresql://u:***@h:1/d" in message
    assert message.endswith("last lines of its log:\n    | boom")


def test_wait_gives_up_at_once_on_a_fatal_answer_or_a_dead_server() -> None:
    def fatal(left: float) -> None:
        raise NotReady("password authentication failed", fatal=True)

    with pytest.raises(ServiceError, match="failed its readiness check: password"):
        wait_until_ready(fatal, timeout=30, what="X")

    def slow(left: float) -> None:
        raise NotReady("not yet")

    def gone() -> Optional[str]:
        return "the server exited with code 1"

    started = time.monotonic()
    with pytest.raises(ServiceError, match="stopped before it was ready: the server exited"):
        wait_until_ready(slow, timeout=30, what="X", alive=gone)
    assert time.monotonic() - started < 2


def test_tail_keeps_the_last_lines_masked(tmp_path: object) -> None:
    from pathlib import Path

    log = Path(str(tmp_path)) / "server.log"
    log.write_text("".join(f"line {i}\n" for i in range(30)) + "url redis://:pw@h:1\n")
    text = tail(log, 3)
    assert text.splitlines() == ["    | line 28", "    | line 29", "    | url redis://:***@h:1"]
    assert tail(None) == ""
    assert tail(log.parent / "missing.log") == ""


def test_free_port_is_bindable() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def _fake_redis(replies: list[bytes]) -> tuple[int, list[bytes], threading.Thread]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    received: list[bytes] = []

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            for reply in replies:
                received.append(conn.recv(4096))
                conn.sendall(reply)
        server.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return int(server.getsockname()[1]), received, thread


def test_resp_probe_speaks_auth_select_and_ping() -> None:
    port, received, thread = _fake_redis([b"+OK\r\n", b"+OK\r\n", b"+PONG\r\n"])
    REDIS.probe(Endpoint("redis", "127.0.0.1", port, "", "pw", "2"), 2)
    thread.join(5)
    assert received == [
        b"*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n",
        b"*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n",
        b"*1\r\n$4\r\nPING\r\n",
    ]


def test_resp_probe_reports_loading_as_not_ready_and_bad_passwords_as_fatal() -> None:
    port, _, thread = _fake_redis([b"-LOADING Redis is loading the dataset\r\n"])
    with pytest.raises(NotReady) as info:
        REDIS.probe(Endpoint("redis", "127.0.0.1", port), 2)
    assert not info.value.fatal
    thread.join(5)
    port, _, thread = _fake_redis([b"-WRONGPASS invalid username-password pair\r\n"])
    with pytest.raises(NotReady) as info:
        REDIS.probe(Endpoint("redis", "127.0.0.1", port, "", "bad"), 2)
    assert info.value.fatal
    thread.join(5)


def test_resp_command_reads_bulk_strings() -> None:
    left, right = socket.socketpair()
    with left, right:
        right.sendall(b"$5\r\nhello\r\n")
        assert resp_command(left, "ECHO", "hello") == "hello"
        right.sendall(b"$-1\r\n")
        assert resp_command(left, "GET", "missing") == ""


def test_blocked_for_finds_the_folder_another_user_cannot_enter() -> None:
    import pwd
    import shutil
    import tempfile
    from pathlib import Path

    from noxops.services.postgres import blocked_for

    try:
        pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no 'nobody' account on this machine")
    folder = Path(tempfile.mkdtemp())  # mode 0700, owned by whoever runs the tests
    try:
        (folder / "bin").mkdir()
        assert blocked_for(folder / "bin", "nobody") == folder
        folder.chmod(0o711)
        assert blocked_for(folder / "bin", "nobody") is None
    finally:
        shutil.rmtree(folder)
