"""Failure cases with real servers and sockets: timeouts with log tails, bad URLs, dead engines."""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Optional

import pytest

from noxops.services.base import Endpoint, Kind, LocalSpec, NotReady, ServiceError
from noxops.services.docker import engine_problem
from noxops.services.local import LocalRunning
from noxops.services.postgres import KIND as POSTGRES
from noxops.services.redis import KIND as REDIS
from noxops.services.select import Services, Settings, plan
from noxops.services.url import UrlRunning


class ScriptKind(Kind):
    """A 'server' that is a Python script; its probe answers when a file exists."""

    name = "script"
    title = "ScriptServer"

    def __init__(self, code: str) -> None:
        self.code = code

    def probe(self, endpoint: Endpoint, timeout: float) -> None:
        raise NotReady("still booting")

    def env(self, endpoint: Endpoint) -> dict[str, str]:
        return {}

    def local_available(self) -> Optional[str]:
        return None

    def local(self, workdir: Path, port: int, password: str) -> LocalSpec:
        return LocalSpec(
            prepare=[],
            command=[sys.executable, "-u", "-c", self.code],
            endpoint=Endpoint("script", "127.0.0.1", port, "u", password),
            log=workdir / "script.log",
        )


@pytest.mark.usefixtures("no_leaks")
def test_readiness_timeout_names_the_service_and_shows_the_log_tail() -> None:
    kind = ScriptKind("import time\nprint('booting slowly')\ntime.sleep(60)")
    started = time.monotonic()
    with pytest.raises(ServiceError) as info:
        LocalRunning(kind, ready_timeout=1.5).__enter__()
    assert time.monotonic() - started < 10
    message = str(info.value)
    assert "ScriptServer (local provider" in message
    assert "not ready after 1.5s" in message
    assert "still booting" in message
    assert "| booting slowly" in message


@pytest.mark.usefixtures("no_leaks")
def test_a_server_that_exits_is_reported_at_once_with_its_log() -> None:
    kind = ScriptKind("print('FATAL: bad setting'); raise SystemExit(3)")
    started = time.monotonic()
    with pytest.raises(ServiceError, match=r"(?s)stopped before it was ready.*exited with code 3"):
        LocalRunning(kind, ready_timeout=30).__enter__()
    assert time.monotonic() - started < 10


def test_malformed_urls_fail_at_once_with_the_password_masked() -> None:
    for url, problem in [
        ("mysql://app:s3cret@db:3306/app", "scheme 'mysql'"),
        ("postgresql://app:s3cret@:5432/app", "names no host"),
        ("postgresql://app:s3cret@db:notaport/app", "not a valid URL"),
    ]:
        with pytest.raises(ServiceError) as info:
            UrlRunning(POSTGRES, url, ready_timeout=30).__enter__()
        assert problem in str(info.value)
        assert "DATABASE_URL" in str(info.value)
        assert "s3cret" not in str(info.value)
        assert "app:***@" in str(info.value)


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_url_fails_within_the_url_timeout(closed_port: int) -> None:
    url = f"postgresql://app:s3cret@127.0.0.1:{closed_port}/app"
    started = time.monotonic()
    with pytest.raises(ServiceError) as info:
        UrlRunning(POSTGRES, url, ready_timeout=2).__enter__()
    assert time.monotonic() - started < 8
    message = str(info.value)
    assert f"127.0.0.1:{closed_port}" in message
    assert "url provider" in message
    assert "s3cret" not in message
    with pytest.raises(ServiceError, match="not ready after 1s"):
        UrlRunning(REDIS, f"redis://:s3cret@127.0.0.1:{closed_port}/0", 1).__enter__()


@pytest.mark.usefixtures("no_leaks")
@pytest.mark.local_servers("postgres")
def test_wrong_password_fails_at_once_instead_of_waiting() -> None:
    with LocalRunning(POSTGRES, ready_timeout=30) as server:
        wrong = Endpoint(
            "postgresql", server.host, server.port, server.user, "wrong-pw", server.database
        )
        started = time.monotonic()
        with pytest.raises(ServiceError, match="password authentication failed") as info:
            UrlRunning(POSTGRES, wrong.url, ready_timeout=30).__enter__()
        assert time.monotonic() - started < 5
        assert "wrong-pw" not in str(info.value)


@pytest.fixture
def silent_engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A TCP 'engine' on 127.0.0.1 that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    url = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    monkeypatch.setenv("DOCKER_HOST", url)
    yield url
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def test_an_engine_that_never_answers_is_given_up_on_in_about_3_seconds(
    silent_engine: str,
) -> None:
    pytest.importorskip("docker", reason="the docker SDK (noxops[docker]) is not installed")
    started = time.monotonic()
    problem = engine_problem(3.0)
    elapsed = time.monotonic() - started
    assert problem is not None
    assert silent_engine in problem
    assert elapsed < 5
    with pytest.raises(ServiceError, match="provider 'docker' cannot run PostgreSQL"):
        plan(["postgres"], "docker", env={}, engine_timeout=1)


@pytest.mark.usefixtures("no_leaks")
@pytest.mark.local_servers("postgres")
def test_auto_falls_back_to_local_when_no_engine_answers(
    silent_engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    choices = plan(["postgres"], "auto", env={}, engine_timeout=1)
    assert choices[0].provider == "local"
    assert "no Docker engine" in choices[0].why
    with Services(choices, Settings()) as running:
        assert running["postgres"].provider == "local"


@pytest.mark.usefixtures("no_leaks")
def test_one_failing_service_stops_the_others_it_started_with() -> None:
    bad = ScriptKind("raise SystemExit(1)")
    from noxops.services.select import Choice

    choices = [Choice(POSTGRES, "local", "test"), Choice(bad, "local", "test")]
    with pytest.raises(ServiceError, match="ScriptServer"):
        Services(choices, Settings(ready_timeout=20)).__enter__()
