"""Blue-green: the idle colour gets the new version; the Service selector switches when it is
healthy; the old colour stays for ``keep_old`` seconds (watched) and is then deleted.

On any failure before the old colour is gone, the selector switches back and the new colour
is deleted, so nothing of the new version serves.
"""

from __future__ import annotations

import time

from noxops.deploy import resources
from noxops.deploy.context import DeployContext, DeployFailed
from noxops.deploy.health import HealthFailed, RolloutFailed, check_service, wait_rollout
from noxops.deploy.rolling import verify_public
from noxops.errors import NoxopsError

__all__ = ["COLOURS", "deploy", "live_colour", "rollback"]

COLOURS = ("blue", "green")


def live_colour(ctx: DeployContext) -> str | None:
    svc = ctx.get("Service", ctx.app)
    if svc is None:
        return None
    colour = svc.get("spec", {}).get("selector", {}).get("colour")
    return str(colour) if colour in COLOURS else None


def _other(colour: str | None) -> str:
    return "green" if colour == "blue" else "blue"


def _switch(ctx: DeployContext, colour: str, previous_image: str | None) -> None:
    annotations = {"noxops.dev/colour": colour}
    if previous_image:
        annotations[resources.PREVIOUS_ANNOTATION] = previous_image
    ctx.patch(
        "Service",
        ctx.app,
        {"metadata": {"annotations": annotations}, "spec": {"selector": {"colour": colour}}},
    )


def deploy(ctx: DeployContext) -> None:
    app = ctx.app
    live = live_colour(ctx)
    new = _other(live)
    live_name, new_name, preview = f"{app}-{live}", f"{app}-{new}", f"{app}-preview"
    live_dep = ctx.get("Deployment", live_name) if live else None
    ctx.previous_image = ctx.image_of(live_dep)
    ctx.log(f"live colour: {live or 'none (first deploy)'}; deploying {ctx.image} as {new}")
    for obj in ctx.extra_objects:
        ctx.apply(obj)
    ctx.delete("Deployment", new_name)  # a leftover of an interrupted deploy
    ctx.apply(
        resources.deployment(
            ctx.cfg, app, ctx.image, name=new_name, labels={"colour": new}, base=ctx.base_deployment
        )
    )
    ctx.apply(resources.service(ctx.cfg, preview, {"app": app, "colour": new}, app=app))
    switched = False
    try:
        wait_rollout(ctx, new_name)
        check_service(ctx, preview, [ctx.cfg.health_path, ctx.cfg.ready_path])
        if live is None:
            ctx.apply(resources.service(ctx.cfg, app, {"app": app, "colour": new}, app=app))
        else:
            _switch(ctx, new, ctx.previous_image)
        switched = True
        verify_public(ctx, app)
        if live_dep is not None and ctx.cfg.keep_old > 0 and not ctx.dry_run:
            ctx.log(f"keeping {live_name} for {ctx.cfg.keep_old:g}s for instant rollback")
            deadline = time.monotonic() + ctx.cfg.keep_old
            while time.monotonic() < deadline:
                ctx.sleep(min(ctx.poll, max(0.0, deadline - time.monotonic())))
                verify_public(ctx, app)
    except (RolloutFailed, HealthFailed) as exc:
        ctx.log(f"deploy failed: {exc}; rolling back")
        try:
            if switched and live is not None:
                _switch(ctx, live, None)
            elif switched:
                ctx.delete("Service", app)
            ctx.delete("Deployment", new_name)
            ctx.delete("Service", preview)
        except NoxopsError as undo:
            raise DeployFailed(
                f"{exc}; the rollback failed too: {undo}", rolled_back=False
            ) from None
        where = f"the Service selects {live} again" if live else "nothing was live before"
        raise DeployFailed(f"{exc}; {where} and {new_name} was deleted", rolled_back=True) from None
    ctx.delete("Service", preview)
    if live_dep is not None:
        ctx.delete("Deployment", live_name)


def rollback(ctx: DeployContext) -> None:
    """Switch back to the other colour if it still runs; else redeploy the previous image."""
    app = ctx.app
    live = live_colour(ctx)
    if live is None:
        raise NoxopsError(f"Service {app} in namespace {ctx.ns} selects no colour: nothing to undo")
    other = _other(live)
    other_dep = ctx.get("Deployment", f"{app}-{other}")
    live_dep = ctx.get("Deployment", f"{app}-{live}")
    ctx.previous_image = ctx.image_of(live_dep)
    if other_dep is not None:
        ctx.image = ctx.image_of(other_dep) or "?"
        ctx.log(f"switching Service {app} back to {other} ({ctx.image})")
        wait_rollout(ctx, f"{app}-{other}")
        _switch(ctx, other, ctx.previous_image)
        verify_public(ctx, app)
        ctx.delete("Deployment", f"{app}-{live}")
        return
    svc = ctx.get("Service", app) or {}
    previous = svc.get("metadata", {}).get("annotations", {}).get(resources.PREVIOUS_ANNOTATION)
    if not previous:
        raise NoxopsError(
            f"the old colour {other} is gone and Service {app} records no previous image; "
            "deploy the wanted image explicitly (deploy-<env> -- --image=...)"
        )
    ctx.log(f"the old colour is gone; deploying the previous image {previous} as {other}")
    ctx.image = str(previous)
    deploy(ctx)
