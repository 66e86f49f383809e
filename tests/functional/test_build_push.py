"""`nox -s build -- --push` to a real (minimal) registry on 127.0.0.1 with basic auth.

The registry speaks enough of the Docker Registry HTTP API v2 for the engine to log in and
push (blob uploads, manifests); it records what it received, so the test can check the
credentials that arrived, the tags, and that the manifest's digest is the registry's.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import re
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from support.loopback import http_server
from support.noxrun import copy_fixture, run_nox

from noxops.containers import engine

pytestmark = [pytest.mark.docker, pytest.mark.slow]

USER, PASSWORD = "pusher", "pw-7f3a9c-not-for-logs"


@dataclass
class Registry:
    url: str = ""
    blobs: dict[str, bytes] = field(default_factory=dict)
    uploads: dict[str, bytearray] = field(default_factory=dict)
    manifests: dict[str, bytes] = field(default_factory=dict)  # "name:tag" -> body
    auth_seen: set[str] = field(default_factory=set)


def _handler(state: Registry) -> type[http.server.BaseHTTPRequestHandler]:
    good = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                data = bytearray()
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        return bytes(data)
                    data += self.rfile.read(size)
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _reply(self, status: int, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Docker-Distribution-API-Version", "registry/2.0")
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _authorised(self) -> bool:
            header = self.headers.get("Authorization", "")
            if header:
                state.auth_seen.add(header)
            if header == good:
                return True
            self._body()
            self._reply(401, {"WWW-Authenticate": 'Basic realm="fake-registry"'})
            return False

        def _route(self) -> None:  # noqa: PLR0911 - one return per API call
            if not self._authorised():
                return
            path, _, query = self.path.partition("?")
            body = self._body()
            if path == "/v2/":
                return self._reply(200)
            blob = re.match(r"^/v2/(.+)/blobs/(sha256:[0-9a-f]{64})$", path)
            if blob and self.command in ("HEAD", "GET"):
                if blob[2] in state.blobs:
                    size = str(len(state.blobs[blob[2]]))
                    return self._reply(200, {"Docker-Content-Digest": blob[2], "X-Size": size})
                return self._reply(404)
            start = re.match(r"^/v2/(.+)/blobs/uploads/$", path)
            if start and self.command == "POST":
                upload = uuid.uuid4().hex
                state.uploads[upload] = bytearray(body)
                location = f"/v2/{start[1]}/blobs/uploads/{upload}"
                return self._reply(202, {"Location": location, "Range": "0-0",
                                         "Docker-Upload-UUID": upload})  # fmt: skip
            chunk = re.match(r"^/v2/(.+)/blobs/uploads/([0-9a-f]+)$", path)
            if chunk and self.command == "PATCH":
                state.uploads[chunk[2]] += body
                end = max(len(state.uploads[chunk[2]]) - 1, 0)
                return self._reply(202, {"Location": path, "Range": f"0-{end}",
                                         "Docker-Upload-UUID": chunk[2]})  # fmt: skip
            if chunk and self.command == "PUT":
                data = bytes(state.uploads.pop(chunk[2]) + body)
                digest = re.search(r"digest=(sha256(?:%3A|:)[0-9a-f]{64})", query)
                assert digest is not None
                name = digest[1].replace("%3A", ":")
                assert name == "sha256:" + hashlib.sha256(data).hexdigest()
                state.blobs[name] = data
                return self._reply(201, {"Location": f"/v2/{chunk[1]}/blobs/{name}",
                                         "Docker-Content-Digest": name})  # fmt: skip
            manifest = re.match(r"^/v2/(.+)/manifests/([^/]+)$", path)
            if manifest and self.command == "PUT":
                named = "sha256:" + hashlib.sha256(body).hexdigest()
                state.manifests[f"{manifest[1]}:{manifest[2]}"] = body
                location = f"/v2/{manifest[1]}/manifests/{named}"
                return self._reply(201, {"Docker-Content-Digest": named, "Location": location})
            return self._reply(404)

        do_GET = do_HEAD = do_POST = do_PATCH = do_PUT = _route

    return Handler


@pytest.fixture
def registry() -> Iterator[Registry]:
    state = Registry()
    with http_server(_handler(state)) as address:
        state.url = address
        yield state


def _pushable_project(tmp_path: Path, registry: Registry) -> Path:
    """The fixture service, pushing to the fake registry; a small image (the push compresses
    every layer: the base image without Python halves the test's time), no SBOM."""
    project = copy_fixture("service_project", tmp_path)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'name = "noxops-test/pingsvc"',
            f'name = "pingsvc"\nregistry = "{registry.url}/acme"\nsbom = false',
        )
    )
    (project / "Dockerfile").write_text("FROM debian:bookworm-slim\nCOPY dist/*.whl /opt/\n")
    return project


def _docker_config_dirs() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("noxops-docker-*")}


def test_push_logs_in_by_stdin_and_records_the_registry_digest(
    tmp_path: Path, registry: Registry
) -> None:
    project = _pushable_project(tmp_path, registry)
    before = _docker_config_dirs()
    env = {"NOXOPS_REGISTRY_USER": USER, "NOXOPS_REGISTRY_PASSWORD": PASSWORD}
    run = run_nox(project, "-s", "build", "--", "--push", env=env, timeout=400)
    data = json.loads((project / "reports" / "build-manifest.json").read_text())
    try:
        assert run.returncode == 0, run
        assert PASSWORD not in run.output
        good = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        assert good in registry.auth_seen
        assert data["pushed"] is True
        assert data["image"] == f"{registry.url}/acme/pingsvc"
        assert set(registry.manifests) == {f"acme/pingsvc:{tag}" for tag in data["tags"]}
        body = registry.manifests["acme/pingsvc:local"]
        assert data["digest"] == "sha256:" + hashlib.sha256(body).hexdigest()
        # the layers the manifest names were all uploaded, with matching digests
        layers = json.loads(body)["layers"]
        assert all(layer["digest"] in registry.blobs for layer in layers)
        # the login lived in a private folder that is gone
        assert _docker_config_dirs() == before
        assert not (Path.home() / ".docker" / "config.json").is_file() or (
            registry.url not in (Path.home() / ".docker" / "config.json").read_text()
        )
    finally:
        if data.get("image_id"):
            engine.docker("rmi", "-f", str(data["image_id"]), check=False)


def test_wrong_password_is_reported_without_the_password(
    tmp_path: Path, registry: Registry
) -> None:
    project = _pushable_project(tmp_path, registry)
    wrong = "wrong-" + PASSWORD
    env = {"NOXOPS_REGISTRY_USER": USER, "NOXOPS_REGISTRY_PASSWORD": wrong}
    run = run_nox(project, "-s", "build", "--", "--push", env=env, timeout=400)
    manifest = project / "reports" / "build-manifest.json"
    data = json.loads(manifest.read_text()) if manifest.is_file() else {}
    engine.docker("rmi", "-f", f"{registry.url}/acme/pingsvc:local", check=False)
    assert run.returncode == 1, run
    assert (
        f"docker login to {registry.url} as {USER} (password from $NOXOPS_REGISTRY_PASSWORD)"
        in (run.output)
    )
    assert wrong not in run.output
    assert "Traceback" not in run.output
    assert not registry.manifests
    assert data == {}
