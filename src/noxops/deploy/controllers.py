"""Progressive-delivery controllers already in the cluster: Argo Rollouts and Flagger.

CI does not drive traffic here: it gives the controller the new image, follows the
controller's status to the end, and on failure or timeout aborts/undoes, reporting the
controller's own analysis verdict.

- Argo Rollouts: the ``Rollout``'s pod template takes the image; ``status.phase`` goes
  Progressing -> Healthy, or Degraded when its analysis fails. Abort is the ``status.abort``
  patch ``kubectl argo rollouts abort`` sends; undo puts the previous template back.
- Flagger: the ``Canary``'s target Deployment takes the image; Flagger's ``status.phase`` goes
  Progressing -> Succeeded, or Failed (Flagger has then routed everything back to the
  primary); undo restores the target's previous image so the failed version is not retried.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from noxops.deploy import resources
from noxops.deploy.context import DeployContext, DeployFailed
from noxops.errors import NoxopsError

__all__ = ["argo_deploy", "argo_rollback", "flagger_deploy", "flagger_rollback"]

ARGO_VERSION = "argoproj.io/v1alpha1"
FLAGGER_VERSION = "flagger.app/v1beta1"
FLAGGER_RUNNING = {
    "Initializing",
    "Initialized",
    "Waiting",
    "Progressing",
    "WaitingPromotion",
    "Promoting",
    "Finalising",
}


def _require(ctx: DeployContext, kind: str, version: str) -> dict[str, Any]:
    obj = ctx.get(kind, ctx.app, api_version=version)
    if obj is None and not ctx.dry_run:
        raise NoxopsError(
            f"no {kind} named {ctx.app} in namespace {ctx.ns}: create it with the project's own "
            f"manifests ([tool.noxops.deploy.{ctx.env}] manifests) or choose another strategy"
        )
    return obj or {"metadata": {"name": ctx.app}, "spec": {"template": {}}, "status": {}}


def _conditions(status: dict[str, Any]) -> str:
    parts = [
        f"{c.get('type')}={c.get('status')} {c.get('reason', '')}: {c.get('message', '')}".strip()
        for c in status.get("conditions") or []
        if c.get("message")
    ]
    return "; ".join(parts)


# -- Argo Rollouts --------------------------------------------------------------------------


def _argo_state(ro: dict[str, Any]) -> tuple[str, str]:
    """``(state, verdict)`` with state one of running, healthy, failed."""
    status = ro.get("status") or {}
    phase = status.get("phase", "")
    message = status.get("message", "") or _conditions(status)
    generation = str(ro.get("metadata", {}).get("generation", ""))
    observed = str(status.get("observedGeneration", ""))
    if status.get("abort") or phase == "Degraded":
        return "failed", f"{phase or 'Aborted'}: {message}"
    if (
        phase == "Healthy"
        and observed == generation
        and (not status.get("stableRS") or status.get("stableRS") == status.get("currentPodHash"))
    ):
        return "healthy", f"Healthy: {message}" if message else "Healthy"
    return "running", f"{phase or 'Pending'}: {message}"


def _follow(ctx: DeployContext, read: Any, state: Any, what: str) -> tuple[str, str]:
    deadline = time.monotonic() + ctx.cfg.rollout_timeout
    last = ""
    while True:
        current, verdict = state(read())
        if verdict != last:
            ctx.log(f"{what}: {verdict}")
            last = verdict
        if current != "running":
            return current, verdict
        if time.monotonic() >= deadline:
            return "timeout", f"not finished after {ctx.cfg.rollout_timeout:g}s ({verdict})"
        ctx.sleep(ctx.poll)


def argo_deploy(ctx: DeployContext) -> None:
    for obj in ctx.extra_objects:
        ctx.apply(obj)
    ro = _require(ctx, "Rollout", ARGO_VERSION)
    template = copy.deepcopy(ro["spec"].get("template") or {})
    old_template = copy.deepcopy(template)
    old_previous = ro["metadata"].get("annotations", {}).get(resources.PREVIOUS_ANNOTATION, "")
    ctx.previous_image = resources.template_image(template, ctx.app)
    if ctx.previous_image == ctx.image:
        ctx.log(f"Rollout {ctx.app} already runs {ctx.image}")
        return
    if not ctx.dry_run or template.get("spec"):
        resources.set_image(template, ctx.app, ctx.image)
    body = {
        "metadata": {
            "annotations": {resources.PREVIOUS_ANNOTATION: ctx.previous_image or ""},
        },
        "spec": {"template": template},
    }
    ctx.patch("Rollout", ctx.app, body, api_version=ARGO_VERSION)
    if ctx.dry_run:
        ctx.log("[dry-run] would follow the Rollout's status until Healthy or Degraded")
        return
    path = ctx.path("Rollout", ctx.app, api_version=ARGO_VERSION)
    state, verdict = _follow(ctx, lambda: ctx.client().request("GET", path), _argo_state, "Rollout")
    ctx.analysis.append({"controller": "argo-rollouts", "result": state, "verdict": verdict})
    if state == "healthy":
        return
    ctx.log(f"Rollout {ctx.app} {state}: aborting and undoing")
    try:
        ctx.client().patch(path + "/status", {"status": {"abort": True}})
        undo = {
            "metadata": {"annotations": {resources.PREVIOUS_ANNOTATION: old_previous}},
            "spec": {"template": old_template},
        }
        ctx.patch("Rollout", ctx.app, undo, api_version=ARGO_VERSION)
        _follow(ctx, lambda: ctx.client().request("GET", path), _argo_state, "Rollout (undo)")
    except NoxopsError as exc:
        raise DeployFailed(
            f"Argo Rollouts: {verdict}; undoing failed: {exc}", rolled_back=False
        ) from None
    raise DeployFailed(
        f"Argo Rollouts: {verdict}; aborted, and the Rollout is back on {ctx.previous_image}",
        rolled_back=True,
    )


def argo_rollback(ctx: DeployContext) -> None:
    ro = _require(ctx, "Rollout", ARGO_VERSION)
    previous = ro["metadata"].get("annotations", {}).get(resources.PREVIOUS_ANNOTATION)
    if not previous:
        raise NoxopsError(f"Rollout {ctx.app} records no previous image to roll back to")
    ctx.image = str(previous)
    argo_deploy(ctx)


# -- Flagger --------------------------------------------------------------------------------


def _flagger_state(canary: dict[str, Any], before: str | None) -> tuple[str, str]:
    status = canary.get("status") or {}
    phase = status.get("phase", "")
    verdict = f"{phase}: weight {status.get('canaryWeight', 0)}%, failed checks " + str(
        status.get("failedChecks", 0)
    )
    detail = _conditions(status)
    if detail:
        verdict += f" ({detail})"
    started = status.get("lastAppliedSpec") != before or phase in FLAGGER_RUNNING
    if not started or phase in FLAGGER_RUNNING:
        return "running", verdict
    if phase == "Succeeded":
        return "healthy", verdict
    return "failed", verdict


def _target(ctx: DeployContext, canary: dict[str, Any]) -> str:
    ref = canary.get("spec", {}).get("targetRef") or {}
    if ref.get("kind", "Deployment") != "Deployment":
        raise NoxopsError(f"Canary {ctx.app} targets a {ref.get('kind')}; only Deployments")
    return str(ref.get("name") or ctx.app)


def _set_deployment_image(
    ctx: DeployContext, name: str, image: str, previous: str | None = None
) -> None:
    dep = ctx.get("Deployment", name)
    if dep is None:
        if ctx.dry_run:
            ctx.patch("Deployment", name, {"spec": {"template": {"image": image}}})
            return
        raise NoxopsError(f"the Canary's target Deployment {name} does not exist")
    template = copy.deepcopy(dep["spec"]["template"])
    resources.set_image(template, ctx.app, image)
    body: dict[str, Any] = {"spec": {"template": template}}
    if previous is not None:
        body["metadata"] = {"annotations": {resources.PREVIOUS_ANNOTATION: previous}}
    ctx.patch("Deployment", name, body)


def flagger_deploy(ctx: DeployContext) -> None:
    for obj in ctx.extra_objects:
        ctx.apply(obj)
    canary = _require(ctx, "Canary", FLAGGER_VERSION)
    target = _target(ctx, canary)
    primary = ctx.get("Deployment", f"{target}-primary") or ctx.get("Deployment", target)
    ctx.previous_image = ctx.image_of(primary)
    if ctx.previous_image == ctx.image and not ctx.dry_run:
        ctx.log(f"the primary of Canary {ctx.app} already runs {ctx.image}")
        return
    target_dep = ctx.get("Deployment", target) or {}
    old_previous = (
        target_dep.get("metadata", {}).get("annotations", {}).get(resources.PREVIOUS_ANNOTATION, "")
    )
    before = (canary.get("status") or {}).get("lastAppliedSpec")
    _set_deployment_image(ctx, target, ctx.image, ctx.previous_image)
    if ctx.dry_run:
        ctx.log("[dry-run] would follow the Canary's status until Succeeded or Failed")
        return
    path = ctx.path("Canary", ctx.app, api_version=FLAGGER_VERSION)
    state, verdict = _follow(
        ctx,
        lambda: ctx.client().request("GET", path),
        lambda c: _flagger_state(c, before),
        "Canary",
    )
    ctx.analysis.append({"controller": "flagger", "result": state, "verdict": verdict})
    if state == "healthy":
        return
    try:
        if ctx.previous_image:
            ctx.log(f"Canary {state}: restoring {target} to {ctx.previous_image}")
            _set_deployment_image(ctx, target, ctx.previous_image, old_previous)
    except NoxopsError as undo:
        raise DeployFailed(
            f"Flagger: {verdict}; undoing failed: {undo}", rolled_back=False
        ) from None
    raise DeployFailed(
        f"Flagger: {verdict}; Flagger routes all traffic to the primary "
        f"({ctx.previous_image}) and {target} is back on that image",
        rolled_back=True,
    )


def flagger_rollback(ctx: DeployContext) -> None:
    canary = _require(ctx, "Canary", FLAGGER_VERSION)
    target = _target(ctx, canary)
    dep = ctx.get("Deployment", target) or {}
    previous = dep.get("metadata", {}).get("annotations", {}).get(resources.PREVIOUS_ANNOTATION)
    if not previous:
        raise NoxopsError(f"Deployment {target} records no previous image to roll back to")
    ctx.image = str(previous)
    flagger_deploy(ctx)
