"""The load test: locust against the built image, judged on ``[tool.noxops.slo]``.

:mod:`noxops.load.settings` is ``[tool.noxops.load]``, :mod:`noxops.load.figures` reads
locust's statistics, :mod:`noxops.load.plot` draws them; the ``load`` stage runs it all.
"""

from __future__ import annotations

from noxops.load.settings import LoadConfig

__all__ = ["LoadConfig"]
