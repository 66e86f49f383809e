"""One deploy or rollback of one environment, start to finish.

Approval, the image, the cluster credentials, the strategy, the report
(``reports/deploy-<env>.json``), the generated manifests and alert rules
(``reports/deploy/<env>/``) and the notifications. Independent of nox, so tests call it
directly; :mod:`noxops.stages.deploy` wraps it in sessions.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

from noxops.deploy import alerts, approval, bluegreen, canary, controllers, helm, resources, rolling
from noxops.deploy.context import DeployContext, DeployFailed, DeployResult
from noxops.deploy.kube import KubeClient, kubeconfig_from_env, load_kubeconfig
from noxops.deploy.settings import DeployEnvConfig
from noxops.errors import NoxopsError
from noxops.image import revision
from noxops.image.manifest import Manifest
from noxops.image.manifest import load as load_manifest
from noxops.image.manifest import manifest_path
from noxops.notify import deploy as notify

if TYPE_CHECKING:
    from noxops.config import Config

__all__ = ["DeployOptions", "parse_posargs", "resolve_image", "run"]

StrategyFunc = Callable[[DeployContext], None]

DEPLOYS: dict[str, StrategyFunc] = {
    "rolling": rolling.deploy,
    "blue-green": bluegreen.deploy,
    "canary": canary.deploy,
    "argo-rollouts": controllers.argo_deploy,
    "flagger": controllers.flagger_deploy,
}
ROLLBACKS: dict[str, StrategyFunc] = {
    "rolling": rolling.rollback,
    "blue-green": bluegreen.rollback,
    "canary": rolling.rollback,  # the stable Deployment's previous revision
    "argo-rollouts": controllers.argo_rollback,
    "flagger": controllers.flagger_rollback,
}


@dataclass(frozen=True)
class DeployOptions:
    approve: bool = False
    dry_run: bool = False
    image: Optional[str] = None
    allow_other_revision: bool = False  # the build manifest's image even if not HEAD's


def parse_posargs(posargs: Sequence[str]) -> DeployOptions:
    approve = dry_run = other = False
    image = None
    for arg in posargs:
        if arg == "--approve":
            approve = True
        elif arg in {"--dry-run", "--plan"}:
            dry_run = True
        elif arg.startswith("--image="):
            image = arg.split("=", 1)[1]
        elif arg == revision.FLAG:
            other = True
        else:
            raise NoxopsError(
                f"unknown deploy argument {arg!r}; use --approve, --dry-run, --image=<ref> "
                f"or {revision.FLAG}"
            )
    return DeployOptions(approve=approve, dry_run=dry_run, image=image, allow_other_revision=other)


def resolve_image(
    root: Path,
    cfg: DeployEnvConfig,
    override: str | None = None,
    *,
    default_manifest: Path | None = None,
    accept: Callable[[Manifest, Path], object] | None = None,
) -> str:
    """The image to deploy: --image, else the configured one, else the build manifest's
    (pinned by its registry digest once pushed, else its first tag; ``accept`` raises when
    the manifest must not be used)."""
    if override:
        return override
    if cfg.image:
        return cfg.image
    if cfg.build_manifest:
        path = root / cfg.build_manifest
    else:
        path = default_manifest or root / "reports" / "build-manifest.json"
    if not path.is_file():
        raise NoxopsError(
            f"no image to deploy: {path} does not exist; run the build session "
            "first, set image in [tool.noxops.deploy.<env>], or pass -- --image=<ref>"
        )
    built = load_manifest(path)
    if accept is not None:
        accept(built, path)
    reference = built.deploy_ref  # pushed: exactly the image that was tested
    if not reference:
        raise NoxopsError(
            f"{path} records no image (the build made none: is there a Dockerfile?); "
            "set image in [tool.noxops.deploy.<env>] or pass -- --image=<ref>"
        )
    return reference


def _kubeconfig_path(root: Path, cfg: DeployEnvConfig) -> Path | None:
    if cfg.kubeconfig:
        return root / cfg.kubeconfig
    if os.environ.get("KUBECONFIG"):
        return Path(os.environ["KUBECONFIG"].split(os.pathsep)[0])
    home = Path.home() / ".kube" / "config"
    return home if home.is_file() else None


@contextmanager
def cluster(
    root: Path, cfg: DeployEnvConfig, *, dry_run: bool, log: Callable[[str], None]
) -> Iterator[tuple[Optional[KubeClient], Optional[str]]]:
    """The API client and the kubeconfig file it came from (``None`` for a blind dry run)."""
    if cfg.kubeconfig_env and (os.environ.get(cfg.kubeconfig_env) or not dry_run):
        with kubeconfig_from_env(cfg.kubeconfig_env) as secret_file:
            where = f"the kubeconfig in ${cfg.kubeconfig_env}"
            with KubeClient(load_kubeconfig(secret_file, cfg.context, where=where)) as kube:
                yield kube, str(secret_file)
        return
    path = None if cfg.kubeconfig_env else _kubeconfig_path(root, cfg)
    if path is None or not path.is_file():
        if dry_run:
            log("[dry-run] no cluster credentials: planning against an empty cluster")
            yield None, None
            return
        where = cfg.kubeconfig or "$KUBECONFIG or ~/.kube/config"
        raise NoxopsError(
            f"no kubeconfig found ({where}); set kubeconfig or kubeconfig_env in "
            "[tool.noxops.deploy.<env>]"
        )
    with KubeClient(load_kubeconfig(path, cfg.context)) as kube:
        yield kube, str(path)


def _write_artifacts(
    config: Config, env: str, *, cfg: DeployEnvConfig, app: str, image: str, base: Any
) -> Path:
    folder = config.reports / "deploy" / env
    folder.mkdir(parents=True, exist_ok=True)
    objects = resources.objects_for(cfg, app, image, base)
    (folder / "manifests.yaml").write_text(resources.to_yaml(objects), encoding="utf-8")
    (folder / "alerts.rules.yml").write_text(
        resources.to_yaml([alerts.rule_groups(cfg, app, env)]), encoding="utf-8"
    )
    (folder / "prometheusrule.yaml").write_text(
        resources.to_yaml([alerts.prometheus_rule(cfg, app, env)]), encoding="utf-8"
    )
    return folder


def _project_manifests(
    config: Config, cfg: DeployEnvConfig, app: str
) -> tuple[Optional[dict[str, Any]], list[dict[str, Any]]]:
    if cfg.manifests == "generated":
        return None, []
    path = config.root / cfg.manifests
    if not path.exists():
        raise NoxopsError(f"manifests {cfg.manifests!r} does not exist (relative to {config.root})")
    objects = resources.load_project_manifests(path)
    base = resources.find_deployment(objects, app)
    if base is None and cfg.strategy in {"rolling", "blue-green", "canary"}:
        raise NoxopsError(
            f"{cfg.manifests} has no Deployment named {app!r} to use as the template; "
            "name it like the app or set app in [tool.noxops.deploy.<env>]"
        )
    others = [o for o in objects if o is not base]
    return base, others


def _helm(
    ctx: DeployContext, config: Config, kubeconfig: str | None, action: str, dry_run: bool
) -> None:
    if action == "rollback":
        argv = helm.rollback_argv(ctx.cfg, ctx.app, kubeconfig=kubeconfig)
    else:
        argv = helm.upgrade_argv(
            ctx.cfg, ctx.app, ctx.image, root=config.root, kubeconfig=kubeconfig, dry_run=dry_run
        )
    ctx.log("+ " + " ".join(argv))
    code, output = helm.run_helm(argv, ctx.cfg.rollout_timeout)
    for line in output.splitlines()[-20:]:
        ctx.log(line)
    if code != 0:
        raise DeployFailed(
            f"helm {action} failed (exit {code}); --atomic rolled the release back",
            rolled_back=action != "rollback",
        )


def run(
    config: Config,
    env: str,
    posargs: Sequence[str] = (),
    *,
    action: str = "deploy",
    log: Callable[[str], None] = print,
    poll: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    environ: Mapping[str, str] | None = None,
) -> DeployResult:
    """Deploy (or roll back) ``env``; the result says what happened. User mistakes raise."""
    if env not in config.deploy:
        raise NoxopsError(
            f"no [tool.noxops.deploy.{env}] in {config.file}; "
            f"environments: {', '.join(config.deploy) or '(none)'}"
        )
    # The canary analysis and the alert rules read the project's SLO through cfg.
    cfg = dataclasses.replace(config.deploy[env], slo=config.slo)
    app = cfg.app_name(config.project_name)
    opts = parse_posargs(posargs)
    if cfg.needs_approval(env) and not opts.dry_run:
        source = approval.require_approval(env, posargs, environ, action=action)
        log(f"{env}: approved ({source})")

    def accept(built: Manifest, path: Path) -> None:
        allow = opts.allow_other_revision
        revision.check(config, built, path, f"deploy-{env}", allow=allow, log=log, environ=environ)

    image = (
        resolve_image(
            config.root, cfg, opts.image, default_manifest=manifest_path(config), accept=accept
        )
        if action == "deploy"
        else "(previous)"
    )
    base, extra = _project_manifests(config, cfg, app)
    if action == "deploy":
        folder = _write_artifacts(config, env, cfg=cfg, app=app, image=image, base=base)
        log(f"manifests and alert rules written to {folder}")
    started = time.monotonic()
    with cluster(config.root, cfg, dry_run=opts.dry_run, log=log) as (kube, kubeconfig):
        ctx = DeployContext(
            env=env,
            cfg=cfg,
            app=app,
            image=image,
            kube=kube,
            log=log,
            dry_run=opts.dry_run,
            poll=poll,
            sleep=sleep,
            base_deployment=base,
            extra_objects=extra,
        )
        strategy = "helm" if cfg.helm_chart else cfg.strategy
        log(f"{action} {app} to {env} (namespace {cfg.namespace}, {strategy}): {image}")
        try:
            if cfg.helm_chart:
                _helm(ctx, config, kubeconfig, action, opts.dry_run)
            else:
                (DEPLOYS if action == "deploy" else ROLLBACKS)[cfg.strategy](ctx)
            result = ctx.result(strategy, action)
        except DeployFailed as exc:
            result = ctx.result(strategy, action)
            result.outcome = "rolled back" if exc.rolled_back else "failed"
            result.message = str(exc)
        except NoxopsError as exc:
            result = ctx.result(strategy, action)
            result.outcome = "failed"
            result.message = str(exc)
    result.seconds = time.monotonic() - started
    if result.ok and not result.message:
        result.message = f"{app} {result.image} is live in {env}" + (
            f" (was {result.previous_image})" if result.previous_image else ""
        )
    sent: dict[str, str] = {}
    if not opts.dry_run:
        sent = notify.notify(cfg.notify, result, config.project_name, log)
    report = result.as_dict() | {"notifications": sent}
    path = config.reports / f"deploy-{env}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    log(f"{result.outcome}: {result.message}")
    return result
