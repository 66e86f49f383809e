"""Real nox runs of the per-environment deploy-<env> / rollback-<env> sessions."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.fakekube import FakeKube
from support.noxrun import run_nox

pytestmark = pytest.mark.slow

PYPROJECT = """\
[project]
name = "shop-web"
version = "1.0.0"

[tool.noxops.deploy.staging]
namespace = "shop"
app = "web"
kubeconfig = "kubeconfig.json"

[tool.noxops.deploy.production]
namespace = "shop"
app = "web"
strategy = "blue-green"
kubeconfig_env = "PROD_KUBECONFIG_B64"
rollout_timeout = 5
"""


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeKube]:
    with FakeKube() as server:
        yield server


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, fake: FakeKube) -> Path:
    root = tmp_path_factory.mktemp("deploy-project")
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "noxfile.py").write_text("import noxops\n\nnoxops.sessions()\n")
    (root / "kubeconfig.json").write_text(json.dumps(fake.kubeconfig()))
    (root / "reports").mkdir()
    (root / "reports" / "build-manifest.json").write_text(
        json.dumps({"image": "reg.test/web", "tags": ["1.0.0"], "digest": "sha256:" + "c" * 64})
    )
    return root


def _env(fake: FakeKube) -> dict[str, str]:
    import base64

    b64 = base64.b64encode(json.dumps(fake.kubeconfig()).encode()).decode()
    return {"PROD_KUBECONFIG_B64": b64, "NOXOPS_APPROVED": "", "NOXOPS_SLACK_WEBHOOK": ""}


def test_sessions_are_listed_but_not_default(project: Path) -> None:
    run = run_nox(project, "-l")
    assert run.returncode == 0, run
    for name in ("deploy-staging", "rollback-staging", "deploy-production", "rollback-production"):
        line = next(line for line in run.output.splitlines() if f" {name} " in f"{line} ")
        assert line.startswith("-"), line  # "-": not run by a plain `nox`
    assert "Deploy the built image to production (blue-green)." in run.output


def test_deploy_staging_then_production_needs_approval(project: Path, fake: FakeKube) -> None:
    run = run_nox(project, "-s", "deploy-staging", env=_env(fake))
    assert run.returncode == 0, run
    pinned = "reg.test/web@sha256:" + "c" * 64  # the build manifest's pushed digest
    assert f"deployed: web {pinned} is live in staging" in run.output
    assert fake.serving("shop", "web") == {pinned}

    refused = run_nox(project, "-s", "deploy-production", env=_env(fake))
    assert refused.returncode != 0
    assert "deploying to production needs an explicit approval" in refused.output
    assert "Traceback" not in refused.output

    plan = run_nox(project, "-s", "deploy-production", "--", "--dry-run", env=_env(fake))
    assert plan.returncode == 0, plan
    assert "[dry-run] would create Deployment/web-blue" in plan.output
    assert "web-blue" not in fake.names("deployments", "shop")

    fake.never_ready.add("reg.test/web:9")
    fake.deadline_ticks = 2  # the session polls every 2 s: fail on the second look
    failed = run_nox(
        project,
        "-s",
        "deploy-production",
        "--",
        "--approve",
        "--image=reg.test/web:9",
        env=_env(fake),
    )
    assert failed.returncode != 0
    assert re.search(r"deploy to production rolled back: .*progress deadline", failed.output)
    assert "web-blue" not in fake.names("deployments", "shop")
    # the base64 kubeconfig was written to a private temporary file and removed
    assert "noxops-kube-" not in failed.output
    report = json.loads((project / "reports" / "deploy-production.json").read_text())
    assert report["outcome"] == "rolled back"
