"""Registry credentials with the real docker CLI and engine: the login never reaches the disk,
a run SIGKILLed during a push leaves nothing a next run of any kind does not reap, and a
registry that never answers fails the push at its own timeout.

The registry is a small HTTP server on 127.0.0.1 (the engine treats loopback registries as
insecure, so plain HTTP works) that checks basic auth, answers the login, and then denies
pushes or never answers them (the engine gives up on a registry that does not answer its
first request, but waits for ever on one that stalls once the push has begun).
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from support.loopback import http_server
from support.noxrun import copy_fixture, run_nox

from noxops.containers import engine
from noxops.errors import NoxopsError
from noxops.image import runner
from noxops.image.auth import Credentials, logged_in
from noxops.masking import register_login

pytestmark = [pytest.mark.docker, pytest.mark.slow]

USER = "bot"
SECRET = "planted-Registry-5e1b77"  # noqa: S105 - planted: must never reach the disk
PAIR = base64.b64encode(f"{USER}:{SECRET}".encode()).decode()
BASE_IMAGE = "debian:bookworm-slim"  # only tagged and pushed, never run


@dataclass
class Registry:
    """What the fake registry saw; ``answer`` is what it does with a push: deny or hang."""

    answer: str = "deny"
    host: str = ""
    push_auth: list[str] = field(default_factory=list)  # the Authorization of push requests
    pushing: threading.Event = field(default_factory=threading.Event)
    closing: threading.Event = field(default_factory=threading.Event)


def _handler(state: Registry) -> type[http.server.BaseHTTPRequestHandler]:
    good = f"Basic {PAIR}"

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _reply(self, status: int, headers: dict[str, str]) -> None:
            self.send_response(status)
            for key, value in {
                "Docker-Distribution-API-Version": "registry/2.0",
                **headers,
            }.items():
                self.send_header(key, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _route(self) -> None:
            auth = self.headers.get("Authorization", "")
            if auth != good:
                self._reply(401, {"WWW-Authenticate": 'Basic realm="faults"'})
                return
            if self.path == "/v2/":
                self._reply(200, {})
                return
            state.push_auth.append(auth)
            state.pushing.set()
            if state.answer == "hang":
                state.closing.wait(300)
            self._reply(403, {})

        do_GET = do_HEAD = do_POST = do_PATCH = do_PUT = _route

    return Handler


@pytest.fixture
def registry() -> Iterator[Registry]:
    state = Registry()
    with http_server(_handler(state)) as address:
        state.host = address
        try:
            yield state
        finally:
            state.closing.set()  # a push left hanging lets go before the server stops


@pytest.fixture
def leases_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "leases"
    monkeypatch.setenv("NOXOPS_LEASE_DIR", str(folder))
    return folder


@contextlib.contextmanager
def _tagged(ref: str) -> Iterator[str]:
    if engine.docker("image", "inspect", BASE_IMAGE, check=False).returncode != 0:
        pytest.skip(f"{BASE_IMAGE} is not on the engine")
    engine.docker("tag", BASE_IMAGE, ref)
    try:
        yield ref
    finally:
        engine.docker("rmi", ref, check=False)


def _holding(root: Path) -> list[str]:
    """The files under ``root`` that hold the password or its base64 login pair."""
    return [
        str(path)
        for path in root.rglob("*")
        if path.is_file()
        and not path.is_symlink()
        and any(n.encode() in path.read_bytes() for n in (SECRET, PAIR))
    ]


def test_the_login_never_reaches_the_disk_yet_reaches_the_registry(
    registry: Registry, leases_dir: Path
) -> None:
    creds = Credentials(registry.host, USER, SECRET, "$FAULT_SECRET")
    register_login(USER, SECRET)
    with _tagged(f"{registry.host}/faults/app:1") as ref:
        with logged_in(creds, os.environ) as env:
            folder = Path(env["DOCKER_CONFIG"])
            assert (folder / "config.json").is_file()  # docker login wrote what it keeps
            assert _holding(folder) == []
            with pytest.raises(NoxopsError) as err:  # the registry denies the push ...
                runner._push(ref, env, docker=engine.docker, log=print, timeout=300)
            assert _holding(folder) == []
        assert f"`docker push {ref}` failed" in str(err.value) and SECRET not in str(err.value)
        # ... having got the credentials from memory with it
        assert registry.push_auth and set(registry.push_auth) == {f"Basic {PAIR}"}
        assert not folder.exists()


PUSHER = """
import os, sys
from noxops.containers import engine
from noxops.image import runner
from noxops.image.auth import Credentials, logged_in
creds = Credentials(sys.argv[1], "bot", os.environ["FAULT_SECRET"], "$FAULT_SECRET")
with logged_in(creds, os.environ) as env:
    print("CONFIG", env["DOCKER_CONFIG"], flush=True)
    runner._push(sys.argv[2], env, docker=engine.docker, log=print, timeout=600)
"""


def test_a_run_killed_during_a_push_leaves_nothing_a_next_run_does_not_reap(
    registry: Registry, leases_dir: Path, tmp_path: Path
) -> None:
    registry.answer = "hang"
    with _tagged(f"{registry.host}/faults/app:2") as ref:
        env = {**os.environ, "FAULT_SECRET": SECRET}
        with subprocess.Popen(
            [sys.executable, "-c", PUSHER, registry.host, ref],
            env=env, stdout=subprocess.PIPE, text=True,
        ) as pusher:  # fmt: skip
            assert pusher.stdout is not None
            line = pusher.stdout.readline()
            assert line.startswith("CONFIG "), line
            folder = Path(line.split(" ", 1)[1].strip())
            deadline = time.monotonic() + 120
            while not registry.pushing.wait(0.2):  # the push is under way at the registry
                assert pusher.poll() is None, f"the run ended first: {pusher.stdout.read()}"
                assert time.monotonic() < deadline, "the push never reached the registry"
            pusher.kill()
            pusher.wait(30)
        assert folder.is_dir()  # nothing ran after SIGKILL ...
        assert _holding(folder) == []  # ... and the credentials were never there
        # Any next noxops run reaps the folder, here one that only lists the sessions.
        project = copy_fixture("clean_project", tmp_path)
        listing = run_nox(project, "-l", timeout=300)
        assert listing.returncode == 0, listing
        assert not folder.exists(), listing
        assert SECRET not in listing.output


def test_a_push_to_a_registry_that_never_answers_stops_at_push_timeout(
    tmp_path: Path, registry: Registry
) -> None:
    registry.answer = "hang"  # it answers the login, then never a push request
    project = tmp_path / "stall"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        "[project]\nname = 'stall'\nversion = '0.1.0'\n\n[tool.noxops]\n\n"
        f"[tool.noxops.image]\nregistry = '{registry.host}'\npush_timeout = 3\n"
        "sbom = false\npackages = false\n",
        encoding="utf-8",
    )
    (project / "Dockerfile").write_text(f"FROM {BASE_IMAGE}\n", encoding="utf-8")
    (project / "noxfile.py").write_text("import noxops\n\nnoxops.sessions()\n", encoding="utf-8")
    env = {"NOXOPS_REGISTRY_USER": USER, "NOXOPS_REGISTRY_PASSWORD": SECRET}
    try:
        # Without a timeout of its own the push waits for the stage's (30 minutes): run_nox's
        # timeout fails the test long before.
        run = run_nox(project, "-s", "build", "--", "--push", env=env, timeout=600)
    finally:
        refs = engine.docker(
            "images", "--format", "{{.Repository}}:{{.Tag}}",
            "--filter", f"reference={registry.host}/stall",
        ).stdout.split()  # fmt: skip
        if refs:
            engine.docker("rmi", *refs, check=False)
    assert run.returncode != 0, run
    assert registry.pushing.is_set(), run  # the push was under way when it was stopped
    assert "did not finish within 3s" in run.output and "push_timeout" in run.output, run
    assert "Traceback" not in run.output and SECRET not in run.output
