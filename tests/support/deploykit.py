"""Helpers for the deploy tests: a project configured against a :class:`FakeKube`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from support.fakekube import FakeKube

from noxops.config import Config, load
from noxops.deploy import runner
from noxops.deploy.context import DeployResult

__all__ = ["Run", "make_project"]

REGISTRY = "registry.example.test/shop/web"


def make_project(
    root: Path,
    fake: FakeKube,
    envs: Mapping[str, Mapping[str, Any]],
    *,
    build_tag: str = "1.0.0",
) -> Config:
    """A project whose ``[tool.noxops.deploy.<env>]`` tables point at the fake cluster."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "shop-web"\nversion = "1.0.0"\n', encoding="utf-8"
    )
    (root / "kubeconfig.json").write_text(json.dumps(fake.kubeconfig()), encoding="utf-8")
    reports = root / "reports"
    reports.mkdir(exist_ok=True)
    (reports / "build-manifest.json").write_text(
        json.dumps(
            {"image": REGISTRY, "tags": [build_tag, "latest"], "digest": None, "pushed": False}
        ),
        encoding="utf-8",
    )
    tables = {
        env: {
            "kubeconfig": "kubeconfig.json",
            "namespace": "shop",
            "app": "web",
            "replicas": 2,
            "rollout_timeout": 10.0,
            "analysis_interval": 0.0,
            **settings,
        }
        for env, settings in envs.items()
    }
    return load(root, overrides={"deploy": tables})


class Run:
    """Runs deploys of one project with fast polling, keeping the log lines."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.lines: list[str] = []

    def __call__(
        self,
        env: str,
        image: str | None = None,
        *args: str,
        action: str = "deploy",
        environ: Mapping[str, str] | None = None,
    ) -> DeployResult:
        posargs = [*args] + ([f"--image={image}"] if image else [])
        return runner.run(
            self.config,
            env,
            posargs,
            action=action,
            log=self.lines.append,
            poll=0.01,
            environ={} if environ is None else environ,
        )

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def report(self, env: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(
            (self.config.reports / f"deploy-{env}.json").read_text(encoding="utf-8")
        )
        return data
