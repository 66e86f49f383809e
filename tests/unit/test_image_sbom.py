"""The image SBOM (CycloneDX 1.5) and the smoke runner's small helpers."""

from __future__ import annotations

import datetime
import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from noxops.image.sbom import INSPECT, cyclonedx, purl
from noxops.image.smoke import _env_split, http_status

INSPECTED = {
    "python": "3.11.2",
    "packages": [
        {"name": "notes", "version": "1.0.0", "summary": "Notes API", "license": "",
         "license_expression": "MIT", "classifiers": [],
         "requires": ["psycopg[binary]>=3.1", "redis>=5", "pytest; extra == 'test'"]},
        {"name": "psycopg", "version": "3.2.1", "summary": "", "license": "GNU LGPL v3",
         "license_expression": "", "classifiers": [], "requires": ["typing_extensions>=4.4"]},
        {"name": "typing_extensions", "version": "4.12.2", "summary": "", "license": "",
         "license_expression": "",
         "classifiers": ["License :: OSI Approved :: Python Software Foundation License"],
         "requires": []},
        {"name": "redis", "version": "5.0.8", "summary": "", "license": "MIT\n\nfull text...",
         "license_expression": "", "classifiers": ["License :: OSI Approved :: MIT License"],
         "requires": ["async-timeout>=4.0.3; python_full_version < '3.11.3'"]},
    ],
}  # fmt: skip


def _document() -> dict[str, object]:
    return cyclonedx(
        INSPECTED,
        image="ghcr.io/acme/notes",
        version="sha-1a2b3c4",
        project="notes",
        tool_version="0.1.0",
        timestamp=datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
    )


def test_components_licenses_and_dependencies() -> None:
    doc = _document()
    components = {c["name"]: c for c in doc["components"]}  # type: ignore[attr-defined]
    assert list(components) == ["notes", "psycopg", "redis", "typing_extensions"]
    assert components["typing_extensions"]["purl"] == "pkg:pypi/typing-extensions@4.12.2"
    assert components["notes"]["licenses"] == [{"expression": "MIT"}]
    assert components["psycopg"]["licenses"] == [{"license": {"name": "GNU LGPL v3"}}]
    assert components["redis"]["licenses"] == [{"license": {"name": "MIT License"}}]  # no text
    deps = {d["ref"]: d["dependsOn"] for d in doc["dependencies"]}  # type: ignore[attr-defined]
    assert deps["image:ghcr.io/acme/notes:sha-1a2b3c4"] == ["pkg:pypi/notes@1.0.0"]
    # installed requirements only; extras and absent markers' packages are left out
    assert deps["pkg:pypi/notes@1.0.0"] == ["pkg:pypi/psycopg@3.2.1", "pkg:pypi/redis@5.0.8"]
    assert deps["pkg:pypi/psycopg@3.2.1"] == ["pkg:pypi/typing-extensions@4.12.2"]
    assert doc["metadata"]["timestamp"] == "2026-01-02T03:04:05Z"  # type: ignore[index]


def test_document_is_valid_cyclonedx_1_5() -> None:
    validation = pytest.importorskip("cyclonedx.validation.json")
    schema = pytest.importorskip("cyclonedx.schema")
    validator = validation.JsonStrictValidator(schema.SchemaVersion.V1_5)
    assert validator.validate_str(json.dumps(_document())) is None


def test_inspect_script_runs_on_this_python() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", INSPECT], capture_output=True, text=True, check=True
    )
    data = json.loads(proc.stdout)
    names = {p["name"].lower() for p in data["packages"]}
    assert {"pytest", "noxops"} <= names
    assert data["python"] == sys.version.split()[0]


def test_purl_normalises_names() -> None:
    assert purl("Typing_Extensions", "4.0") == "pkg:pypi/typing-extensions@4.0"
    assert purl("zope.interface", "6.0") == "pkg:pypi/zope-interface@6.0"


def test_env_values_stay_out_of_argv() -> None:
    args, cli_env = _env_split({"DATABASE_URL": "postgresql://u:secret@db/app", "PATH": "/x"})
    assert args == ["-e", "DATABASE_URL", "-e", "PATH=/x"]
    assert cli_env == {"DATABASE_URL": "postgresql://u:secret@db/app"}
    assert not any("secret" in a for a in args)


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health" else 503)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_http_status(server: str) -> None:
    assert http_status(server + "/health") == 200
    assert http_status(server + "/ready") == 503
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    port = httpd.server_address[1]
    httpd.server_close()
    assert http_status(f"http://127.0.0.1:{port}/health", timeout=1) is None
