"""Fingerprinted installs: a nox session whose ``install`` skips what its environment has.

The fingerprints themselves (:mod:`noxops.incremental.fingerprint`) need no nox; this is the part
that wraps a running nox session, so only the nox process imports it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import nox

from noxops.incremental.fingerprint import EnvRecord, base_parts, digest, install_key
from noxops.runtime import noxapi

if TYPE_CHECKING:
    from noxops.runtime.noxapi import VirtualEnv

__all__ = ["GuardedSession", "guard", "install_ahead", "planned_key", "requested_interpreter"]


def requested_interpreter(venv: VirtualEnv) -> str:
    """The interpreter the session asks for now (not the one its environment was made with).

    ``X.Y`` is looked up the way noxops exposes it to nox (cheap: a few stat calls); anything
    else goes through nox's own resolution.
    """
    from noxops.project import interpreters

    wanted = venv.interpreter
    if not wanted:
        return sys.executable
    if re.fullmatch(r"\d+\.\d+", str(wanted)):
        found = interpreters.find(str(wanted))
        if found is not None:
            return str(found.executable)
    try:
        return noxapi.resolved_interpreter(venv)
    except Exception:  # nox reports a missing interpreter itself
        return str(Path(venv.location) / "bin" / "python")


class _Guard:
    """The install bookkeeping of one session."""

    def __init__(self, session: nox.Session, venv: VirtualEnv) -> None:
        self.session = session
        self.venv = venv
        self.location = venv.location
        self.cwd = Path.cwd()
        self.base_parts = base_parts(requested_interpreter(venv), venv.venv_backend)
        self.base = digest(self.base_parts)
        recorded = EnvRecord.load(self.location)
        # Fresh from nox: empty, nothing to undo. Reused: trust it only if its base matches.
        self.fresh = not noxapi.venv_reused(venv)
        self.recorded = recorded if recorded and recorded.base == self.base else None
        self.stale = not self.fresh and self.recorded is None
        self.done: list[tuple[tuple[str, ...], dict[str, Any], str]] = []
        self.live = self.fresh or self.stale  # True once installs really run
        self.skipped = 0
        if self.stale:
            session.log(
                "noxops: the environment was built from different inputs "
                f"({'no fingerprint' if recorded is None else 'interpreter or settings changed'})"
                "; recreating it"
            )
            self._recreate()
        elif self.fresh:
            EnvRecord(self.base).save(self.location)

    def _recreate(self) -> None:
        noxapi.recreate_venv(self.venv)
        self.fresh = True
        self.live = True
        EnvRecord(self.base).save(self.location)

    def install(self, real: Any, args: tuple[str, ...], kwargs: dict[str, Any]) -> None:
        key = digest(install_key(args, kwargs, self.cwd))
        index = len(self.done)
        if (
            not self.live
            and self.recorded is not None
            and index < len(self.recorded.installs)
            and self.recorded.installs[index] == key
        ):
            self.done.append((args, kwargs, key))
            self.skipped += 1
            self.session.log(f"noxops: environment up to date, skipped: install {' '.join(args)}")
            return
        if not self.live:
            self.session.log(
                "noxops: what this environment installs changed; recreating it"
                + (f" and replaying {index} earlier install(s)" if index else "")
            )
            self._recreate()
            for number, (old_args, old_kwargs, _) in enumerate(self.done, start=1):
                real(*old_args, **old_kwargs)
                self._save(upto=number)
        self._save(upto=index)
        real(*args, **kwargs)
        self.done.append((args, kwargs, key))
        self._save(upto=index + 1)

    def _save(self, upto: int) -> None:
        EnvRecord(self.base, [k for _, _, k in self.done[:upto]]).save(self.location)


class GuardedSession(nox.Session):  # type: ignore[misc]
    """A nox session whose ``install`` skips work the environment already has."""

    def __init__(self, session: nox.Session, guard: Optional[_Guard]) -> None:
        super().__init__(noxapi.session_runner(session))
        self.noxops_guard = guard
        # Install calls made ahead of the stage (install_ahead), which the stage makes again.
        self.noxops_ahead: list[tuple[str, ...]] = []

    def install(self, *args: str, **kwargs: Any) -> None:
        if self.noxops_ahead and not kwargs and self.noxops_ahead[0] == args:
            self.noxops_ahead.pop(0)  # made ahead, in this order: nothing left to do
            return
        self.noxops_ahead.clear()
        if self.noxops_guard is None:
            super().install(*args, **kwargs)
            return
        self.noxops_guard.install(super().install, args, kwargs)


def install_ahead(session: nox.Session, calls: list[tuple[str, ...]]) -> None:
    """Make a stage's planned install ``calls`` before it runs (``--changed-only`` fingerprints
    the installed environment, and a CI job's is fresh); the stage's own identical calls, in
    the same order, then install nothing twice."""
    if not isinstance(session, GuardedSession):
        return
    for args in calls:
        session.install(*args)
    session.noxops_ahead = [tuple(args) for args in calls]


def planned_key(session: nox.Session, calls: list[tuple[str, ...]]) -> Optional[str]:
    """The environment fingerprint (:attr:`EnvRecord.key`) that making ``calls`` in this
    session's environment would give, without making them; None unless the environment is
    fresh from nox and nothing was installed in it yet (a CI job's)."""
    if not isinstance(session, GuardedSession) or session.noxops_guard is None:
        return None
    guard = session.noxops_guard
    if not guard.fresh or guard.done:
        return None
    installs = [digest(install_key(tuple(args), {}, guard.cwd)) for args in calls]
    return EnvRecord(guard.base, installs).key


def guard(session: nox.Session) -> nox.Session:
    """``session`` with fingerprinted installs (unchanged if it has no virtualenv of its own,
    and when nox's internals are not what :mod:`noxops.runtime.noxapi` expects)."""
    if isinstance(session, GuardedSession) or not noxapi.enabled():
        return session
    venv = noxapi.session_virtualenv(session)
    if venv is None:
        return session
    if noxapi.run_options(session).no_install:
        return session  # -R / --no-install: the user asked to use the environment as it is
    return GuardedSession(session, _Guard(session, venv))
