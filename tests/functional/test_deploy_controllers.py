"""Argo Rollouts and Flagger: CI sets the image, follows the controller, aborts/undoes."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.deploykit import Run, make_project
from support.fakekube import FakeKube

from noxops.deploy import resources
from noxops.deploy.settings import DeployEnvConfig

V1, V2, V3 = "reg.test/web:1", "reg.test/web:2", "reg.test/web:3"


@pytest.fixture
def fake() -> Iterator[FakeKube]:
    with FakeKube() as server:
        yield server


def _template(image: str) -> dict[str, Any]:
    dep = resources.deployment(DeployEnvConfig(namespace="shop"), "web", image)
    return copy.deepcopy(dep["spec"]["template"])


def _rollout_image(fake: FakeKube) -> str:
    ro = fake.get("rollouts", "shop", "web")
    assert ro is not None
    return str(ro["spec"]["template"]["spec"]["containers"][0]["image"])


def test_argo_rollout_healthy_then_degraded_is_aborted_and_undone(
    tmp_path: Path, fake: FakeKube
) -> None:
    fake.seed(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Rollout",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "web"}},
                "template": _template(V1),
                "strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {"duration": 60}}]}},
            },
        }
    )
    run = Run(make_project(tmp_path, fake, {"production": {"strategy": "argo-rollouts"}}))
    result = run("production", V2, "--approve")
    assert result.outcome == "deployed", run.text
    assert _rollout_image(fake) == V2
    assert result.analysis[-1]["result"] == "healthy"
    assert "Rollout: Progressing" in run.text

    fake.bad_analysis.add(V3)
    bad = run("production", V3, "--approve")
    assert bad.outcome == "rolled back", run.text
    assert 'Metric "error-rate" assessed Failed' in bad.message  # the controller's verdict
    assert _rollout_image(fake) == V2
    status = fake.get("rollouts", "shop", "web")
    assert status is not None and status["status"]["phase"] == "Healthy"
    assert ("PATCH", "/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/web/status") in list(
        fake.iter_requests()
    )

    back = run("production", None, "--approve", action="rollback")
    assert back.outcome == "deployed", run.text
    assert _rollout_image(fake) == V1  # V2's predecessor, recorded on the Rollout


def test_argo_missing_rollout_is_a_clear_error(tmp_path: Path, fake: FakeKube) -> None:
    run = Run(make_project(tmp_path, fake, {"staging": {"strategy": "argo-rollouts"}}))
    result = run("staging", V1)
    assert result.outcome == "failed"
    assert "no Rollout named web in namespace shop" in result.message


def _seed_flagger(fake: FakeKube, image: str) -> None:
    cfg = DeployEnvConfig(namespace="shop")
    fake.seed(resources.deployment(cfg, "web", image))
    fake.seed(resources.deployment(cfg, "web", image, name="web-primary"))
    fake.seed(
        {
            "apiVersion": "flagger.app/v1beta1",
            "kind": "Canary",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {
                "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "service": {"port": 80},
                "analysis": {"interval": "1m", "threshold": 3, "stepWeight": 10},
            },
        }
    )


def _image(fake: FakeKube, name: str) -> str:
    dep = fake.get("deployments", "shop", name)
    assert dep is not None
    return str(dep["spec"]["template"]["spec"]["containers"][0]["image"])


def test_flagger_success_and_failure(tmp_path: Path, fake: FakeKube) -> None:
    _seed_flagger(fake, V1)
    run = Run(make_project(tmp_path, fake, {"production": {"strategy": "flagger"}}))
    result = run("production", V2, "--approve")
    assert result.outcome == "deployed", run.text
    assert _image(fake, "web-primary") == V2
    assert "Canary analysis completed successfully" in result.analysis[-1]["verdict"]

    fake.bad_analysis.add(V3)
    bad = run("production", V3, "--approve")
    assert bad.outcome == "rolled back", run.text
    assert "Canary analysis failed" in bad.message
    assert "failed checks 3" in bad.message
    assert _image(fake, "web-primary") == V2  # the primary never took V3
    assert _image(fake, "web") == V2  # and the target is back on it
    canary = fake.get("canaries", "shop", "web")
    assert canary is not None and canary["status"]["phase"] == "Succeeded"

    back = run("production", None, "--approve", action="rollback")
    assert back.outcome == "deployed", run.text
    assert (_image(fake, "web-primary"), _image(fake, "web")) == (V1, V1)


def test_same_image_again_is_a_no_op(tmp_path: Path, fake: FakeKube) -> None:
    _seed_flagger(fake, V1)
    run = Run(make_project(tmp_path, fake, {"staging": {"strategy": "flagger"}}))
    result = run("staging", V1)
    assert result.outcome == "deployed"
    assert "already runs" in run.text
    assert [m for m, _ in fake.iter_requests() if m != "GET"] == []
