"""How the build runs its long commands: an argv list, extra environment, output shown.

The ``build`` and ``smoke`` stages hand :mod:`noxops.image.runner` nox's ``session.run`` and
``session.install``; without nox (and in tests) the defaults here run the command on PATH
and install nothing (the tools must be there already).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from typing import Callable

from noxops.errors import NoxopsError

__all__ = ["Command", "Install", "no_install", "run_command"]

# Runs one command (argv) with extra environment variables, its output shown; raises when it
# fails (nox's CommandFailed, or NoxopsError).
Command = Callable[[Sequence[str], Mapping[str, str]], None]
# Installs packages (pip arguments) where the commands run.
Install = Callable[[Sequence[str]], None]


def run_command(argv: Sequence[str], env: Mapping[str, str]) -> None:
    """Run ``argv`` (no shell), output to this process's; :class:`NoxopsError` on failure."""
    try:
        code = subprocess.run(list(argv), env={**os.environ, **env}, check=False).returncode
    except OSError as exc:
        raise NoxopsError(f"could not run {argv[0]}: {exc.strerror or exc}") from None
    if code != 0:
        raise NoxopsError(f"`{' '.join(argv[:3])}` failed with exit code {code}")


def no_install(requirements: Sequence[str]) -> None:
    """Install nothing: outside nox the tools must already be on PATH."""
