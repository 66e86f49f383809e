"""Canary driven from CI: a canary Deployment takes a growing share of traffic (an Istio
VirtualService, or the replica ratio behind one Service without a mesh) while analysis rounds
check its health and its error rate in Prometheus. Promotion gives the stable Deployment the
new image and removes the canary; the first bad round sends all traffic back to stable and
removes the canary.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from noxops.deploy import resources, rolling
from noxops.deploy.context import DeployContext, DeployFailed
from noxops.deploy.health import HealthFailed, RolloutFailed, check_service, wait_rollout
from noxops.deploy.http import open_url
from noxops.errors import NoxopsError

__all__ = ["AnalysisFailed", "canary_replicas", "deploy", "error_rate", "render_query"]


class AnalysisFailed(NoxopsError):
    """A canary analysis round found the canary unhealthy or erroring."""


def render_query(ctx: DeployContext, track: str) -> str:
    query = ctx.cfg.error_rate_query
    for key, value in {"app": ctx.app, "namespace": ctx.ns, "track": track}.items():
        query = query.replace("{" + key + "}", value)
    return query


def error_rate(prometheus_url: str, query: str, timeout: float = 10.0) -> float | None:
    """The query's value (first series); ``None`` when there is no data yet."""
    url = prometheus_url.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": query})
    try:
        with open_url(url, timeout=timeout) as response:
            data = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise AnalysisFailed(f"Prometheus query failed: {getattr(exc, 'reason', exc)}") from None
    if data.get("status") != "success":
        raise AnalysisFailed(f"Prometheus query failed: {data.get('error', data)}")
    result = data.get("data", {}).get("result", [])
    if isinstance(result, list):
        if not result:
            return None
        value = result[0]["value"][1]
    else:  # a scalar result
        value = data["data"]["result"][1]
    number = float(value)
    return None if math.isnan(number) else number


def canary_replicas(stable: int, weight: int) -> int:
    """Canary pods for ``weight`` percent of traffic when pods share one Service."""
    return max(1, round(stable * weight / (100 - weight)))


def _analyse(ctx: DeployContext, weight: int, name: str) -> None:
    cfg = ctx.cfg
    for round_no in range(1, cfg.analysis_rounds + 1):
        if round_no > 1 or weight != cfg.canary_weights[0]:
            ctx.wait(cfg.analysis_interval)
        record: dict[str, Any] = {"weight": weight, "round": round_no}
        ctx.analysis.append(record)
        if ctx.dry_run:
            record["result"] = "planned"
            ctx.log(f"[dry-run] would analyse the canary at {weight}% (round {round_no})")
            continue
        try:
            check_service(ctx, name, [cfg.health_path], attempts=1)
        except HealthFailed as exc:
            record.update(health=str(exc), result="failed")
            raise AnalysisFailed(f"canary health check failed at {weight}%: {exc}") from None
        record["health"] = "ok"
        if cfg.prometheus_url:
            rate = error_rate(cfg.prometheus_url, render_query(ctx, "canary"))
            record["error_rate"] = rate
            if rate is None:
                record["result"] = "failed"
                raise AnalysisFailed(
                    f"the error-rate query returned no data at {weight}% (round {round_no}); "
                    "is the canary receiving traffic and scraped? check error_rate_query"
                )
            if rate > cfg.error_threshold:
                record["result"] = "failed"
                raise AnalysisFailed(
                    f"canary error rate {rate:.2%} is above the threshold "
                    f"{cfg.error_threshold:.2%} at {weight}% (round {round_no})"
                )
        record["result"] = "passed"
        ctx.log(
            f"canary at {weight}%: round {round_no}/{cfg.analysis_rounds} passed"
            + (f" (error rate {record['error_rate']})" if "error_rate" in record else "")
        )


def _route(ctx: DeployContext, weight: int, canary_name: str) -> None:
    if ctx.cfg.mesh == "istio":
        ctx.apply(resources.virtual_service(ctx.cfg, ctx.app, weight))
    else:
        replicas = canary_replicas(ctx.cfg.replicas, weight)
        ctx.patch("Deployment", canary_name, {"spec": {"replicas": replicas}})


def _services(ctx: DeployContext) -> None:
    app = ctx.app
    stable_selector = {"app": app, "track": "stable"} if ctx.cfg.mesh == "istio" else {"app": app}
    if not any(o["kind"] == "Service" for o in ctx.extra_objects):
        ctx.apply(resources.service(ctx.cfg, app, stable_selector, app=app))
    ctx.apply(resources.service(ctx.cfg, f"{app}-canary", {"app": app, "track": "canary"}, app=app))


def _make(ctx: DeployContext, name: str, track: str, replicas: int | None = None) -> dict[str, Any]:
    return resources.deployment(
        ctx.cfg,
        ctx.app,
        ctx.image,
        name=name,
        labels={"track": track},
        replicas=replicas,
        base=ctx.base_deployment,
    )


def _first_version(ctx: DeployContext) -> None:
    ctx.log("no stable version yet: the first version goes live directly")
    if ctx.cfg.mesh == "istio":
        ctx.apply(resources.virtual_service(ctx.cfg, ctx.app, 0))
    ctx.apply(_make(ctx, ctx.app, "stable"))
    try:
        wait_rollout(ctx, ctx.app)
        check_service(ctx, ctx.app, [ctx.cfg.health_path, ctx.cfg.ready_path])
    except (RolloutFailed, HealthFailed) as exc:
        ctx.delete("Deployment", ctx.app)
        raise DeployFailed(
            f"{exc}; the first version's Deployment was deleted", rolled_back=True
        ) from None


def _remove_canary(ctx: DeployContext) -> None:
    """All traffic to stable; the canary Deployment and Service gone."""
    if ctx.cfg.mesh == "istio":
        ctx.apply(resources.virtual_service(ctx.cfg, ctx.app, 0))
    ctx.delete("Deployment", f"{ctx.app}-canary")
    ctx.delete("Service", f"{ctx.app}-canary")


def _run_canary(ctx: DeployContext) -> None:
    canary_name = f"{ctx.app}-canary"
    first = ctx.cfg.canary_weights[0]
    replicas = 1 if ctx.cfg.mesh == "istio" else canary_replicas(ctx.cfg.replicas, first)
    try:
        if ctx.cfg.mesh == "istio":
            ctx.apply(resources.virtual_service(ctx.cfg, ctx.app, 0))
        ctx.apply(_make(ctx, canary_name, "canary", replicas))
        wait_rollout(ctx, canary_name)
        check_service(ctx, canary_name, [ctx.cfg.health_path, ctx.cfg.ready_path])
        for weight in ctx.cfg.canary_weights:
            _route(ctx, weight, canary_name)
            wait_rollout(ctx, canary_name)
            _analyse(ctx, weight, canary_name)
    except (RolloutFailed, HealthFailed, AnalysisFailed) as exc:
        ctx.log(f"canary failed: {exc}; rolling back")
        try:
            _remove_canary(ctx)
        except NoxopsError as undo:
            raise DeployFailed(
                f"{exc}; the rollback failed too: {undo}", rolled_back=False
            ) from None
        raise DeployFailed(
            f"{exc}; all traffic is back on the stable version ({ctx.previous_image}) and the "
            "canary was deleted",
            rolled_back=True,
        ) from None


def _promote(ctx: DeployContext, stable: dict[str, Any]) -> None:
    app = ctx.app
    ctx.log(f"promoting {ctx.image}: the stable Deployment takes the new image")
    old_template = stable["spec"]["template"]
    old_previous = stable["metadata"].get("annotations", {}).get(resources.PREVIOUS_ANNOTATION)
    desired = _make(ctx, app, "stable")
    desired["metadata"]["annotations"][resources.PREVIOUS_ANNOTATION] = ctx.previous_image or ""
    ctx.apply(desired)
    try:
        wait_rollout(ctx, app)
        check_service(ctx, app, [ctx.cfg.health_path])
    except (RolloutFailed, HealthFailed) as exc:
        rolling.restore_template(ctx, app, old_template, old_previous)
        _remove_canary(ctx)
        raise DeployFailed(f"promotion failed: {exc}; stable restored", rolled_back=True) from None
    _remove_canary(ctx)
    rolling.verify_public(ctx, app)


def deploy(ctx: DeployContext) -> None:
    stable = ctx.get("Deployment", ctx.app)
    ctx.previous_image = ctx.image_of(stable)
    for obj in ctx.extra_objects:
        ctx.apply(obj)
    _services(ctx)
    if stable is None:
        _first_version(ctx)
        return
    _run_canary(ctx)
    _promote(ctx, stable)
