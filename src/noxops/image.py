"""Container images: tags, labels, build and push (``[tool.noxops.image]``)."""

from __future__ import annotations

from dataclasses import dataclass

from noxops.schema import option, positive

__all__ = ["ImageConfig"]


@dataclass(frozen=True)
class ImageConfig:
    """``[tool.noxops.image]``: the ``build`` and ``smoke`` sessions."""

    enabled: bool = option(True, doc="Register the build and smoke sessions.")
    timeout: float = option(1800.0, check=positive, doc="Seconds before the stage is stopped.")
