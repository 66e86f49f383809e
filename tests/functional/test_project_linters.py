"""Issue 24, items 4 and 12, on real tools: lint runs the project's own linter (flake8 with its
plugin, at their pins, by real nox) and not ruff's defaults; `noxops init` writes a noxfile
that the project's own import sorter, formatter and linter accept."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.noxrun import commit, copy_fixture, git, noxops_init, run_nox, sections, set_noxops

BIN = Path(sys.executable).parent  # the development environment's black, isort and ruff


def _tool(project: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / argv[0]), *argv[1:]], cwd=project, capture_output=True, text=True, check=False
    )


def test_inits_noxfile_passes_the_projects_isort_black_and_ruff(tmp_path: Path) -> None:
    """isort with lines_after_imports = 2 and add_imports, black, ruff's pydocstyle rules."""
    project = copy_fixture("isort_project", tmp_path)
    noxops_init(project)
    for argv in (
        ("isort", "--check-only", "--diff", "noxfile.py"),
        ("black", "--check", "--diff", "noxfile.py"),
        ("ruff", "check", "noxfile.py"),
    ):
        done = _tool(project, *argv)
        assert done.returncode == 0, f"{' '.join(argv)}:\n{done.stdout}{done.stderr}"
    text = (project / "noxfile.py").read_text(encoding="utf-8")
    assert "from __future__ import annotations\n\nimport noxops\n\n\n" in text


@pytest.mark.slow
def test_a_flake8_project_is_linted_by_its_flake8_and_plugin(tmp_path: Path) -> None:
    """init says which linter lint will run; lint runs flake8 7.1.1 with flake8-bugbear from
    requirements-dev.txt under setup.cfg's [flake8] (green, though ruff's defaults find
    something), checks init's noxfile with the project's black and isort, and changes no file;
    a finding only the plugin makes turns it red, with its file and line in the report."""
    project = copy_fixture("flake8_project", tmp_path)
    said = noxops_init(project)
    assert (
        "lint: flake8 7.1.1 (requirements-dev.txt) with flake8-bugbear 24.8.19, "
        "config setup.cfg [flake8]"
    ) in said, said
    set_noxops(project, 'default_sessions = ["lint"]')
    (project / ".gitignore").write_text(".nox/\nreports/\n__pycache__/\n")
    git(project, "init", "-q")
    commit(project, "init")
    # ruff's defaults disagree with this project (an E731 or its import layout): not run
    assert _tool(project, "ruff", "check", "--isolated", "src", "tests").returncode != 0

    run = run_nox(project, "-s", "lint")
    assert run.returncode == 0, run
    install = next(line for line in run.output.splitlines() if "pip install" in line)
    for pin in ("flake8==7.1.1", "flake8-bugbear==24.8.19", "black==24.8.0", "isort==5.13.2"):
        assert pin in install, install
    assert "ruff" not in install, install
    assert "flake8 --format=default" in run.output, run
    assert "ruff check" not in run.output, run
    assert "lint: flake8 7.1.1 (requirements-dev.txt) with flake8-bugbear 24.8.19" in run.output
    assert git(project, "status", "--porcelain") == "", run  # nothing rewritten

    stock = project / "src" / "stockroom" / "stock.py"
    stock.write_text(
        stock.read_text(encoding="utf-8")
        + '\n\ndef label(item, parts=[]):\n    """The item\'s name and parts."""\n'
        "    return [item.name, *parts]\n",
        encoding="utf-8",
    )
    line = stock.read_text(encoding="utf-8").splitlines().index("def label(item, parts=[]):") + 1
    commit(project, "a mutable default")
    red = run_nox(project, "-s", "lint", "report")
    assert red.returncode != 0, red
    assert f"src/stockroom/stock.py:{line}:" in sections(red)["lint"], red  # flake8's own words
    summary = json.loads((project / "reports" / "summary.json").read_text(encoding="utf-8"))
    [check] = [c for c in summary["checks"] if c["name"] == "flake8"]
    assert check["status"] == "failed", check
    assert [(f["tool"], f["rule"], f["path"], f["line"]) for f in check["findings"]] == [
        ("flake8", "B006", "src/stockroom/stock.py", line)
    ], check
    assert not any(c["name"] == "lint" for c in summary["checks"]), summary["checks"]
