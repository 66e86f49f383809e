"""The benchmarks' hand-written noxfile has one generator (``benchmarks/pipeline.py``), used by
``pipeline.py`` for its fixture and ``changes.py`` for every project (issue #27 item 7)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support.benchmarks import load_benchmark

handwritten_noxfile = load_benchmark("pipeline").handwritten_noxfile


def test_mypy_can_target_the_lowest_python() -> None:
    """mypy 2 cannot check for 3.9: the fixture's noxfile pinned no mypy, the projects' did."""
    assert '"mypy<2")' in handwritten_noxfile(["3.9", "3.11"], "3.9")
    assert '"mypy")' in handwritten_noxfile(["3.10", "3.11"], "3.10")


def test_a_projects_paths_and_findings_policy() -> None:
    text = handwritten_noxfile(
        ["3.11"], "3.11", sources=["pkg"], lint_paths=["pkg", "t"], tests="t",
        test_requirements=["pytest", "jinja2"], findings_fail=False,
    )  # fmt: skip
    assert "session.run(\"ruff\", \"check\", 'pkg', 't', success_codes=[0, 1])" in text
    assert "session.install(\"-e\", \".\", 'pytest', 'jinja2', 'coverage[toml]')" in text
    assert '"--source=pkg", "-m", "pytest",\n                "t")' in text
    assert "success_codes" not in handwritten_noxfile(["3.11"], "3.11")


@pytest.mark.parametrize("findings_fail", [True, False])
def test_nox_lists_its_sessions(tmp_path: Path, findings_fail: bool) -> None:
    pytest.importorskip("nox")
    noxfile = tmp_path / "noxfile_handwritten.py"
    noxfile.write_text(
        handwritten_noxfile(["3.11", "3.12"], "3.11", findings_fail=findings_fail),
        encoding="utf-8",
    )
    listed = subprocess.run(
        [sys.executable, "-m", "nox", "--no-color", "-l", "-f", str(noxfile)],
        capture_output=True, text=True, check=True, timeout=300, cwd=tmp_path,
    ).stdout  # fmt: skip
    sessions = [line.split()[1] for line in listed.splitlines() if line.startswith("* ")]
    assert sessions == ["lint", "type", "security", "tests-3.11", "tests-3.12"]
