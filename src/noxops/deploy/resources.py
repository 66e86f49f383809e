"""The Kubernetes objects a deploy creates: generated from the config, or the project's own.

Generated objects are plain dicts (the API's JSON); :func:`to_yaml` renders them for plans and
files without needing a YAML library; scalars are written by :func:`noxops.ci.yamldoc.scalar`, as
in the CI files.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Optional

from noxops.ci.yamldoc import scalar
from noxops.deploy.settings import DeployEnvConfig
from noxops.errors import NoxopsError

__all__ = [
    "IMAGE_ANNOTATION",
    "deployment",
    "find_deployment",
    "load_project_manifests",
    "objects_for",
    "service",
    "set_image",
    "template_image",
    "to_yaml",
    "virtual_service",
]

IMAGE_ANNOTATION = "noxops.dev/image"
PREVIOUS_ANNOTATION = "noxops.dev/previous-image"
SERVICE_PORT = 80


def _container(cfg: DeployEnvConfig, app: str, image: str) -> dict[str, Any]:
    res = cfg.resources

    def probe(path: str, delay: int) -> dict[str, Any]:
        return {
            "httpGet": {"path": path, "port": "http"},
            "initialDelaySeconds": delay,
            "periodSeconds": 5,
            "timeoutSeconds": 2,
            "failureThreshold": 3,
        }

    return {
        "name": app,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": cfg.port, "protocol": "TCP"}],
        "livenessProbe": probe(cfg.health_path, 10),
        "readinessProbe": probe(cfg.ready_path, 2),
        "resources": {
            "requests": {"cpu": res.cpu_request, "memory": res.memory_request},
            "limits": {"cpu": res.cpu_limit, "memory": res.memory_limit},
        },
    }


def deployment(
    cfg: DeployEnvConfig,
    app: str,
    image: str,
    *,
    name: str | None = None,
    labels: Mapping[str, str] | None = None,
    replicas: int | None = None,
    base: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A Deployment of ``image``; ``labels`` (beyond ``app``) go on the selector and pods.

    ``base`` is the project's own Deployment: its pod template is kept, with the image of its
    first container (or the one named ``app``) replaced and the labels added.
    """
    selector = {"app": app, **(labels or {})}
    if base is not None:
        template = copy.deepcopy(dict(base.get("spec", {}).get("template", {})))
        template.setdefault("metadata", {}).setdefault("labels", {}).update(selector)
        set_image(template, app, image)
    else:
        template = {
            "metadata": {"labels": dict(selector)},
            "spec": {"containers": [_container(cfg, app, image)]},
        }
    template.setdefault("metadata", {}).setdefault("annotations", {})[IMAGE_ANNOTATION] = image
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name or app,
            "namespace": cfg.namespace,
            "labels": dict(selector),
            "annotations": {IMAGE_ANNOTATION: image},
        },
        "spec": {
            "replicas": cfg.replicas if replicas is None else replicas,
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": dict(selector)},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0},
            },
            "template": template,
        },
    }


def service(
    cfg: DeployEnvConfig, name: str, selector: Mapping[str, str], *, app: str
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": cfg.namespace, "labels": {"app": app}},
        "spec": {
            "type": "ClusterIP",
            "selector": dict(selector),
            "ports": [
                {"name": "http", "port": SERVICE_PORT, "targetPort": "http", "protocol": "TCP"}
            ],
        },
    }


def virtual_service(cfg: DeployEnvConfig, app: str, canary_weight: int) -> dict[str, Any]:
    """Istio routing: ``canary: true`` header to the canary, the rest split by weight."""
    stable = f"{app}.{cfg.namespace}.svc.cluster.local"
    canary = f"{app}-canary.{cfg.namespace}.svc.cluster.local"
    port = {"number": SERVICE_PORT}
    return {
        "apiVersion": "networking.istio.io/v1beta1",
        "kind": "VirtualService",
        "metadata": {"name": app, "namespace": cfg.namespace, "labels": {"app": app}},
        "spec": {
            "hosts": [app],
            "http": [
                {
                    "name": "canary-testers",
                    "match": [{"headers": {"canary": {"exact": "true"}}}],
                    "route": [{"destination": {"host": canary, "port": port}}],
                },
                {
                    "name": "primary",
                    "route": [
                        {
                            "destination": {"host": stable, "port": port},
                            "weight": 100 - canary_weight,
                        },
                        {"destination": {"host": canary, "port": port}, "weight": canary_weight},
                    ],
                },
            ],
        },
    }


def template_image(template: Mapping[str, Any], app: str) -> str | None:
    """The image of the app's container in a pod template."""
    containers = list(template.get("spec", {}).get("containers") or [])
    for container in containers:
        if container.get("name") == app:
            return str(container.get("image"))
    return str(containers[0].get("image")) if containers else None


def set_image(template: dict[str, Any], app: str, image: str) -> None:
    containers = template.get("spec", {}).get("containers") or []
    if not containers:
        raise NoxopsError("the Deployment's pod template has no containers to set the image of")
    chosen = next((c for c in containers if c.get("name") == app), containers[0])
    chosen["image"] = image


# -- the project's own manifests ------------------------------------------------------------


def load_project_manifests(path: Path) -> list[dict[str, Any]]:
    """Every object in a YAML/JSON file, or in the *.yaml/*.yml/*.json files of a folder."""
    files = (
        sorted(p for p in path.iterdir() if p.suffix in {".yaml", ".yml", ".json"})
        if path.is_dir()
        else [path]
    )
    if not files:
        raise NoxopsError(f"{path} holds no .yaml, .yml or .json manifests")
    objects: list[dict[str, Any]] = []
    for file in files:
        text = file.read_text(encoding="utf-8")
        if file.suffix == ".json":
            docs: Iterable[Any] = [json.loads(text)]
        else:
            try:
                import yaml
            except ImportError:
                raise NoxopsError(
                    f"reading {file} needs PyYAML; install it (pip install pyyaml) in the "
                    "environment running nox"
                ) from None
            try:
                docs = list(yaml.safe_load_all(text))
            except yaml.YAMLError as exc:
                raise NoxopsError(f"{file} is not valid YAML: {exc}") from None
        for doc in docs:
            if doc is None:
                continue
            items = doc.get("items", []) if doc.get("kind", "").endswith("List") else [doc]
            for item in items:
                if not isinstance(item, dict) or "kind" not in item or "apiVersion" not in item:
                    raise NoxopsError(f"{file}: every document needs apiVersion and kind")
                objects.append(item)
    return objects


# -- YAML output ----------------------------------------------------------------------------


def _emit(value: Any, indent: int, lines: list[str], prefix: str) -> None:
    pad = " " * indent
    if isinstance(value, Mapping) and value:
        first = True
        for key, item in value.items():
            lead = prefix if first else pad
            first = False
            head = f"{lead}{scalar(str(key))}:"
            if isinstance(item, (Mapping, list)) and item:
                lines.append(head)
                _emit(item, indent + 2, lines, " " * (indent + 2))
            else:
                lines.append(f"{head} {_inline(item)}")
    elif isinstance(value, list) and value:
        for i, item in enumerate(value):
            lead = (prefix if i == 0 else pad) + "- "
            if isinstance(item, (Mapping, list)) and item:
                _emit(item, indent + 2, lines, lead)
            else:
                lines.append(f"{lead}{_inline(item)}")
    else:
        lines.append(prefix + _inline(value))


def _inline(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return scalar(value)


def to_yaml(objects: Iterable[Any]) -> str:
    """Documents separated by ``---``; keys in the order given."""
    out: list[str] = []
    for obj in objects:
        lines: list[str] = []
        _emit(obj, 0, lines, "")
        out.append("\n".join(lines))
    return "---\n" + "\n---\n".join(out) + "\n"


def find_deployment(objects: list[dict[str, Any]], app: str) -> Optional[dict[str, Any]]:
    deployments = [o for o in objects if o.get("kind") == "Deployment"]
    named = [d for d in deployments if d.get("metadata", {}).get("name") == app]
    if named:
        return named[0]
    return deployments[0] if len(deployments) == 1 else None


def objects_for(
    cfg: DeployEnvConfig, app: str, image: str, base: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The objects the configured strategy creates, as written to reports for review."""
    if cfg.strategy == "blue-green":
        return [
            deployment(cfg, app, image, name=f"{app}-blue", labels={"colour": "blue"}, base=base),
            service(cfg, app, {"app": app, "colour": "blue"}, app=app),
        ]
    if cfg.strategy == "canary":
        stable = {"app": app, "track": "stable"} if cfg.mesh == "istio" else {"app": app}
        objects = [
            deployment(cfg, app, image, labels={"track": "stable"}, base=base),
            deployment(
                cfg,
                app,
                image,
                name=f"{app}-canary",
                labels={"track": "canary"},
                replicas=1,
                base=base,
            ),
            service(cfg, app, stable, app=app),
            service(cfg, f"{app}-canary", {"app": app, "track": "canary"}, app=app),
        ]
        if cfg.mesh == "istio":
            objects.append(virtual_service(cfg, app, cfg.canary_weights[0]))
        return objects
    return [deployment(cfg, app, image, base=base), service(cfg, app, {"app": app}, app=app)]
