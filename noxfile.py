"""noxops's own pipeline, defined with noxops (the repository dogfoods itself)."""

from __future__ import annotations

import sys
from pathlib import Path

import nox

# Use this checkout's noxops, not an installed one.
sys.path.insert(0, str(Path(__file__).parent / "src"))

import noxops

pipeline = noxops.sessions()


@nox.session(python=False, default=False)  # type: ignore[untyped-decorator]
def functional(session: nox.Session) -> None:
    """Real nox runs on the fixture projects under tests/functional (slow)."""
    session.run("python", "-m", "pytest", "tests/functional", *session.posargs)
