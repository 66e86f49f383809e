"""Deploy building blocks that need no server: config, approval, helm argv, images, payloads."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path
from typing import Any

import pytest

from noxops.config import load
from noxops.deploy import approval, canary, health, helm, runner
from noxops.deploy.context import DeployResult
from noxops.deploy.kube import KubeError, api_path, kubeconfig_from_env
from noxops.deploy.settings import DeployEnvConfig
from noxops.errors import ConfigError, NoxopsError
from noxops.notify import deploy as notify


def _project(tmp_path: Path, body: str) -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "Shop_Web"\n' + body)
    return tmp_path


# -- configuration --------------------------------------------------------------------------


def test_environments_load_with_defaults(tmp_path: Path) -> None:
    config = load(
        _project(
            tmp_path,
            "[tool.noxops.deploy.staging]\nnamespace = 'shop-staging'\n"
            "[tool.noxops.deploy.production]\nstrategy = 'canary'\nmesh = 'istio'\n"
            "canary_weights = [5, 20, 60]\n[tool.noxops.deploy.production.resources]\n"
            "cpu_limit = '1'\n[tool.noxops.deploy.production.notify]\n"
            "slack_webhook_env = 'PROD_SLACK'\n",
        )
    )
    staging, production = config.deploy["staging"], config.deploy["production"]
    assert (staging.namespace, staging.strategy, staging.replicas) == ("shop-staging", "rolling", 2)
    assert production.canary_weights == [5, 20, 60]
    assert production.resources.cpu_limit == "1"
    assert production.notify.slack_webhook_env == "PROD_SLACK"
    assert staging.app_name(config.project_name) == "shop-web"
    assert not staging.needs_approval("staging") and production.needs_approval("production")
    assert DeployEnvConfig(approval=True).needs_approval("staging")
    assert not DeployEnvConfig(approval=False).needs_approval("production")


@pytest.mark.parametrize(
    ("body", "key", "problem"),
    [
        ("strategy = 'big-bang'", "strategy", "one of 'rolling'"),
        ("canary_weights = [50, 10]", "canary_weights", "weights must increase"),
        ("canary_weights = [0, 100]", "canary_weights", "between 1 and 99"),
        ("error_rate_threshold = 5", "error_rate_threshold", "fraction between 0 and 1"),
        ("health_path = 'health'", "health_path", "must start with '/'"),
        ("replicas = 0", "replicas", "greater than 0"),
        ("mesh = 'linkerd'", "mesh", "one of 'istio', 'none'"),
        ("namspace = 'x'", "namspace", "did you mean 'namespace'"),
    ],
)
def test_bad_settings_name_the_key(tmp_path: Path, body: str, key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as err:
        load(_project(tmp_path, f"[tool.noxops.deploy.prod]\n{body}\n"))
    assert err.value.key == f"tool.noxops.deploy.prod.{key}"
    assert problem in err.value.problem


# -- approval ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("posargs", "environ", "approved"),
    [
        ([], {}, False),
        (["--approve"], {}, True),
        ([], {"NOXOPS_APPROVED": "1"}, True),
        ([], {"NOXOPS_APPROVED": "production"}, True),
        ([], {"NOXOPS_APPROVED": "staging"}, False),
        ([], {"GITLAB_CI": "true", "CI_ENVIRONMENT_NAME": "production"}, True),
        ([], {"CI_ENVIRONMENT_NAME": "production"}, False),  # not inside GitLab CI
        ([], {"GITHUB_ACTIONS": "true", "NOXOPS_CI_ENVIRONMENT": "production"}, True),
        ([], {"GITHUB_ACTIONS": "true"}, False),
    ],
)
def test_approval_sources(posargs: list[str], environ: dict[str, str], approved: bool) -> None:
    assert (approval.approval_source("production", posargs, environ) is not None) is approved


# -- images and arguments ---------------------------------------------------------------------


def test_image_comes_from_the_build_manifest(tmp_path: Path) -> None:
    cfg = DeployEnvConfig()
    with pytest.raises(NoxopsError, match="run the build session first"):
        runner.resolve_image(tmp_path, cfg)
    manifest = tmp_path / "reports" / "build-manifest.json"
    manifest.parent.mkdir()
    manifest.write_text(json.dumps({"image": "reg.test/web", "tags": ["1.2.3", "latest"]}))
    assert runner.resolve_image(tmp_path, cfg) == "reg.test/web:1.2.3"
    manifest.write_text(json.dumps({"image": "reg.test:5000/web:9", "tags": ["9"]}))
    assert runner.resolve_image(tmp_path, cfg) == "reg.test:5000/web:9"
    pushed = {"image": "reg.test:5000/web", "tags": ["9"], "digest": "sha256:" + "d" * 64}
    manifest.write_text(json.dumps(pushed))
    assert runner.resolve_image(tmp_path, cfg) == "reg.test:5000/web@sha256:" + "d" * 64
    manifest.write_text(json.dumps({"image": None, "tags": []}))
    with pytest.raises(NoxopsError, match="records no image"):
        runner.resolve_image(tmp_path, cfg)
    assert runner.resolve_image(tmp_path, DeployEnvConfig(image="x/y:1")) == "x/y:1"
    assert runner.resolve_image(tmp_path, cfg, "over:2") == "over:2"
    manifest.write_text("{}")
    with pytest.raises(NoxopsError, match="no 'image' entry"):
        runner.resolve_image(tmp_path, cfg)
    elsewhere = tmp_path / "out" / "built.json"
    elsewhere.parent.mkdir()
    elsewhere.write_text(json.dumps({"image": "reg.test/web", "tags": ["7"]}))
    assert runner.resolve_image(tmp_path, cfg, default_manifest=elsewhere) == "reg.test/web:7"
    explicit = DeployEnvConfig(build_manifest="out/built.json")
    assert runner.resolve_image(tmp_path, explicit) == "reg.test/web:7"


def test_posargs() -> None:
    opts = runner.parse_posargs(["--approve", "--dry-run", "--image=a/b:1"])
    assert (opts.approve, opts.dry_run, opts.image) == (True, True, "a/b:1")
    with pytest.raises(NoxopsError, match="unknown deploy argument '--force'"):
        runner.parse_posargs(["--force"])


def test_helm_argv(tmp_path: Path) -> None:
    (tmp_path / "chart").mkdir()
    cfg = DeployEnvConfig(
        namespace="shop", helm_chart="chart", helm_values=["values-prod.yaml"], context="prod"
    )
    argv = helm.upgrade_argv(cfg, "web", "reg.test:5000/web:1.2", root=tmp_path, kubeconfig="/k")
    assert argv[:5] == ["helm", "upgrade", "--install", "web", str(tmp_path / "chart")]
    joined = " ".join(argv)
    assert "--namespace shop" in joined and "--atomic" in joined and "--wait" in joined
    assert "--set-string image.repository=reg.test:5000/web" in joined
    assert "--set-string image.tag=1.2" in joined
    assert f"-f {tmp_path / 'values-prod.yaml'}" in joined
    assert argv[-4:] == ["--kube-context", "prod", "--kubeconfig", "/k"]
    assert helm.split_image("r/w@sha256:ab") == ("r/w", "sha256:ab")
    assert helm.split_image("r/w") == ("r/w", "latest")
    assert helm.rollback_argv(cfg, "web")[:3] == ["helm", "rollback", "web"]


def test_api_paths() -> None:
    assert api_path("Deployment", "shop", "web") == "/apis/apps/v1/namespaces/shop/deployments/web"
    assert api_path("Service", "shop") == "/api/v1/namespaces/shop/services"
    assert (
        api_path("Rollout", "a", "b", subresource="status")
        == "/apis/argoproj.io/v1alpha1/namespaces/a/rollouts/b/status"
    )
    assert (
        api_path("NetworkPolicy", "a", api_version="networking.k8s.io/v1")
        == "/apis/networking.k8s.io/v1/namespaces/a/networkpolicies"
    )
    with pytest.raises(KubeError):
        api_path("Widget", "a")


def test_kubeconfig_from_env_is_private_and_removed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBE_B64", base64.b64encode(b"apiVersion: v1\n").decode())
    with kubeconfig_from_env("KUBE_B64") as path:
        assert path.read_bytes() == b"apiVersion: v1\n"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert not path.exists() and not path.parent.exists()
    monkeypatch.delenv("KUBE_B64")
    with pytest.raises(KubeError, match="KUBE_B64"), kubeconfig_from_env("KUBE_B64"):
        pass


# -- rollout status and canary helpers ----------------------------------------------------


def _dep(generation: int, **status: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "generation": generation},
        "spec": {"replicas": 3},
        "status": status,
    }


def test_rollout_state() -> None:
    assert not health.rollout_state(_dep(2, observedGeneration=1))[0]
    assert not health.rollout_state(
        _dep(2, observedGeneration=2, updatedReplicas=2, replicas=3, availableReplicas=3)
    )[0]
    pending = _dep(2, observedGeneration=2, updatedReplicas=3, replicas=4, availableReplicas=3)
    assert health.rollout_state(pending) == (False, "1 old replicas pending termination")
    done = _dep(2, observedGeneration=2, updatedReplicas=3, replicas=3, availableReplicas=3)
    assert health.rollout_state(done)[0]
    stuck = _dep(
        2,
        observedGeneration=2,
        conditions=[{"type": "Progressing", "reason": "ProgressDeadlineExceeded", "message": "m"}],
    )
    with pytest.raises(health.RolloutFailed, match="progress deadline"):
        health.rollout_state(stuck)


def test_canary_helpers() -> None:
    assert canary.canary_replicas(3, 10) == 1
    assert canary.canary_replicas(3, 50) == 3
    assert canary.canary_replicas(9, 25) == 3


# -- notification content -----------------------------------------------------------------


def test_payloads_name_the_outcome(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")  # a GitHub run: GITHUB_RUN_ID alone is not
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/shop")
    monkeypatch.setenv("GITHUB_RUN_ID", "42")
    result = DeployResult(
        env="production",
        strategy="canary",
        action="deploy",
        image="reg/web:2",
        previous_image="reg/web:1",
        outcome="rolled back",
        message="canary error rate 9.00% is above the threshold 5.00%",
    )
    payload = notify.slack_payload(result, "shop")
    assert (
        payload["text"]
        == ":rewind: shop deploy to production FAILED and was rolled back: reg/web:2"
    )
    blob = json.dumps(payload)
    assert "https://github.com/acme/shop/actions/runs/42" in blob
    assert "9.00%" in blob
    mail = notify.email_message(result, "shop", "ci@x.test", ["a@x.test", "b@x.test"])
    assert mail["Subject"] == "shop deploy to production FAILED and was rolled back"
    assert mail["To"] == "a@x.test, b@x.test"


def test_nothing_configured_means_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = DeployEnvConfig().notify
    for name in (cfg.slack_webhook_env, cfg.smtp_host_env, cfg.mail_to_env):
        monkeypatch.delenv(name, raising=False)
    lines: list[str] = []
    result = DeployResult(env="s", strategy="rolling", action="deploy", image="i")
    sent = notify.notify(cfg, result, "p", lines.append)
    assert sent["slack"].startswith("skipped") and sent["email"].startswith("skipped")
    assert len(lines) == 2


KUBECONFIG_YAML = """\
apiVersion: v1
kind: Config
current-context: staging
clusters:
  - name: c1
    cluster:
      server: https://k8s.example.test:6443/
      insecure-skip-tls-verify: true
users:
  - name: ci
    user:
      tokenFile: token.txt
contexts:
  - name: staging
    context: {cluster: c1, user: ci, namespace: shop}
  - name: broken
    context: {cluster: nowhere, user: ci}
"""


def test_yaml_kubeconfig(tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    from noxops.deploy.kube import load_kubeconfig

    (tmp_path / "token.txt").write_text("tok-123\n")
    path = tmp_path / "config"
    path.write_text(KUBECONFIG_YAML)
    cfg = load_kubeconfig(path)
    assert (cfg.server, cfg.token, cfg.insecure, cfg.namespace) == (
        "https://k8s.example.test:6443",
        "tok-123",
        True,
        "shop",
    )
    assert "tok-123" not in repr(cfg)
    with pytest.raises(KubeError, match="no cluster named 'nowhere'"):
        load_kubeconfig(path, "broken")
    path.write_text("clusters: [\n")
    with pytest.raises(KubeError, match="is not valid YAML"):
        load_kubeconfig(path)
    with pytest.raises(KubeError, match="cannot read kubeconfig"):
        load_kubeconfig(tmp_path / "missing")


class _Session:
    def __init__(self, known: set[str]) -> None:
        self.known = known
        self.notified: list[tuple[str, list[str]]] = []
        self.warnings: list[str] = []

    def notify(self, target: str, posargs: list[str]) -> None:
        if target not in self.known:
            raise ValueError(target)
        self.notified.append((target, posargs))

    def warn(self, message: str) -> None:
        self.warnings.append(message)


def test_smoke_is_queued_after_a_deploy() -> None:
    from noxops.stages.deploy import _queue_smoke

    session = _Session({"smoke"})
    _queue_smoke(session, True, "https://shop.test", "prod")
    assert session.notified == [("smoke", ["--base-url=https://shop.test"])]
    _queue_smoke(session, False, "https://shop.test", "prod")
    _queue_smoke(session, True, None, "prod")
    assert len(session.notified) == 1
    assert "needs url" in session.warnings[0]
    lonely = _Session(set())
    _queue_smoke(lonely, True, "https://shop.test", "prod")
    assert "no smoke session" in lonely.warnings[0]


def test_deploy_opens_only_http_urls() -> None:
    from noxops.deploy.http import open_url
    from noxops.errors import NoxopsError

    for url in ("file:///etc/passwd", "ftp://example.invalid/x", "gopher://h/"):
        with pytest.raises(NoxopsError, match="only http:// and https:// URLs"):
            open_url(url, timeout=1)
