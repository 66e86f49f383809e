"""Cobertura XML (``coverage xml``): the total and each file's coverage."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from noxops.reports.files import display, read_xml, relative
from noxops.reports.model import ReadProblem

__all__ = ["Coverage", "FileCoverage", "read_coverage"]


@dataclass
class FileCoverage:
    path: str
    statements: int
    covered: int

    @property
    def percent(self) -> float:
        return 100.0 * self.covered / self.statements if self.statements else 100.0


@dataclass
class Coverage:
    """Statements and branches, counted as ``coverage report`` counts them for fail_under."""

    lines_valid: int = 0
    lines_covered: int = 0
    branches_valid: int = 0
    branches_covered: int = 0
    files: list[FileCoverage] = field(default_factory=list)

    @property
    def percent(self) -> float:
        total = self.lines_valid + self.branches_valid
        if not total:
            return 100.0
        return 100.0 * (self.lines_covered + self.branches_covered) / total


def _int(value: str | None, what: str, shown: str) -> int:
    try:
        return int(value or 0)
    except ValueError:
        raise ReadProblem(shown, f"{what} is {value!r}, not a number") from None


def read_coverage(path: Path, root: Path) -> Coverage:
    shown = display(path, root)
    el = read_xml(path, root)
    if el.tag != "coverage":
        raise ReadProblem(shown, f"not a Cobertura report (its root element is <{el.tag}>)")
    if el.get("lines-valid") is None:
        raise ReadProblem(shown, "the <coverage> element has no lines-valid total")
    cov = Coverage(
        lines_valid=_int(el.get("lines-valid"), "lines-valid", shown),
        lines_covered=_int(el.get("lines-covered"), "lines-covered", shown),
        branches_valid=_int(el.get("branches-valid"), "branches-valid", shown),
        branches_covered=_int(el.get("branches-covered"), "branches-covered", shown),
    )
    if cov.lines_valid + cov.branches_valid == 0:
        raise ReadProblem(
            shown,
            "it measured 0 lines (nothing was imported under coverage?): check "
            "[tool.coverage.run] source and that the tests import the package",
        )
    sources = [s.text or "" for s in el.iter("source")]
    base = Path(sources[0]) if sources and sources[0] else root
    for cls in el.iter("class"):
        lines = list(cls.iter("line"))
        filename = cls.get("filename", "?")
        full = base / filename if not Path(filename).is_absolute() else Path(filename)
        cov.files.append(
            FileCoverage(
                path=relative(str(full), root),
                statements=len(lines),
                covered=sum(1 for ln in lines if ln.get("hits", "0") != "0"),
            )
        )
    return cov
