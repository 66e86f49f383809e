"""``[tool.noxops.deploy.<env>]``: one deployment environment (staging, production, ...)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal, Optional

from noxops.load.slo import SLOConfig
from noxops.notify.settings import ChannelConfig
from noxops.schema import Validator, image_ref, option, positive, time_limit

__all__ = ["DeployEnvConfig", "NotifyConfig", "ResourcesConfig", "Strategy", "environment_names"]

Strategy = Literal["rolling", "blue-green", "canary", "argo-rollouts", "flagger"]


# A DNS-1123 label: what Kubernetes accepts as a namespace and inside object names, and a
# safe file and session name (reports/deploy/<env>, deploy-<env>).
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_LABEL_RULE = (
    "at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
)


def _namespace(value: Any) -> str | None:
    if _DNS_LABEL.match(value):
        return None
    return f"is not a Kubernetes namespace (a DNS label): use {_LABEL_RULE}, like 'shop-staging'"


def environment_names(value: Any) -> str | None:
    """``[tool.noxops.deploy.<env>]``: ``env`` names sessions, folders and cluster labels."""
    for env in value:
        if not _DNS_LABEL.match(env):
            return f"environment name {env!r} is not a DNS label: use {_LABEL_RULE}, like 'staging'"
    return None


def _url_path(value: Any) -> str | None:
    return None if str(value).startswith("/") else "must start with '/', like '/health'"


def _fraction(value: Any) -> str | None:
    return None if 0 <= value <= 1 else "must be a fraction between 0 and 1, like 0.05 for 5%"


def _weights(value: Any) -> str | None:
    if not value:
        return "must list at least one traffic weight, like [10, 50]"
    if any(not 0 < w < 100 for w in value):
        return "every weight must be a percentage between 1 and 99"
    if list(value) != sorted(value):
        return "weights must increase, like [10, 25, 50]"
    return None


def _non_negative(value: Any) -> str | None:
    return None if value >= 0 else "must be 0 or more"


_positive_int: Validator = positive


@dataclass(frozen=True)
class ResourcesConfig:
    """Resource requests and limits of the generated Deployment's container."""

    cpu_request: str = option("100m", doc="CPU request of the container.")
    memory_request: str = option("128Mi", doc="Memory request of the container.")
    cpu_limit: str = option("500m", doc="CPU limit of the container.")
    memory_limit: str = option("256Mi", doc="Memory limit of the container.")


@dataclass(frozen=True)
class NotifyConfig(ChannelConfig):
    """Where success and failure notices go. Every value names an environment variable, so
    CI secrets stay out of pyproject.toml; a variable that is unset disables that channel."""

    on_success: bool = option(True, doc="Notify when a deploy or rollback succeeds.")
    on_failure: bool = option(True, doc="Notify when a deploy or rollback fails.")


@dataclass(frozen=True)
class DeployEnvConfig:
    """``[tool.noxops.deploy.<env>]``: one deployment environment."""

    enabled: bool = option(True, doc="Register the deploy-<env> and rollback-<env> sessions.")
    namespace: str = option("default", check=_namespace, doc="Kubernetes namespace.")
    strategy: Strategy = option(
        "rolling",
        doc=(
            "How the new version goes live: rolling, blue-green, canary (driven from CI), or "
            "argo-rollouts / flagger (the cluster's controller drives it; CI follows)."
        ),
    )
    app: Optional[str] = option(
        None, doc="Name of the Deployment, Service and labels; unset means the project name."
    )
    replicas: int = option(2, check=_positive_int, doc="Pods of the service.")
    image: Optional[str] = option(
        None,
        check=image_ref,
        doc=(
            "Image to deploy; unset means the one recorded by the build stage in "
            "build_manifest (pinned by digest once pushed, else its first tag)."
        ),
    )
    build_manifest: Optional[str] = option(
        None,
        doc=(
            "The build stage's record {'image', 'tags', 'digest'} the image is read from; "
            "unset means [tool.noxops.image] manifest in the reports folder."
        ),
    )
    port: int = option(8000, check=_positive_int, doc="Port the container listens on.")
    health_path: str = option("/health", check=_url_path, doc="Liveness endpoint.")
    ready_path: str = option("/ready", check=_url_path, doc="Readiness endpoint.")
    url: Optional[str] = option(
        None, doc="Public URL of the service, checked (url + health_path) after going live."
    )
    smoke: bool = option(
        False,
        doc=(
            "After a successful deploy, run the smoke session against url "
            "(nox -s smoke -- --base-url=<url>)."
        ),
    )
    approval: Optional[bool] = option(
        None,
        doc=(
            "Refuse to deploy without an explicit approval; unset means required for an "
            "environment named 'production' or 'prod'."
        ),
    )
    kubeconfig: Optional[str] = option(
        None, doc="Path of a kubeconfig; unset means $KUBECONFIG, then ~/.kube/config."
    )
    kubeconfig_env: Optional[str] = option(
        None,
        doc=(
            "Variable holding a base64 kubeconfig (as CI secrets do); it is written mode 0600 "
            "to a temporary folder and removed afterwards. Wins over kubeconfig."
        ),
    )
    context: Optional[str] = option(None, doc="kubeconfig context; unset means current-context.")
    rollout_timeout: float = option(
        300.0, check=time_limit, doc="Seconds a rollout may take to become ready."
    )
    keep_old: float = option(
        0.0,
        check=_non_negative,
        doc="blue-green: seconds the old colour is kept after the switch for instant rollback.",
    )
    canary_weights: list[int] = option(
        factory=lambda: [10, 50],
        check=_weights,
        doc="canary: traffic percentages the canary receives, one step each.",
    )
    analysis_rounds: int = option(
        3, check=_positive_int, doc="canary: analysis rounds at each traffic step."
    )
    analysis_interval: float = option(
        30.0, check=_non_negative, doc="canary: seconds between analysis rounds."
    )
    prometheus_url: Optional[str] = option(
        None, doc="canary: Prometheus base URL for the error-rate query; unset skips it."
    )
    error_rate_query: str = option(
        'sum(rate(http_requests_total{app="{app}",track="{track}",status=~"5.."}[1m])) / '
        'sum(rate(http_requests_total{app="{app}",track="{track}"}[1m]))',
        doc="PromQL giving the error fraction; {app}, {namespace} and {track} are filled in.",
    )
    error_rate_threshold: Optional[float] = option(
        None,
        check=_fraction,
        doc="Error fraction above which a canary round fails (and alerts); unset means "
        "[tool.noxops.slo] max_error_ratio.",
    )
    latency_p95_threshold: Optional[float] = option(
        None,
        check=positive,
        doc="Seconds of p95 latency above which the alert fires; unset means "
        "[tool.noxops.slo] p95_latency_ms.",
    )
    mesh: Literal["istio", "none"] = option(
        "none",
        doc="canary traffic split: an Istio VirtualService, or none (replica ratio).",
    )
    manifests: str = option(
        "generated",
        doc=(
            "'generated' (from these keys), or a file/folder of the project's own YAML "
            "manifests whose Deployment named like app is used as the template."
        ),
    )
    helm_chart: Optional[str] = option(
        None,
        doc="A Helm chart (folder or reference): deploy with `helm upgrade --install` instead.",
    )
    helm_values: list[str] = option(factory=list, doc="Values files passed to helm with -f.")
    resources: ResourcesConfig = option(
        factory=ResourcesConfig, doc="Container resource requests and limits."
    )
    notify: NotifyConfig = option(factory=NotifyConfig, doc="Notifications.")
    timeout: float = option(1800.0, check=time_limit, doc="Seconds before the stage is stopped.")
    # The project's [tool.noxops.slo], set by the deploy runner; not a key of this table.
    slo: SLOConfig = field(default_factory=SLOConfig, metadata={"internal": True})

    @property
    def error_threshold(self) -> float:
        """The canary's and the alert's error fraction: this table's, else the SLO's."""
        chosen = self.error_rate_threshold
        return self.slo.max_error_ratio if chosen is None else chosen

    @property
    def latency_threshold(self) -> float:
        """The alert's p95 latency in seconds: this table's, else the SLO's."""
        chosen = self.latency_p95_threshold
        return self.slo.p95_latency_seconds if chosen is None else chosen

    def app_name(self, project_name: str) -> str:
        """The app's name: ``app`` or the project name made DNS-safe."""
        import re

        name = self.app or re.sub(r"[^a-z0-9-]+", "-", project_name.lower()).strip("-")
        return name or "app"

    def needs_approval(self, env: str) -> bool:
        if self.approval is not None:
            return self.approval
        return env.lower() in {"production", "prod"}
