"""The example service (examples/service) deploys to staging (rolling) and to production
(blue-green, then canary) against the fake API server, with its own [tool.noxops] plus
deploy tables, and the rollback cases restore the previous version."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.deploykit import Run
from support.fakekube import FakeKube, FakePrometheus

from noxops.config import load

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "service"

DEPLOY = """
[tool.noxops.deploy.staging]
namespace = "notes-staging"
strategy = "rolling"
kubeconfig = "kubeconfig.json"
ready_path = "/ready"

[tool.noxops.deploy.production]
namespace = "notes"
strategy = "{strategy}"
replicas = 3
kubeconfig_env = "NOTES_PROD_KUBECONFIG"
url = "{url}"
prometheus_url = "{prometheus}"
canary_weights = [20, 50]
analysis_rounds = 2
analysis_interval = 0
"""


@pytest.fixture
def cluster() -> Iterator[tuple[FakeKube, FakePrometheus]]:
    with FakeKube() as fake, FakePrometheus(0.0) as prom:
        yield fake, prom


def _example(root: Path, fake: FakeKube, prom: FakePrometheus, strategy: str) -> Run:
    if not (EXAMPLE / "pyproject.toml").is_file():
        pytest.skip("examples/service is not in this checkout")
    root.mkdir(parents=True, exist_ok=True)
    text = (EXAMPLE / "pyproject.toml").read_text(encoding="utf-8")
    url = f"{fake.url}/ingress/notes/notes-service"
    (root / "pyproject.toml").write_text(
        text + DEPLOY.format(strategy=strategy, url=url, prometheus=prom.url), encoding="utf-8"
    )
    for folder in ("src", "tests"):  # paths the example's config names must exist
        shutil.copytree(EXAMPLE / folder, root / folder, dirs_exist_ok=True)
    (root / "kubeconfig.json").write_text(json.dumps(fake.kubeconfig()), encoding="utf-8")
    (root / "reports").mkdir(exist_ok=True)
    (root / "reports" / "build-manifest.json").write_text(
        json.dumps({"image": "noxops-examples/notes", "tags": ["1.0.0"]}), encoding="utf-8"
    )
    return Run(load(root))


def test_example_service_staging_and_production(
    tmp_path: Path, cluster: tuple[FakeKube, FakePrometheus], monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64

    fake, prom = cluster
    secret = base64.b64encode(json.dumps(fake.kubeconfig()).encode()).decode()
    monkeypatch.setenv("NOTES_PROD_KUBECONFIG", secret)
    built, v2, v3 = (
        "noxops-examples/notes:1.0.0",
        "noxops-examples/notes:1.1.0",
        "noxops-examples/notes:1.2.0",
    )

    run = _example(tmp_path / "bg", fake, prom, "blue-green")
    assert run("staging").outcome == "deployed", run.text  # the build manifest's image
    assert fake.serving("notes-staging", "notes-service") == {built}
    readiness = fake.get("deployments", "notes-staging", "notes-service")
    assert readiness is not None
    probe = readiness["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
    assert probe["httpGet"]["path"] == "/ready"

    with pytest.raises(Exception, match="needs an explicit approval"):
        run("production")
    assert run("production", None, "--approve").outcome == "deployed", run.text
    assert run("production", v2, "--approve").outcome == "deployed", run.text
    assert fake.serving("notes", "notes-service") == {v2}
    fake.unhealthy.add(v3)
    assert run("production", v3, "--approve").outcome == "rolled back"
    assert fake.serving("notes", "notes-service") == {v2}
    assert run("production", None, "--approve", action="rollback").outcome == "deployed"
    assert fake.serving("notes", "notes-service") == {built}

    for key in [k for k in fake.objects if k[1] == "notes"]:
        del fake.objects[key]
    fake.unhealthy.clear()
    run = _example(tmp_path / "canary", fake, prom, "canary")
    assert run("production", None, "--approve").outcome == "deployed", run.text
    assert run("production", v2, "--approve").outcome == "deployed", run.text
    assert fake.serving("notes", "notes-service") == {v2}
    prom.value = 0.5
    result = run("production", v3, "--approve")
    assert result.outcome == "rolled back", run.text
    assert fake.serving("notes", "notes-service") == {v2}
    assert fake.names("deployments", "notes") == ["notes-service"]
