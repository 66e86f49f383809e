"""``[tool.noxops.services]`` and ``[tool.noxops.integration]``."""

from __future__ import annotations

from dataclasses import dataclass

from noxops.schema import option, positive

__all__ = ["IntegrationConfig"]


@dataclass(frozen=True)
class IntegrationConfig:
    """``[tool.noxops.integration]``: the ``integration`` session and its services."""

    enabled: bool = option(True, doc="Register the integration session (when tests/integration exists).")
    timeout: float = option(1800.0, check=positive, doc="Seconds before the stage is stopped.")
