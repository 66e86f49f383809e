"""Generated manifests against the real Kubernetes schemas, and alert rules against promtool."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from noxops.deploy import alerts, resources
from noxops.deploy.settings import DeployEnvConfig

STRATEGIES = ["rolling", "blue-green", "canary"]


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("mesh", ["none", "istio"])
def test_generated_objects_validate_against_kubernetes_schemas(strategy: str, mesh: str) -> None:
    kv = pytest.importorskip("kubernetes_validate")
    cfg = DeployEnvConfig(namespace="shop", strategy=strategy, mesh=mesh)  # type: ignore[arg-type]
    objects = resources.objects_for(cfg, "web", "reg.test/web@sha256:" + "b" * 64)
    kinds = [o["kind"] for o in objects]
    assert "Deployment" in kinds and "Service" in kinds
    for obj in objects:
        if obj["kind"] == "VirtualService":
            continue  # an Istio CRD: not in the Kubernetes schemas
        kv.validate(obj, kv.latest_version(), strict=True)  # raises when invalid


def test_schema_validation_catches_a_broken_object() -> None:
    kv = pytest.importorskip("kubernetes_validate")
    dep = resources.deployment(DeployEnvConfig(), "web", "reg.test/web:1")
    dep["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "eighty"
    with pytest.raises(kv.ValidationError):
        kv.validate(dep, kv.latest_version(), strict=True)


def test_deployment_carries_probes_resources_and_labels() -> None:
    cfg = DeployEnvConfig(namespace="shop", port=9000, health_path="/healthz", ready_path="/rdy")
    dep = resources.deployment(cfg, "web", "img:2", name="web-green", labels={"colour": "green"})
    assert dep["metadata"]["name"] == "web-green"
    assert dep["spec"]["selector"]["matchLabels"] == {"app": "web", "colour": "green"}
    pod = dep["spec"]["template"]
    assert pod["metadata"]["labels"] == {"app": "web", "colour": "green"}
    container = pod["spec"]["containers"][0]
    assert container["ports"][0]["containerPort"] == 9000
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/rdy"
    assert container["resources"]["requests"] == {"cpu": "100m", "memory": "128Mi"}


def test_project_manifest_is_the_template(tmp_path: Path) -> None:
    yaml = pytest.importorskip("yaml")
    own = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {"name": "sidecar", "image": "envoy:1"},
                        {"name": "web", "image": "old:1", "env": [{"name": "MODE", "value": "x"}]},
                    ]
                },
            },
        },
    }
    other = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {}}
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "app.yaml").write_text(yaml.safe_dump_all([own, other]))
    objects = resources.load_project_manifests(tmp_path / "k8s")
    base = resources.find_deployment(objects, "web")
    assert base is not None
    dep = resources.deployment(
        DeployEnvConfig(), "web", "new:2", labels={"colour": "blue"}, base=base
    )
    containers = dep["spec"]["template"]["spec"]["containers"]
    assert [c["image"] for c in containers] == ["envoy:1", "new:2"]
    assert containers[1]["env"] == [{"name": "MODE", "value": "x"}]
    assert dep["spec"]["template"]["metadata"]["labels"] == {"app": "web", "colour": "blue"}
    assert base["spec"]["template"]["spec"]["containers"][1]["image"] == "old:1"  # not mutated


def test_yaml_output_round_trips() -> None:
    yaml = pytest.importorskip("yaml")
    cfg = DeployEnvConfig(namespace="shop", strategy="canary", mesh="istio")
    objects: list[Any] = resources.objects_for(cfg, "web", "reg.test/web:1")
    objects.append({"odd": ["yes", "no", "", "a: b", "#x", 1.5, None, True, [[1, 2]], {}]})
    assert list(yaml.safe_load_all(resources.to_yaml(objects))) == objects


def test_alert_rules_pass_promtool(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian package 'prometheus')")
    cfg = DeployEnvConfig(namespace="shop", error_rate_threshold=0.02, latency_p95_threshold=0.3)
    path = tmp_path / "rules.yml"
    path.write_text(resources.to_yaml([alerts.rule_groups(cfg, "shop-web", "production")]))
    proc = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS: 3 rules found" in proc.stdout
    rules = alerts.rule_groups(cfg, "shop-web", "production")["groups"][0]["rules"]
    assert [r["alert"] for r in rules] == [
        "ShopWebDown",
        "ShopWebHighErrorRate",
        "ShopWebHighLatencyP95",
    ]
    assert rules[0]["for"] == "1m"
    assert rules[1]["expr"].endswith("> 0.02")
    assert rules[2]["expr"].endswith("> 0.3")
    # and a broken rule is caught, so the check above means something
    path.write_text(path.read_text().replace("histogram_quantile(0.95,", "histogram_quantile("))
    bad = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert bad.returncode != 0
