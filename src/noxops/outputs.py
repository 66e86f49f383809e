"""A report file a stage writes: its name (written once, here in its declaration) and kind.

Neutral ground: the stage declarations (:mod:`noxops.stages.base`) and the packages that do a
stage's work without nox (:mod:`noxops.build`) both name their report files with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Literal, Optional

if TYPE_CHECKING:
    from noxops.config import Config

__all__ = ["Output", "OutputKind", "report_path"]

# What a report file holds, which says how the report stage reads it and how CI publishes it.
OutputKind = Literal[
    "junit",  # JUnit XML of a test run
    "mypy",  # mypy's JUnit XML
    "coverage",  # a Cobertura XML coverage report (the gate's)
    "coverage-part",  # one Python's Cobertura XML, combined later
    "coverage-data",  # coverage.py's data (one Python's run, or the combined runs)
    "ruff",  # ruff's JSON findings
    "flake8",  # flake8's findings in its default format (path:line:col: CODE message)
    "pylint",  # pylint's JSON findings (json2 or the older json format)
    "bandit",  # bandit's JSON report
    "audit",  # noxops's dependency-audit verdict
    "manifest",  # the build manifest
    "load",  # noxops's load-test figures against the SLO
    "codequality",  # GitLab Code Quality
    "sarif",  # SARIF 2.1.0
    "file",  # anything else a person may read
]


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
    kind: OutputKind
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
