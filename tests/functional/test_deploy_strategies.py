"""Every deploy strategy against the fake Kubernetes API server, over real HTTP.

Each failure case must end in the documented rollback with nothing of the new version left
serving (checked in the fake cluster's own state, not in what the deploy reports).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.deploykit import Run, make_project
from support.fakekube import FakeKube, FakePrometheus

from noxops.deploy.approval import ApprovalRequired

V1, V2, V3 = (
    "registry.example.test/shop/web:1",
    "registry.example.test/shop/web:2",
    "registry.example.test/shop/web:3",
)


@pytest.fixture
def fake() -> Iterator[FakeKube]:
    with FakeKube() as server:
        yield server


@pytest.fixture
def prom() -> Iterator[FakePrometheus]:
    with FakePrometheus(0.01) as server:
        yield server


def _writes(fake: FakeKube) -> list[tuple[str, str]]:
    return [(m, p) for m, p in fake.iter_requests() if m != "GET" and not p.startswith("/ingress")]


# -- rolling --------------------------------------------------------------------------------


def test_rolling_deploys_the_build_manifest_image_then_updates(
    tmp_path: Path, fake: FakeKube
) -> None:
    run = Run(make_project(tmp_path, fake, {"staging": {}}))
    first = run("staging")  # the image comes from reports/build-manifest.json
    assert first.outcome == "deployed", run.text
    built = "registry.example.test/shop/web:1.0.0"
    assert fake.serving("shop", "web") == {built}
    second = run("staging", V2)
    assert second.outcome == "deployed", run.text
    assert second.previous_image == built
    dep = fake.get("deployments", "shop", "web")
    assert dep is not None
    assert dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    assert dep["status"]["updatedReplicas"] == dep["status"]["availableReplicas"] == 2
    assert fake.serving("shop", "web") == {V2}
    report = run.report("staging")
    assert report["outcome"] == "deployed"
    assert report["image"] == V2
    assert "update Deployment/web" in report["actions"]
    # the token never shows up in what the deploy prints
    assert fake.token not in run.text


def test_rolling_never_ready_rolls_back_to_the_previous_revision(
    tmp_path: Path, fake: FakeKube
) -> None:
    run = Run(make_project(tmp_path, fake, {"staging": {}}))
    assert run("staging", V1).outcome == "deployed"
    fake.never_ready.add(V2)
    result = run("staging", V2)
    assert result.outcome == "rolled back", run.text
    assert "progress deadline" in result.message
    assert fake.serving("shop", "web") == {V1}
    dep = fake.get("deployments", "shop", "web")
    assert dep is not None
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == V1
    # a later rollback session skips the failed revision: there is nothing before V1
    rollback = run("staging", action="rollback")
    assert rollback.outcome == "failed"
    assert "no previous revision" in rollback.message
    assert fake.serving("shop", "web") == {V1}


def test_rolling_timeout_without_deadline_condition(tmp_path: Path, fake: FakeKube) -> None:
    run = Run(make_project(tmp_path, fake, {"staging": {"rollout_timeout": 0.3}}))
    assert run("staging", V1).outcome == "deployed"
    fake.never_ready.add(V2)
    fake.progress_deadline = False
    result = run("staging", V2)
    assert result.outcome == "rolled back", run.text
    assert "not ready after 0.3s" in result.message
    assert "rollout_timeout" in result.message
    assert fake.serving("shop", "web") == {V1}


def test_rolling_failing_health_check_rolls_back(tmp_path: Path, fake: FakeKube) -> None:
    run = Run(make_project(tmp_path, fake, {"staging": {}}))
    assert run("staging", V1).outcome == "deployed"
    fake.unhealthy.add(V2)
    result = run("staging", V2)
    assert result.outcome == "rolled back", run.text
    assert "/health on Service web answered HTTP 503" in result.message
    assert fake.serving("shop", "web") == {V1}


def test_rolling_first_version_failing_is_deleted(tmp_path: Path, fake: FakeKube) -> None:
    run = Run(make_project(tmp_path, fake, {"staging": {}}))
    fake.never_ready.add(V1)
    result = run("staging", V1)
    assert result.outcome == "rolled back"
    assert fake.names("deployments", "shop") == []


def test_rollback_session_returns_to_previous_version(tmp_path: Path, fake: FakeKube) -> None:
    run = Run(make_project(tmp_path, fake, {"staging": {}}))
    for image in (V1, V2):
        assert run("staging", image).outcome == "deployed"
    result = run("staging", action="rollback")
    assert result.outcome == "deployed", run.text
    assert (result.image, result.previous_image) == (V1, V2)
    assert fake.serving("shop", "web") == {V1}
    again = run("staging", action="rollback")  # rolling back a rollback goes forward again
    assert again.image == V2
    assert fake.serving("shop", "web") == {V2}


# -- blue-green ---------------------------------------------------------------------------


def _bluegreen(tmp_path: Path, fake: FakeKube, **extra: object) -> Run:
    settings = {"strategy": "blue-green", "url": f"{fake.url}/ingress/shop/web", **extra}
    return Run(make_project(tmp_path, fake, {"production": settings}))


def _selector(fake: FakeKube) -> dict[str, str]:
    svc = fake.get("services", "shop", "web")
    assert svc is not None
    return dict(svc["spec"]["selector"])


def test_bluegreen_switches_colour_and_deletes_the_old(tmp_path: Path, fake: FakeKube) -> None:
    run = _bluegreen(tmp_path, fake, keep_old=0.05)
    assert run("production", V1, "--approve").outcome == "deployed", run.text
    assert _selector(fake) == {"app": "web", "colour": "blue"}
    result = run("production", V2, "--approve")
    assert result.outcome == "deployed", run.text
    assert _selector(fake) == {"app": "web", "colour": "green"}
    assert fake.names("deployments", "shop") == ["web-green"]
    assert "web-preview" not in fake.names("services", "shop")
    assert fake.serving("shop", "web") == {V2}
    green = fake.get("deployments", "shop", "web-green")
    assert green is not None
    container = green["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["resources"]["limits"] == {"cpu": "500m", "memory": "256Mi"}
    assert "keeping web-blue for 0.05s" in run.text
    assert any(p.startswith("/ingress/shop/web/health") for _, p in fake.iter_requests())


def test_bluegreen_failing_health_switches_back_and_deletes_new(
    tmp_path: Path, fake: FakeKube
) -> None:
    run = _bluegreen(tmp_path, fake)
    assert run("production", V1, "--approve").outcome == "deployed"
    fake.unhealthy.add(V2)
    result = run("production", V2, "--approve")
    assert result.outcome == "rolled back", run.text
    assert _selector(fake) == {"app": "web", "colour": "blue"}
    assert fake.names("deployments", "shop") == ["web-blue"]
    assert fake.serving("shop", "web") == {V1}


def test_bluegreen_public_url_failing_after_switch_switches_back(
    tmp_path: Path, fake: FakeKube
) -> None:
    run = _bluegreen(tmp_path, fake)
    assert run("production", V1, "--approve").outcome == "deployed"
    broken = make_project(
        tmp_path,
        fake,
        {"production": {"strategy": "blue-green", "url": "http://127.0.0.1:9/nothing"}},
    )
    run = Run(broken)
    result = run("production", V2, "--approve")
    assert result.outcome == "rolled back", run.text
    assert "patch Service/web" in result.actions  # switched, then switched back
    assert result.actions.count("patch Service/web") == 2
    assert _selector(fake) == {"app": "web", "colour": "blue"}
    assert fake.serving("shop", "web") == {V1}
    assert "web-green" not in fake.names("deployments", "shop")


def test_bluegreen_rollback_within_keep_window_and_after(tmp_path: Path, fake: FakeKube) -> None:
    run = _bluegreen(tmp_path, fake)
    assert run("production", V1, "--approve").outcome == "deployed"
    assert run("production", V2, "--approve").outcome == "deployed"
    # the old colour is gone: the rollback redeploys the previous image the Service recorded
    result = run("production", None, "--approve", action="rollback")
    assert result.outcome == "deployed", run.text
    assert fake.serving("shop", "web") == {V1}
    assert _selector(fake)["colour"] == "blue"
    assert fake.names("deployments", "shop") == ["web-blue"]


def test_bluegreen_rollback_while_the_old_colour_still_runs(tmp_path: Path, fake: FakeKube) -> None:
    from noxops.deploy import resources
    from noxops.deploy.settings import DeployEnvConfig

    run = _bluegreen(tmp_path, fake)
    assert run("production", V1, "--approve").outcome == "deployed"
    assert run("production", V2, "--approve").outcome == "deployed"  # green is live
    # as during keep_old: the old colour (blue, V1) still runs
    cfg = DeployEnvConfig(namespace="shop")
    fake.seed(resources.deployment(cfg, "web", V1, name="web-blue", labels={"colour": "blue"}))
    result = run("production", None, "--approve", action="rollback")
    assert result.outcome == "deployed", run.text
    assert "switching Service web back to blue" in run.text
    assert "create Deployment/web-blue" not in result.actions  # instant: no new rollout
    assert _selector(fake)["colour"] == "blue"
    assert fake.names("deployments", "shop") == ["web-blue"]
    assert fake.serving("shop", "web") == {V1}


# -- canary -------------------------------------------------------------------------------


def _canary(tmp_path: Path, fake: FakeKube, prom: FakePrometheus, mesh: str) -> Run:
    settings = {
        "strategy": "canary",
        "mesh": mesh,
        "prometheus_url": prom.url,
        "canary_weights": [10, 50],
        "analysis_rounds": 2,
        "replicas": 3,
    }
    return Run(make_project(tmp_path, fake, {"production": settings}))


def test_canary_istio_promotes(tmp_path: Path, fake: FakeKube, prom: FakePrometheus) -> None:
    run = _canary(tmp_path, fake, prom, "istio")
    assert run("production", V1, "--approve").outcome == "deployed", run.text
    result = run("production", V2, "--approve")
    assert result.outcome == "deployed", run.text
    assert [(a["weight"], a["result"]) for a in result.analysis] == [
        (10, "passed"),
        (10, "passed"),
        (50, "passed"),
        (50, "passed"),
    ]
    assert fake.serving("shop", "web") == {V2}
    assert fake.names("deployments", "shop") == ["web"]
    vs = fake.get("virtualservices", "shop", "web")
    assert vs is not None
    assert vs["spec"]["http"][0]["match"] == [{"headers": {"canary": {"exact": "true"}}}]
    assert [r["weight"] for r in vs["spec"]["http"][1]["route"]] == [100, 0]
    assert prom.queries and 'track="canary"' in prom.queries[0]
    # the VirtualService carried the canary weights along the way
    patches = [p for m, p in fake.iter_requests() if m == "PUT" and "virtualservices" in p]
    assert len(patches) >= 3


def test_canary_bad_error_rate_rolls_back(
    tmp_path: Path, fake: FakeKube, prom: FakePrometheus
) -> None:
    run = _canary(tmp_path, fake, prom, "istio")
    assert run("production", V1, "--approve").outcome == "deployed"
    prom.value = 0.2
    result = run("production", V2, "--approve")
    assert result.outcome == "rolled back", run.text
    assert "error rate 20.00% is above the threshold 5.00%" in result.message
    assert result.analysis[-1]["result"] == "failed"
    assert fake.names("deployments", "shop") == ["web"]
    assert "web-canary" not in fake.names("services", "shop")
    assert fake.serving("shop", "web") == {V1}
    # nothing routes to the canary, not even the testers' header route
    assert fake.images_behind("shop", {"app": "web"}) == {V1}


def test_canary_without_mesh_uses_replica_ratio(
    tmp_path: Path, fake: FakeKube, prom: FakePrometheus
) -> None:
    run = _canary(tmp_path, fake, prom, "none")
    assert run("production", V1, "--approve").outcome == "deployed"
    scaled: list[int] = []
    original = fake._tick_deployment

    def spy(key: tuple[str, str, str]) -> None:
        if key[2] == "web-canary":
            scaled.append(int(fake.objects[key]["spec"]["replicas"]))
        original(key)

    fake._tick_deployment = spy  # type: ignore[method-assign]
    result = run("production", V2, "--approve")
    assert result.outcome == "deployed", run.text
    assert 1 in scaled and 3 in scaled  # 10% of 3 stable pods -> 1 canary; 50% -> 3
    assert fake.serving("shop", "web") == {V2}
    assert "virtualservices" not in {p.split("/")[-2] for _, p in fake.iter_requests()}


def test_canary_unhealthy_canary_rolls_back(
    tmp_path: Path, fake: FakeKube, prom: FakePrometheus
) -> None:
    run = _canary(tmp_path, fake, prom, "none")
    assert run("production", V1, "--approve").outcome == "deployed"
    fake.unhealthy.add(V2)
    result = run("production", V2, "--approve")
    assert result.outcome == "rolled back"
    assert fake.serving("shop", "web") == {V1}
    assert fake.names("deployments", "shop") == ["web"]


# -- approvals and plans ------------------------------------------------------------------


def test_production_without_approval_is_refused(tmp_path: Path, fake: FakeKube) -> None:
    run = Run(make_project(tmp_path, fake, {"production": {}}))
    with pytest.raises(ApprovalRequired, match="deploy-production -- --approve"):
        run("production", V1)
    assert list(fake.iter_requests()) == []  # refused before touching the cluster
    ok = run("production", V1, environ={"NOXOPS_APPROVED": "production"})
    assert ok.outcome == "deployed"
    gitlab = {"GITLAB_CI": "true", "CI_ENVIRONMENT_NAME": "production"}
    assert run("production", V2, environ=gitlab).outcome == "deployed"
    with pytest.raises(ApprovalRequired):
        run("production", V3, environ={"GITLAB_CI": "true", "CI_ENVIRONMENT_NAME": "staging"})


def test_dry_run_prints_every_object_and_writes_nothing(tmp_path: Path, fake: FakeKube) -> None:
    run = _bluegreen(tmp_path, fake)
    assert run("production", V1, "--approve").outcome == "deployed"
    before = len(_writes(fake))
    result = run("production", V2, "--dry-run")  # no approval needed to look
    assert result.outcome == "planned", run.text
    assert len(_writes(fake)) == before
    assert "[dry-run] would create Deployment/web-green" in run.text
    assert _shows_image(run.text, V2), run.text
    assert "[dry-run] would patch Service/web" in run.text
    assert "[dry-run] would delete Deployment/web-blue" in run.text
    assert fake.serving("shop", "web") == {V1}


def test_kubeconfig_from_base64_env(
    tmp_path: Path, fake: FakeKube, monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64
    import json

    config = make_project(tmp_path, fake, {"staging": {"kubeconfig_env": "KUBE_B64"}})
    monkeypatch.setenv(
        "KUBE_B64", base64.b64encode(json.dumps(fake.kubeconfig()).encode()).decode()
    )
    run = Run(config)
    assert run("staging", V1).outcome == "deployed", run.text
    assert fake.serving("shop", "web") == {V1}
    monkeypatch.setenv("KUBE_B64", "")
    with pytest.raises(Exception, match="KUBE_B64"):
        run("staging", V2)


@pytest.mark.parametrize(
    "strategy", ["rolling", "blue-green", "canary", "argo-rollouts", "flagger"]
)
def test_dry_run_without_credentials_plans_every_strategy(
    tmp_path: Path, fake: FakeKube, strategy: str
) -> None:
    config = make_project(tmp_path, fake, {"staging": {"strategy": strategy, "mesh": "istio"}})
    (tmp_path / "kubeconfig.json").unlink()
    run = Run(config)
    result = run("staging", V1, "--dry-run")
    assert result.outcome == "planned", run.text
    assert "planning against an empty cluster" in run.text
    assert result.actions, run.text
    assert list(fake.iter_requests()) == []
    if strategy in {"rolling", "blue-green", "canary"}:
        assert "kind: Deployment" in run.text and _shows_image(run.text, V1)


def test_project_manifests_are_applied_with_the_new_image(tmp_path: Path, fake: FakeKube) -> None:
    yaml = pytest.importorskip("yaml")
    folder = tmp_path / "deploy" / "k8s"
    folder.mkdir(parents=True)
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": "placeholder",
                            "env": [{"name": "A", "value": "1"}],
                        }
                    ]
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80}]},
    }
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "web-settings", "namespace": "shop"},
        "data": {"MODE": "prod"},
    }
    (folder / "app.yaml").write_text(yaml.safe_dump_all([deployment, service, config_map]))
    run = Run(make_project(tmp_path, fake, {"staging": {"manifests": "deploy/k8s"}}))
    result = run("staging", V1)
    assert result.outcome == "deployed", run.text
    dep = fake.get("deployments", "shop", "web")
    assert dep is not None
    container = dep["spec"]["template"]["spec"]["containers"][0]
    assert (container["image"], container["env"]) == (V1, [{"name": "A", "value": "1"}])
    assert fake.get("configmaps", "shop", "web-settings") is not None
    assert "create ConfigMap/web-settings" in result.actions


def test_helm_chart_without_helm_is_reported(
    tmp_path: Path, fake: FakeKube, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    (tmp_path / "chart").mkdir(parents=True)
    run = Run(make_project(tmp_path, fake, {"staging": {"helm_chart": "chart"}}))
    result = run("staging", V1)
    assert result.outcome == "failed"
    assert "helm is not installed" in result.message


def test_manifest_in_another_namespace_is_refused(tmp_path: Path, fake: FakeKube) -> None:
    folder = tmp_path / "k8s"
    folder.mkdir()
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "prod"}}
    pod = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web"}]}}
    dep = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": pod},
    }
    (folder / "objects.json").write_text(
        json.dumps({"kind": "List", "apiVersion": "v1", "items": [dep, cm]})
    )
    run = Run(make_project(tmp_path, fake, {"staging": {"manifests": "k8s"}}))
    result = run("staging", V1)
    assert result.outcome == "failed"
    assert "ConfigMap/x names namespace 'prod'" in result.message
    assert _writes(fake) == []


def _shows_image(text: str, image: str) -> bool:
    """Whether a printed manifest sets ``image`` (YAML may quote the value or not)."""
    return re.search(rf"^\s*image: (\"?){re.escape(image)}\1$", text, re.M) is not None
