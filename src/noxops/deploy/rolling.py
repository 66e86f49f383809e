"""Rolling update: the Deployment takes the new image; on failure it returns to the previous
revision (what ``kubectl rollout undo`` does: the previous ReplicaSet's pod template)."""

from __future__ import annotations

import copy
from typing import Any

from noxops.deploy import resources
from noxops.deploy.context import Action, DeployContext, DeployFailed
from noxops.deploy.health import HealthFailed, RolloutFailed, check_service, check_url, wait_rollout
from noxops.errors import NoxopsError

__all__ = ["deploy", "previous_template", "restore_template", "rollback", "verify_public"]

REVISION = "deployment.kubernetes.io/revision"


def verify_public(ctx: DeployContext, service: str) -> None:
    """The live version answers: the public URL when configured, else the Service."""
    if ctx.cfg.url:
        check_url(ctx, ctx.cfg.url.rstrip("/") + ctx.cfg.health_path)
    else:
        check_service(ctx, service, [ctx.cfg.health_path])


def _desired(ctx: DeployContext, labels: dict[str, str], name: str) -> dict[str, Any]:
    return resources.deployment(
        ctx.cfg, ctx.app, ctx.image, name=name, labels=labels, base=ctx.base_deployment
    )


def previous_template(ctx: DeployContext, name: str) -> tuple[dict[str, Any], str] | None:
    """The pod template and revision to roll back to, if any.

    That is the newest ReplicaSet running the image the Deployment records as the previous
    good version (so a failed, already rolled-back revision is never chosen, unlike a bare
    ``kubectl rollout undo``); for a Deployment noxops never deployed, the revision before
    the current one.
    """
    dep = ctx.get("Deployment", name)
    if dep is None:
        return None
    annotations = dep["metadata"].get("annotations", {})
    current = int(annotations.get(REVISION, "0") or 0)
    wanted = annotations.get(resources.PREVIOUS_ANNOTATION)
    labels = dep["spec"]["selector"].get("matchLabels", {})
    selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    replica_sets = ctx.client().list(ctx.path("ReplicaSet"), label_selector=selector)
    owned = [
        rs
        for rs in replica_sets
        if any(
            ref.get("kind") == "Deployment" and ref.get("name") == name
            for ref in rs["metadata"].get("ownerReferences", [])
        )
    ]
    older = [
        (int(rs["metadata"].get("annotations", {}).get(REVISION, "0") or 0), rs) for rs in owned
    ]
    if wanted is not None:  # recorded by noxops ("" when there was nothing before)
        older = [
            (rev, rs)
            for rev, rs in older
            if resources.template_image(rs["spec"]["template"], ctx.app) == wanted
        ]
    else:
        older = [(rev, rs) for rev, rs in older if rev < current]
    if not older:
        return None
    rev, rs = max(older, key=lambda item: item[0])
    template = copy.deepcopy(rs["spec"]["template"])
    template.get("metadata", {}).get("labels", {}).pop("pod-template-hash", None)
    return template, str(rev)


def restore_template(
    ctx: DeployContext, name: str, template: dict[str, Any], previous: str | None
) -> None:
    """Put a pod template back on the Deployment (a full replace) and wait for it.

    ``previous`` becomes the Deployment's record of the version before this one (what the
    next rollback returns to).
    """
    dep = ctx.get("Deployment", name)
    if dep is None:
        raise NoxopsError(f"Deployment {name} does not exist in namespace {ctx.ns}")
    dep = copy.deepcopy(dep)
    dep["spec"]["template"] = template
    annotations = dep["metadata"].setdefault("annotations", {})
    annotations[resources.IMAGE_ANNOTATION] = resources.template_image(template, ctx.app) or ""
    annotations[resources.PREVIOUS_ANNOTATION] = previous or ""  # "": nothing before it
    dep.pop("status", None)
    ctx.actions.append(Action("update", "Deployment", name, None))
    ctx.log(f"restoring Deployment {name} to image {resources.template_image(template, ctx.app)}")
    if not ctx.dry_run:
        ctx.client().replace(ctx.path("Deployment", name), dep)
    wait_rollout(ctx, name)


def deploy(ctx: DeployContext) -> None:
    name = ctx.app
    current = ctx.get("Deployment", name)
    old_template = copy.deepcopy(current["spec"]["template"]) if current else None
    ctx.previous_image = ctx.image_of(current)
    desired = _desired(ctx, {}, name)
    desired["metadata"]["annotations"][resources.PREVIOUS_ANNOTATION] = ctx.previous_image or ""
    for obj in ctx.extra_objects:
        ctx.apply(obj)
    if not any(o["kind"] == "Service" for o in ctx.extra_objects):
        ctx.apply(resources.service(ctx.cfg, name, {"app": ctx.app}, app=ctx.app))
    old_previous = (
        current["metadata"].get("annotations", {}).get(resources.PREVIOUS_ANNOTATION)
        if current
        else None
    )
    ctx.apply(desired)
    try:
        wait_rollout(ctx, name)
        check_service(ctx, name, [ctx.cfg.health_path, ctx.cfg.ready_path])
        verify_public(ctx, name)
    except (RolloutFailed, HealthFailed) as exc:
        ctx.log(f"deploy failed: {exc}; rolling back")
        if old_template is None:
            ctx.delete("Deployment", name)
            raise DeployFailed(
                f"{exc}; this was the first version, so its Deployment was deleted",
                rolled_back=True,
            ) from None
        try:
            restore_template(ctx, name, old_template, old_previous)
        except NoxopsError as undo:
            raise DeployFailed(
                f"{exc}; the rollback failed too: {undo}", rolled_back=False
            ) from None
        raise DeployFailed(
            f"{exc}; rolled back to the previous revision ({ctx.previous_image})", rolled_back=True
        ) from None


def rollback(ctx: DeployContext, name: str | None = None) -> None:
    """Return the Deployment to its previous revision."""
    name = name or ctx.app
    found = previous_template(ctx, name)
    if found is None:
        raise NoxopsError(
            f"Deployment {name} in namespace {ctx.ns} has no previous revision to roll back to"
        )
    template, revision = found
    ctx.previous_image = ctx.image_of(ctx.get("Deployment", name))
    ctx.image = resources.template_image(template, ctx.app) or "?"
    ctx.log(f"rolling Deployment {name} back to revision {revision} ({ctx.image})")
    restore_template(ctx, name, template, ctx.previous_image)
    check_service(ctx, ctx.app, [ctx.cfg.health_path, ctx.cfg.ready_path])
