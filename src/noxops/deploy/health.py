"""Is the new version up? Rollout status of a Deployment, and HTTP health checks.

A rollout is complete as ``kubectl rollout status`` judges it: the controller observed the
latest generation, every replica runs the new template, no old replica is left, and all are
available. Health checks go through the API server's service proxy (no cluster network access
needed from CI) or to the public URL.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from typing import Any

from noxops.deploy.context import DeployContext
from noxops.deploy.http import open_url
from noxops.deploy.resources import SERVICE_PORT
from noxops.errors import NoxopsError

__all__ = [
    "HealthFailed",
    "RolloutFailed",
    "check_service",
    "check_url",
    "rollout_state",
    "wait_rollout",
]


class RolloutFailed(NoxopsError):
    """A Deployment did not become ready in time (or the cluster gave up on it)."""


class HealthFailed(NoxopsError):
    """A health endpoint did not answer 2xx."""


def rollout_state(dep: dict[str, Any]) -> tuple[bool, str]:
    """``(done, description)`` of a Deployment's rollout; raises when it can never finish."""
    meta = dep.get("metadata", {})
    spec = dep.get("spec", {})
    status = dep.get("status", {}) or {}
    name = meta.get("name")
    for cond in status.get("conditions") or []:
        if cond.get("type") == "Progressing" and cond.get("reason") == "ProgressDeadlineExceeded":
            raise RolloutFailed(
                f"Deployment {name} exceeded its progress deadline: {cond.get('message', '')}"
            )
    desired = int(spec.get("replicas", 1))
    generation = int(meta.get("generation", 0))
    observed = int(status.get("observedGeneration", 0))
    updated = int(status.get("updatedReplicas", 0))
    total = int(status.get("replicas", 0))
    available = int(status.get("availableReplicas", 0))
    if observed < generation:
        return False, f"waiting for the controller to observe generation {generation}"
    if updated < desired:
        return False, f"{updated} of {desired} replicas updated"
    if total > updated:
        return False, f"{total - updated} old replicas pending termination"
    if available < updated:
        return False, f"{available} of {updated} updated replicas available"
    return True, f"{available} of {desired} replicas available"


def wait_rollout(ctx: DeployContext, name: str, timeout: float | None = None) -> None:
    """Wait until the Deployment ``name`` is rolled out, or raise :class:`RolloutFailed`."""
    if ctx.dry_run:
        ctx.log(f"[dry-run] would wait for Deployment {name} to roll out")
        return
    limit = ctx.cfg.rollout_timeout if timeout is None else timeout
    deadline = time.monotonic() + limit
    last = ""
    while True:
        dep = ctx.get("Deployment", name)
        if dep is None:
            raise RolloutFailed(f"Deployment {name} disappeared while rolling out")
        done, state = rollout_state(dep)
        if state != last:
            ctx.log(f"Deployment {name}: {state}")
            last = state
        if done:
            return
        if time.monotonic() >= deadline:
            raise RolloutFailed(
                f"Deployment {name} was not ready after {limit:g}s ({state}); raise "
                f"[tool.noxops.deploy.{ctx.env}] rollout_timeout if it needs longer"
            )
        ctx.sleep(ctx.poll)


def check_service(ctx: DeployContext, service: str, paths: list[str], *, attempts: int = 3) -> None:
    """GET each path on a Service through the API server proxy; raise unless all answer 2xx."""
    if ctx.dry_run:
        ctx.log(f"[dry-run] would check {', '.join(paths)} on Service {service}")
        return
    kube = ctx.client()
    for path in paths:
        status, body = 0, ""
        for attempt in range(attempts):
            status, body = kube.proxy_get(ctx.ns, service, SERVICE_PORT, path)
            if 200 <= status < 300:
                break
            if attempt + 1 < attempts:
                ctx.sleep(ctx.poll)
        if not 200 <= status < 300:
            raise HealthFailed(
                f"{path} on Service {service} answered HTTP {status} {body.strip()[:120]!r}"
            )
        ctx.log(f"Service {service} {path}: HTTP {status}")


def check_url(ctx: DeployContext, url: str, *, attempts: int = 3, timeout: float = 10.0) -> None:
    """GET a public URL; raise unless it answers 2xx."""
    if ctx.dry_run:
        ctx.log(f"[dry-run] would check {url}")
        return
    status, detail = 0, ""
    for attempt in range(attempts):
        try:
            with open_url(url, timeout=timeout) as response:
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            status, detail = int(exc.code), str(exc.reason)
        except (urllib.error.URLError, OSError) as exc:
            status, detail = 0, str(getattr(exc, "reason", exc))
        if 200 <= status < 300:
            ctx.log(f"{url}: HTTP {status}")
            return
        if attempt + 1 < attempts:
            ctx.sleep(ctx.poll)
    raise HealthFailed(f"{url} answered {f'HTTP {status}' if status else 'nothing'} ({detail})")
