"""What every strategy works with: the environment, the image, the cluster, and a plan log.

Writes go through :meth:`DeployContext.apply` and :meth:`DeployContext.delete`, which record
each action; in a dry run they only print the object they would send (reads still go to the
cluster when credentials are available, so the plan shows real changes).
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from noxops.deploy.kube import KubeClient, api_path
from noxops.deploy.resources import template_image, to_yaml
from noxops.deploy.settings import DeployEnvConfig
from noxops.errors import NoxopsError

__all__ = ["Action", "DeployContext", "DeployFailed", "DeployResult"]


class DeployFailed(NoxopsError):
    """The new version did not go live; ``rolled_back`` says whether the old one serves again."""

    def __init__(self, message: str, *, rolled_back: bool) -> None:
        super().__init__(message)
        self.rolled_back = rolled_back


@dataclass
class Action:
    verb: str  # create, update, patch, delete
    kind: str
    name: str
    body: Optional[dict[str, Any]] = None

    def summary(self) -> str:
        return f"{self.verb} {self.kind}/{self.name}"


@dataclass
class DeployResult:
    """What a deploy or rollback did; written to reports/deploy-<env>.json."""

    env: str
    strategy: str
    action: str  # deploy or rollback
    image: str
    previous_image: Optional[str] = None
    outcome: str = "deployed"  # deployed, rolled back, failed, planned
    message: str = ""
    analysis: list[dict[str, Any]] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.outcome in {"deployed", "planned"}

    def as_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "strategy": self.strategy,
            "action": self.action,
            "image": self.image,
            "previous_image": self.previous_image,
            "outcome": self.outcome,
            "message": self.message,
            "analysis": self.analysis,
            "actions": self.actions,
            "seconds": round(self.seconds, 2),
        }


@dataclass
class DeployContext:
    env: str
    cfg: DeployEnvConfig
    app: str
    image: str
    kube: Optional[KubeClient]
    log: Callable[[str], None] = print
    dry_run: bool = False
    poll: float = 2.0
    sleep: Callable[[float], None] = time.sleep
    base_deployment: Optional[dict[str, Any]] = None
    extra_objects: list[dict[str, Any]] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    analysis: list[dict[str, Any]] = field(default_factory=list)
    previous_image: Optional[str] = None

    @property
    def ns(self) -> str:
        return self.cfg.namespace

    def path(self, kind: str, name: str | None = None, *, api_version: str | None = None) -> str:
        return api_path(kind, self.ns, name, api_version=api_version)

    def client(self) -> KubeClient:
        if self.kube is None:
            raise NoxopsError(f"deploy-{self.env}: no cluster credentials (kubeconfig)")
        return self.kube

    def get(self, kind: str, name: str, *, api_version: str | None = None) -> dict[str, Any] | None:
        if self.kube is None:  # a dry run without credentials plans against an empty cluster
            return None
        return self.kube.get(self.path(kind, name, api_version=api_version))

    def _record(self, action: Action) -> None:
        self.actions.append(action)
        if self.dry_run:
            self.log(f"[dry-run] would {action.summary()}")
            if action.body is not None:
                self.log(to_yaml([action.body]).rstrip())
        else:
            self.log(action.summary())

    def apply(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Create the object, or replace its spec (merging labels and annotations)."""
        kind = str(obj["kind"])
        name = str(obj["metadata"]["name"])
        version = str(obj.get("apiVersion", ""))
        namespace = obj["metadata"].setdefault("namespace", self.ns)
        if namespace != self.ns:
            raise NoxopsError(
                f"{kind}/{name} names namespace {namespace!r}, but [tool.noxops.deploy."
                f"{self.env}] deploys to {self.ns!r}; remove the namespace from the manifest"
            )
        current = self.get(kind, name, api_version=version)
        if current is None:
            self._record(Action("create", kind, name, obj))
            if self.dry_run:
                return obj
            return self.client().create(self.path(kind, api_version=version), obj)
        merged = copy.deepcopy(current)
        for key in ("labels", "annotations"):
            if obj["metadata"].get(key):
                merged["metadata"].setdefault(key, {}).update(obj["metadata"][key])
        for key, value in obj.items():
            if key not in {"metadata", "status", "apiVersion", "kind"}:
                merged[key] = copy.deepcopy(value)
        if kind == "Service":  # the cluster assigns these; a replace must keep them
            for keep in ("clusterIP", "clusterIPs"):
                if keep in current.get("spec", {}):
                    merged["spec"][keep] = current["spec"][keep]
        if merged == current:
            self.log(f"unchanged {kind}/{name}")
            return current
        self._record(Action("update", kind, name, obj))
        if self.dry_run:
            return merged
        merged.pop("status", None)
        return self.client().replace(self.path(kind, name, api_version=version), merged)

    def patch(
        self, kind: str, name: str, body: dict[str, Any], *, api_version: str | None = None
    ) -> dict[str, Any]:
        self._record(Action("patch", kind, name, body))
        if self.dry_run:
            return body
        return self.client().patch(self.path(kind, name, api_version=api_version), body)

    def delete(self, kind: str, name: str, *, api_version: str | None = None) -> None:
        if not self.dry_run and self.get(kind, name, api_version=api_version) is None:
            return
        self._record(Action("delete", kind, name))
        if not self.dry_run:
            self.client().delete(self.path(kind, name, api_version=api_version))

    def wait(self, seconds: float) -> None:
        if not self.dry_run and seconds > 0:
            self.sleep(seconds)

    def image_of(self, obj: dict[str, Any] | None) -> str | None:
        if obj is None:
            return None
        return template_image(obj.get("spec", {}).get("template", {}), self.app)

    def result(self, strategy: str, action: str = "deploy") -> DeployResult:
        return DeployResult(
            env=self.env,
            strategy=strategy,
            action=action,
            image=self.image,
            previous_image=self.previous_image,
            outcome="planned" if self.dry_run else "deployed",
            analysis=list(self.analysis),
            actions=[a.summary() for a in self.actions],
        )
