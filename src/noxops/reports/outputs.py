"""A report file a stage writes: its name (written once, here in its declaration) and kind.

Neutral ground: the stage declarations (:mod:`noxops.stages.base`) and the packages that do a
stage's work without nox (:mod:`noxops.image`) both name their report files with it.

What a file holds is its :class:`Kind`, declared once with :func:`kind`: how the report stage
reads it into its check and how CI publishes it. noxops's own kinds are declared beside their
readers (:mod:`noxops.reports.collect`); a project's stage declares a kind of its own the same
way, in its module, and an :class:`Output` names it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Literal, Optional

if TYPE_CHECKING:
    from noxops.config import Config
    from noxops.reports.collect import Reader
    from noxops.reports.model import Check

__all__ = ["KINDS", "Kind", "KindReader", "Output", "OutputKind", "Publish", "kind", "report_path"]

# The name of a declared :class:`Kind` ("junit", "ruff", ...), which an Output's ``kind`` gives.
OutputKind = str
# How CI publishes a file: as test results, coverage, GitLab Code Quality, or SARIF.
Publish = Literal["junit", "coverage", "codequality", "sarif"]
# Reads one file into its check: (the report's reader, the check's name, the session that
# writes the file, the file's name under the reports folder) -> the check.
KindReader = Callable[["Reader", str, str, str], "Check"]


@dataclass(frozen=True)
class Kind:
    """What a report file holds, which says how the report stage reads it (``read``; None: it
    feeds no check of its own) and how CI publishes it (``publish``; None: it is only handed
    on with the reports folder)."""

    name: str
    doc: str
    read: Optional[KindReader] = None
    publish: Optional[Publish] = None


class Kinds(Mapping[str, Kind]):
    """The declared kinds of report file, by name: read-only, one declaration per name."""

    def __init__(self) -> None:
        self._kinds: dict[str, Kind] = {}

    def register(self, declared: Kind) -> None:
        """Add ``declared``; a second kind of the same name is an error, not an override."""
        if declared.name in self._kinds:
            raise ValueError(f"report file kind {declared.name!r} is already declared")
        self._kinds[declared.name] = declared

    def unregister(self, name: str) -> None:
        """Remove a kind (tests that declare toy kinds, and ``noxops ci``, clean up with this)."""
        self._kinds.pop(name, None)

    def __getitem__(self, name: str) -> Kind:
        return self._kinds[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._kinds)

    def __len__(self) -> int:
        return len(self._kinds)


KINDS = Kinds()


def kind(
    name: str, *, doc: str, read: Optional[KindReader] = None, publish: Optional[Publish] = None
) -> Kind:
    """Declare a kind of report file (see :class:`Kind`); an :class:`Output` names it.

    ``read`` is usually :func:`noxops.reports.collect.findings` over a parser of the file.
    """
    declared = Kind(name=name, doc=doc, read=read, publish=publish)
    KINDS.register(declared)
    return declared


def _always(config: Config) -> bool:
    return True


@dataclass(frozen=True)
class Output:
    """A report file a stage writes under the reports folder.

    ``file`` may hold ``{python}`` (one file per matrix Python), or be a function of the
    configuration when a setting names it; a name ending in ``/`` is a folder of files.
    ``check`` is the report check the file feeds (``{python}`` too), None when it feeds none;
    ``when`` says whether the check is expected with this configuration; ``mode`` is how the
    check counts in the gate unless ``[tool.noxops.report] checks`` says otherwise
    (``advisory``: shown, never failing it).
    """

    file: str | Callable[[Config], str]
    kind: OutputKind  # the name of a declared Kind
    check: Optional[str] = None
    when: Callable[[Config], bool] = _always
    mode: Literal["blocking", "advisory"] = "blocking"

    def name(self, config: Config, python: str | None = None) -> str:
        """The file's name under the reports folder."""
        raw = self.file(config) if callable(self.file) else self.file
        return raw.replace("{python}", python) if python is not None else raw

    def path(self, config: Config, python: str | None = None) -> Path:
        """The file's path, its folder created (what a stage writes to)."""
        return report_path(config, self.name(config, python))


def report_path(config: Config, *parts: str) -> Path:
    """A path under the reports folder, its parent created."""
    path = config.reports.joinpath(*parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
