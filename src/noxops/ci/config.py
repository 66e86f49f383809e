"""``[tool.noxops.ci]``."""

from __future__ import annotations

from dataclasses import dataclass

from noxops.schema import option

__all__ = ["CIConfig"]


@dataclass(frozen=True)
class CIConfig:
    """``[tool.noxops.ci]``: the generated CI pipelines."""

    providers: list[str] = option(factory=list, doc="Providers whose CI files are generated.")
