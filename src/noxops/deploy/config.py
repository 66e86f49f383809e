"""``[tool.noxops.deploy.<env>]``."""

from __future__ import annotations

from dataclasses import dataclass

from noxops.schema import option, positive

__all__ = ["DeployEnvConfig"]


@dataclass(frozen=True)
class DeployEnvConfig:
    """``[tool.noxops.deploy.<env>]``: one deployment environment."""

    namespace: str = option("default", doc="Kubernetes namespace.")
    timeout: float = option(900.0, check=positive, doc="Seconds before the stage is stopped.")
