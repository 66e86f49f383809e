"""Real project shapes (issue 15): noxops follows each project's own tools and settings.

Each test runs real nox on a copy of a fixture shaped like a project noxops was tried on: a
library formatted with ruff (``fix = true``, pinned tools, mypy ``files``, pytest
``testpaths``), a service described by requirements files, a Poetry project.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from support.noxrun import copy_fixture, run_nox, sections

pytestmark = pytest.mark.slow


def _git(project: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=project, capture_output=True, text=True, check=True
    ).stdout


def _committed(project: Path) -> Path:
    """The project as a git repository with everything committed (and noxops's output
    ignored the way `noxops init` ignores it)."""
    (project / ".gitignore").write_text(".nox/\nreports/\n__pycache__/\n")
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    _git(
        project, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "init"
    )
    return project


@pytest.fixture
def ruff_project(tmp_path: Path) -> Path:
    return _committed(copy_fixture("ruff_project", tmp_path))


def test_lint_never_changes_a_file_and_follows_ruff(ruff_project: Path) -> None:
    """Findings #1, #7 and #12: with `fix = true` lint reports instead of fixing; it runs
    ruff format (not black) and ruff's isort rules (not isort), at the project's pin."""
    module = ruff_project / "src" / "textkit" / "__init__.py"
    module.write_text(
        module.read_text().replace(
            "from __future__ import annotations\n",
            "from __future__ import annotations\n\nimport os\nimport sys\n",
        )
    )
    _git(ruff_project, "commit", "-qam", "unused imports")
    run = run_nox(ruff_project, "-s", "lint")
    assert run.returncode != 0, run
    assert _git(ruff_project, "status", "--porcelain") == "", run  # nothing rewritten
    assert "F401" in run.output, run
    assert "ruff check --no-fix" in run.output, run
    assert "ruff format --check" in run.output, run
    assert "black" not in run.output and "isort --check" not in run.output, run
    assert "ruff==0.8.6" in run.output, run  # the project's own pin
    assert "formatter: ruff ([tool.ruff.format]" in run.output, run


def test_tests_keep_their_paths_and_get_only_the_test_group(ruff_project: Path) -> None:
    """Findings #3 and #7: `-- -k` is passed on after pytest's own testpaths; the
    environment gets the test group, not the dev group (tox, ruff), and pytest once."""
    run = run_nox(ruff_project, "-s", "tests-3.11", "--", "-k", "read")
    assert run.returncode == 0, run
    assert re.search(r"-m pytest .* tests -k read", run.output), run
    assert "2 passed, 1 deselected" in run.output, run
    install = next(line for line in run.output.splitlines() if "uv pip install" in line)
    assert "tox" not in install and "ruff" not in install, install
    assert len(re.findall(r"\bpytest\b", install)) == 1, install
    # per-Python coverage: XML only; the HTML report is the combined one's
    assert (ruff_project / "reports" / "coverage-3.11.xml").is_file()
    assert not (ruff_project / "reports" / "htmlcov-3.11").exists()


def test_type_and_security_follow_the_project(ruff_project: Path) -> None:
    """Findings #7 and #4: mypy checks what [tool.mypy] files names, at the project's pinned
    version; security tolerates the low-severity finding max_bandit_severity allows."""
    run = run_nox(ruff_project, "-s", "type", "security")
    assert run.returncode == 0, run
    parts = sections(run)
    assert "mypy==1.15.0" in parts["type"], parts["type"]
    assert "files its own configuration names: src, tests" in parts["type"], parts["type"]
    assert "B101" in parts["security"], parts["security"]
    assert "none above the tolerated severity (low)" in parts["security"], parts["security"]
