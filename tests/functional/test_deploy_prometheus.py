"""Canary analysis against a real Prometheus (Debian's package) on 127.0.0.1.

Prometheus scrapes a small example service whose /metrics reports request counters per app,
track and status, growing at each scrape as live traffic would: the ``web`` canary answers 1%
of requests with a 5xx, the ``api`` canary 30%. The deploy's default error-rate query must
promote the first and roll back the second.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from support.deploykit import Run, make_project
from support.fakekube import FakeKube

ERRORS = {"web": 0.01, "api": 0.30}  # the canary's 5xx share per app


class ExampleService:
    """Counts requests per scrape: 200 per track, the canary failing at ``ERRORS[app]``."""

    def __init__(self) -> None:
        self.scrapes = 0
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                service.scrapes += 1
                n = service.scrapes * 200
                lines = ["# TYPE http_requests_total counter"]
                for app, share in ERRORS.items():
                    for track, failing in (("stable", 0.0), ("canary", share)):
                        bad = int(n * failing)
                        for status, count in (("200", n - bad), ("500", bad)):
                            lines.append(
                                f'http_requests_total{{app="{app}",track="{track}",'
                                f'status="{status}"}} {count}'
                            )
                body = ("\n".join(lines) + "\n").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> ExampleService:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _query(url: str, promql: str) -> list[Any]:
    full = f"{url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    with urllib.request.urlopen(full, timeout=5) as response:  # noqa: S310 - loopback
        result: list[Any] = json.loads(response.read())["data"]["result"]
        return result


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("prometheus is not installed (Debian package 'prometheus')")
    folder = tmp_path_factory.mktemp("prometheus")
    with ExampleService() as service:
        config = folder / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: example\n"
            f"    static_configs:\n      - targets: ['{service.address}']\n"
        )
        port = _free_port()
        log_file = (folder / "prometheus.log").open("w")
        proc = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:  # ready once both canaries have a rate (two samples or more)
                try:
                    rates = _query(url, 'rate(http_requests_total{track="canary"}[1m])')
                    if len(rates) >= 4:
                        break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    log = (folder / "prometheus.log").read_text()[-2000:]
                    pytest.fail(f"prometheus did not become ready:\n{log}")
                time.sleep(0.5)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log_file.close()


@pytest.fixture
def fake() -> Iterator[FakeKube]:
    with FakeKube() as server:
        yield server


def test_canary_analysis_queries_real_prometheus(
    tmp_path: Path, fake: FakeKube, prometheus: str
) -> None:
    settings = {
        "strategy": "canary",
        "prometheus_url": prometheus,
        "canary_weights": [20],
        "analysis_rounds": 2,
    }
    for app in ERRORS:
        envs = {"production": {**settings, "app": app}}
        run = Run(make_project(tmp_path / app, fake, envs))
        assert run("production", f"reg.test/{app}:1", "--approve").outcome == "deployed"
        result = run("production", f"reg.test/{app}:2", "--approve")
        rates = [a["error_rate"] for a in result.analysis]
        if app == "web":
            assert result.outcome == "deployed", run.text
            assert all(0.005 < r < 0.02 for r in rates), rates
            assert fake.serving("shop", "web") == {"reg.test/web:2"}
        else:
            assert result.outcome == "rolled back", run.text
            assert 0.25 < rates[0] < 0.35, rates
            assert "above the threshold 5.00%" in result.message
            assert fake.serving("shop", "api") == {"reg.test/api:1"}
            assert "api-canary" not in fake.names("deployments", "shop")
