"""Deploying with the project's Helm chart: ``helm upgrade --install`` and ``helm rollback``.

``--atomic`` makes Helm itself roll back a release that does not become ready within the
rollout timeout, which is the rolling strategy's contract.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from noxops.deploy.settings import DeployEnvConfig
from noxops.errors import NoxopsError

__all__ = ["helm_path", "rollback_argv", "run_helm", "split_image", "upgrade_argv"]


def split_image(image: str) -> tuple[str, str]:
    """``(repository, tag or digest)`` of an image reference."""
    if "@" in image:
        repo, digest = image.split("@", 1)
        return repo, digest
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        repo, tag = image.rsplit(":", 1)
        return repo, tag
    return image, "latest"


def upgrade_argv(
    cfg: DeployEnvConfig,
    release: str,
    image: str,
    *,
    root: Path,
    kubeconfig: str | None = None,
    dry_run: bool = False,
) -> list[str]:
    if not cfg.helm_chart:
        raise NoxopsError("helm_chart is not set")
    repo, tag = split_image(image)
    chart = cfg.helm_chart
    if (root / chart).exists():
        chart = str(root / chart)
    argv = [
        "helm",
        "upgrade",
        "--install",
        release,
        chart,
        "--namespace",
        cfg.namespace,
        "--create-namespace",
        "--atomic",
        "--wait",
        "--timeout",
        f"{int(cfg.rollout_timeout)}s",
        "--set-string",
        f"image.repository={repo}",
        "--set-string",
        f"image.tag={tag}",
        "--set",
        f"replicaCount={cfg.replicas}",
    ]
    for values in cfg.helm_values:
        argv += ["-f", str(root / values)]
    if cfg.context:
        argv += ["--kube-context", cfg.context]
    if kubeconfig:
        argv += ["--kubeconfig", kubeconfig]
    if dry_run:
        argv += ["--dry-run"]
    return argv


def rollback_argv(
    cfg: DeployEnvConfig, release: str, *, kubeconfig: str | None = None
) -> list[str]:
    argv = [
        "helm",
        "rollback",
        release,
        "--namespace",
        cfg.namespace,
        "--wait",
        "--timeout",
        f"{int(cfg.rollout_timeout)}s",
    ]
    if cfg.context:
        argv += ["--kube-context", cfg.context]
    if kubeconfig:
        argv += ["--kubeconfig", kubeconfig]
    return argv


def helm_path() -> str | None:
    return shutil.which("helm")


def run_helm(argv: Sequence[str], timeout: float) -> tuple[int, str]:
    """Run helm; ``(exit code, output)``."""
    if helm_path() is None:
        raise NoxopsError(
            "helm_chart is set but helm is not installed; install it "
            "(https://helm.sh/docs/intro/install/) on the machine running the deploy"
        )
    proc = subprocess.run(
        list(argv), capture_output=True, text=True, timeout=timeout + 60, check=False
    )
    return proc.returncode, (proc.stdout + proc.stderr).strip()
