"""noxops: a project's whole CI/CD pipeline as Nox sessions.

A noxfile adopts it in two lines::

    import noxops

    noxops.sessions()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from noxops.runtime.distribution import __version__

__all__ = ["__version__", "sessions"]

if TYPE_CHECKING:
    from noxops.runtime.declare import Pipeline


def sessions(*args: Any, **kwargs: Any) -> Pipeline:
    """Register the pipeline's stages as nox sessions (see
    :func:`noxops.runtime.declare.sessions`)."""
    # Imported here so that `import noxops` works without nox (Python 3.9 test environments).
    from noxops.runtime.declare import sessions as register

    return register(*args, **kwargs)
