"""Whether the build manifest's image was built from the commit being tested or deployed.

``smoke``, ``load`` and ``deploy-<env>`` take the image the build manifest names. A manifest
left by a build of another commit would have them test or deploy an old image as if it were
HEAD's, so :func:`check` refuses it unless the user asks for it (``--allow-other-revision``).
What a session used is written to ``reports/revisions/<session>.json`` with the session's run
id (as the audit binds ``audit.json``), and the report flags a run that used another revision.

HEAD's revision is the one :func:`noxops.image.tags.detect` gives the build: the CI
provider's commit, else ``git rev-parse HEAD``; so a build job and a later smoke job of one
pipeline agree. When either side has none (outside git, a hand-written manifest) there is
nothing to compare: the image is used and the session says the revision was not checked. Only
commits are compared: a work tree changed since the build, at the same commit, is not seen.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

from noxops.errors import NoxopsError
from noxops.image import tags
from noxops.image.manifest import Manifest
from noxops.reports.files import display
from noxops.reports.records import RUN_ID_ENV

if TYPE_CHECKING:
    from noxops.config import Config

__all__ = ["FLAG", "Use", "allowed", "check", "record_path"]

FLAG = "--allow-other-revision"


@dataclass(frozen=True)
class Use:
    """The image a session took from a build manifest, and HEAD's revision at the time."""

    manifest: str  # the manifest's path, as shown
    built: str  # the commit the image was built from ("" when the manifest names none)
    head: str  # HEAD's commit ("" outside git)
    created: str = ""  # when it was built
    forced: bool = False  # used although of another revision: the user passed FLAG
    run: str = ""  # the session run that used it

    @property
    def other(self) -> bool:
        """Built from a commit that is not HEAD's (both known)."""
        return bool(self.built and self.head) and self.built != self.head

    def note(self) -> str:
        """One line saying what was used; "" when it is HEAD's image."""
        if self.other:
            when = f" (built at {self.created})" if self.created else ""
            return f"{FLAG}: image of revision {self.built[:7]}{when}, not HEAD {self.head[:7]}"
        if not self.built:
            return f"revision not checked: {self.manifest} records no revision"
        if not self.head:
            return "revision not checked: HEAD has no revision here (not a git checkout)"
        return ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Use:
        """A record written by :func:`check`; wrong types read as empty, never as a pass."""
        return cls(
            **{k: str(data.get(k) or "") for k in ("manifest", "built", "head", "created", "run")},
            forced=data.get("forced") is True,
        )


def allowed(posargs: Sequence[str]) -> bool:
    """Whether the session's arguments ask for an image of another revision."""
    return FLAG in posargs


def record_path(config: Config, session: str) -> Path:
    """Where ``session`` records the revision it used."""
    return config.reports / "revisions" / f"{session}.json"


def check(
    config: Config,
    built: Manifest,
    path: Path,
    session: str,
    *,
    allow: bool,
    log: Callable[[str], None],
    environ: Optional[Mapping[str, str]] = None,
) -> Use:
    """Refuse the image of ``built`` (read from ``path``) for ``session`` when it is of another
    revision than HEAD, unless ``allow``; record what was used."""
    environ = os.environ if environ is None else environ
    head = tags.detect(environ, config.root).sha
    shown = display(path, config.root)
    run = os.environ.get(RUN_ID_ENV, "")  # the session wrapper's, whatever ``environ`` is
    use = Use(shown, built.revision, head, built.created, run=run)
    if use.other and not allow:
        when = f" (built at {use.created})" if use.created else ""
        raise NoxopsError(
            f"{shown}: the build manifest's revision {use.built[:7]}{when} is not HEAD "
            f"{use.head[:7]}, so its image is of another commit; rebuild with `nox -s build`, "
            f"or use it anyway with `nox -s {session} -- {FLAG}`"
        )
    use = replace(use, forced=use.other)
    if use.note():
        log(use.note())
    record = record_path(config, session)
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(asdict(use), indent=2, sort_keys=True) + "\n", "utf-8")
    return use
