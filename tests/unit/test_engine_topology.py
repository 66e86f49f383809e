"""Where started containers are reached: published on 127.0.0.1 (this machine), on a remote or
docker-in-docker engine's address, or, from a job container that talks to the host's engine
through its socket, by network alias after joining that container to the run's network."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator, Mapping
from typing import Optional

import pytest

from noxops.containers import engine
from noxops.image import smoke

FULL_ID = "adb1b470057778cc8c3f010e6ded93ebb9317016b35832dd752ab3873a97d856"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("DOCKER_HOST", "TC_HOST", "TESTCONTAINERS_HOST_OVERRIDE"):
        monkeypatch.delenv(name, raising=False)
    engine._own_container_cached.cache_clear()
    yield
    engine._own_container_cached.cache_clear()


class FakeDocker:
    """Answers ``docker inspect`` for the containers it knows; records every call."""

    def __init__(self, known: Mapping[str, tuple[str, str]]) -> None:
        self.known = dict(known)  # name or id -> (full id, hostname)
        self.calls: list[tuple[str, ...]] = []

    def __call__(
        self,
        *args: str,
        input: Optional[str] = None,
        env: Optional[Mapping[str, str]] = None,
        check: bool = True,
        timeout: Optional[float] = 120,
    ) -> subprocess.CompletedProcess[str]:
        self.calls.append(args)
        target = args[-1]
        if args[0] == "inspect" and target in self.known:
            ident, host = self.known[target]
            return subprocess.CompletedProcess(list(args), 0, f'"{ident}" "{host}"\n', "")
        return subprocess.CompletedProcess(list(args), 1, "", "Error: No such container")


def _inside(monkeypatch: pytest.MonkeyPatch, candidates: list[str], host: str) -> None:
    monkeypatch.setattr(engine, "_in_container", lambda: True)
    monkeypatch.setattr(engine, "_container_id_candidates", lambda: candidates)
    monkeypatch.setattr(socket, "gethostname", lambda: host)


def test_the_engine_confirms_the_container_named_by_the_cgroups(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _inside(monkeypatch, [FULL_ID, "adb1b4700577"], "adb1b4700577")
    fake = FakeDocker({FULL_ID: (FULL_ID, "adb1b4700577")})
    assert engine.own_container(fake) == FULL_ID


def test_the_hostname_counts_when_the_engine_gives_that_container_the_same_hostname(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _inside(monkeypatch, ["runner-abc"], "runner-abc")
    fake = FakeDocker({"runner-abc": (FULL_ID, "runner-abc")})
    assert engine.own_container(fake) == FULL_ID
    other = FakeDocker({"runner-abc": (FULL_ID, "someone-else")})
    assert engine.own_container(other) is None


def test_a_container_the_engine_does_not_run_is_the_host_case(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # like this machine: /.dockerenv exists, but the engine knows no container "vm"
    _inside(monkeypatch, ["vm"], "vm")
    assert engine.own_container(FakeDocker({})) is None


def test_not_in_a_container_or_a_remote_engine_asks_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeDocker({"vm": (FULL_ID, "vm")})
    monkeypatch.setattr(engine, "_in_container", lambda: False)
    assert engine.own_container(fake) is None
    _inside(monkeypatch, ["vm"], "vm")
    monkeypatch.setenv("DOCKER_HOST", "tcp://docker:2376")
    assert engine.own_container(fake) is None
    assert fake.calls == []


def test_where_published_ports_are_bound_and_reached(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (engine.publish_address(), engine.published_host()) == ("127.0.0.1", "127.0.0.1")
    # docker-in-docker (the GitLab dind rendering): ports on every interface of `docker`
    monkeypatch.setenv("DOCKER_HOST", "tcp://docker:2376")
    assert (engine.publish_address(), engine.published_host()) == ("", "docker")
    monkeypatch.setenv("TC_HOST", "10.0.0.5")
    assert engine.published_host() == "10.0.0.5"


def test_tc_host_keeps_the_published_way(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "own_container", lambda run=None: FULL_ID)
    assert engine.reach_through_network() == FULL_ID
    engine._own_container_cached.cache_clear()
    monkeypatch.setenv("TC_HOST", "127.0.0.1")
    assert engine.reach_through_network() is None


class Recorder:
    """Stands in for the engine functions RunningService calls."""

    def __init__(self, refuse_connect: bool = False) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.refuse_connect = refuse_connect

    def docker(self, *args: str, **_: object) -> subprocess.CompletedProcess[str]:
        self.calls.append(("docker", *args))
        out = ""
        if args[0] == "port":
            out = "0.0.0.0:49153\n[::]:49153\n"
        elif args[0] == "inspect":
            out = "running 0\n"
        return subprocess.CompletedProcess(list(args), 0, out, "")

    def connect(self, network: str, container: str) -> None:
        self.calls.append(("connect", network, container))
        if self.refuse_connect:
            raise engine.EngineError("`docker network connect` failed: host network")

    def install(self, monkeypatch: pytest.MonkeyPatch, joiner: Optional[str]) -> None:
        monkeypatch.setattr(engine, "docker", self.docker)
        monkeypatch.setattr(engine, "connect_network", self.connect)
        monkeypatch.setattr(
            engine, "disconnect_network", lambda n, c: self.calls.append(("disconnect", n, c))
        )
        monkeypatch.setattr(engine, "remove_container", lambda c: self.calls.append(("rm", c)))
        monkeypatch.setattr(engine, "remove_network", lambda n: self.calls.append(("rmnet", n)))
        monkeypatch.setattr(engine, "reach_through_network", lambda: joiner)
        monkeypatch.setattr(smoke, "reap_stale", lambda: 0)
        monkeypatch.setattr(smoke, "http_status", lambda url, timeout=3.0: 200)


def test_a_job_container_joins_the_network_and_reaches_the_alias(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rec = Recorder()
    rec.install(monkeypatch, FULL_ID)
    service = smoke.RunningService("app:1", port=8000, log=lambda _: None)
    with service:
        name = f"noxops-smoke-{service.run_id}"
        assert service.base_url == f"http://{name}:8000"
        assert ("connect", name, FULL_ID) in rec.calls
        create = next(c for c in rec.calls if c[:2] == ("docker", "create") and name == c[3])
        assert "-p" not in create and ("--network-alias" in create)
        # joined before anything starts
        assert rec.calls.index(("connect", name, FULL_ID)) < rec.calls.index(create)
    tail = [c for c in rec.calls if c[0] in {"disconnect", "rmnet"}]
    assert tail == [("disconnect", name, FULL_ID), ("rmnet", name)]


def test_a_failed_start_still_leaves_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorder()
    rec.install(monkeypatch, FULL_ID)

    def boom(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
        if args[0] == "start":
            raise KeyboardInterrupt
        return rec.docker(*args, **kw)

    monkeypatch.setattr(engine, "docker", boom)
    service = smoke.RunningService("app:1", port=8000, log=lambda _: None)
    with pytest.raises(KeyboardInterrupt):
        service.__enter__()
    name = f"noxops-smoke-{service.run_id}"
    assert ("disconnect", name, FULL_ID) in rec.calls
    assert rec.calls[-1] == ("rmnet", name)


def test_when_the_engine_refuses_the_join_the_port_is_published(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rec = Recorder(refuse_connect=True)
    rec.install(monkeypatch, FULL_ID)
    with smoke.RunningService("app:1", port=8000, log=lambda _: None) as service:
        assert service.base_url == "http://127.0.0.1:49153"
        create = next(c for c in rec.calls if c[:2] == ("docker", "create"))
        assert create[create.index("-p") + 1] == "127.0.0.1::8000"
    assert not any(c[0] == "disconnect" for c in rec.calls)


def test_on_this_machine_the_port_is_published_on_127_0_0_1(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rec = Recorder()
    rec.install(monkeypatch, None)
    with smoke.RunningService("app:1", port=8000, log=lambda _: None) as service:
        assert service.base_url == "http://127.0.0.1:49153"
        assert service.network is None
    assert not any(c[0] in {"connect", "disconnect"} for c in rec.calls)
