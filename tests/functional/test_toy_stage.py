"""A stage declared in one module of a project reaches every part of noxops.

``tests/fixtures/toy_stage_project/docs_stage.py`` declares a ``docs`` stage (what it reads,
the JUnit file it writes, its CI stage) and nothing else in noxops is told about it: real nox
lists and runs it, the report gates on it, ``--changed-only`` skips it while docs/ is
unchanged, and the CI model places it and publishes its report.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.noxrun import copy_fixture, run_nox

from noxops.ci.model import build_pipeline
from noxops.config import load
from noxops.stages import STAGES

pytestmark = pytest.mark.slow
pytest.importorskip("nox")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_fixture("toy_stage_project", tmp_path)


def _checks(project: Path) -> dict[str, dict[str, object]]:
    summary = json.loads((project / "reports" / "summary.json").read_text(encoding="utf-8"))
    return {c["name"]: c for c in summary["checks"]}


def test_nox_lists_runs_and_reports_the_toy_stage(project: Path) -> None:
    listed = run_nox(project, "-l")
    assert listed.returncode == 0, listed
    assert "* docs -> Check that every page under docs/ has a title." in listed.output

    run = run_nox(project, "-s", "docs", "report")
    assert "Session docs was successful" in run.output, run
    docs = _checks(project)["docs"]
    assert (docs["status"], docs["summary"]) == ("passed", "2 passed")
    assert docs["metrics"] == {"tests": 2, "failures": 0, "errors": 0, "skipped": 0}

    (project / "docs" / "usage.md").write_text("no title here\n", encoding="utf-8")
    failed = run_nox(project, "-s", "docs", "report")
    assert failed.returncode != 0, failed
    docs = _checks(project)["docs"]
    assert docs["status"] == "failed"
    assert any("usage.md has no title" in str(d) for d in docs["details"]), docs  # type: ignore[attr-defined]


def test_changed_only_skips_the_toy_stage_until_its_inputs_change(project: Path) -> None:
    first = run_nox(project, "-s", "docs", "--", "--changed-only")
    assert "docs: 2 page(s), 0 without a title" in first.output, first
    again = run_nox(project, "-s", "docs", "--", "--changed-only")
    assert "docs is up to date" in again.output, again
    assert "docs: 2 page(s)" not in again.output
    # A file outside its declared inputs (docs/) changes nothing; one inside does.
    (project / "src" / "calc" / "extra.py").write_text("X = 1\n", encoding="utf-8")
    assert "docs is up to date" in run_nox(project, "-s", "docs", "--", "--changed-only").output
    (project / "docs" / "more.md").write_text("# More\n", encoding="utf-8")
    rerun = run_nox(project, "-s", "docs", "--", "--changed-only")
    assert "docs: 3 page(s), 0 without a title" in rerun.output, rerun


@pytest.fixture
def declared(project: Path) -> Iterator[None]:
    """The toy module imported here as the noxfile imports it; its stage removed after."""
    spec = importlib.util.spec_from_file_location("docs_stage", project / "docs_stage.py")
    assert spec is not None and spec.loader is not None
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    try:
        yield
    finally:
        STAGES.unregister("docs")


@pytest.mark.usefixtures("declared")
def test_the_ci_model_places_the_toy_stage_from_its_declaration(project: Path) -> None:
    config = load(project)
    pipeline = build_pipeline(config, STAGES.for_config(config))
    docs = pipeline.job("docs")
    assert docs.stage == "build"
    assert [(r.kind, r.path) for r in docs.reports] == [("junit", "reports/junit-docs.xml")]
    assert docs.nox_argv() == ["nox", "--no-dependencies", "-s", "docs"]
    assert "docs" in pipeline.job("report").needs


@pytest.mark.usefixtures("declared")
def test_a_second_declaration_of_a_name_is_refused(project: Path) -> None:
    spec = importlib.util.spec_from_file_location("docs_again", project / "docs_stage.py")
    assert spec is not None and spec.loader is not None
    with pytest.raises(ValueError, match="stage 'docs' is already declared"):
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


def _ci(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "noxops", "ci", *args, "--root", str(project)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_noxops_ci_learns_the_stages_the_noxfile_declares(project: Path) -> None:
    """`noxops ci` loads the project's noxfile (collect-only) and so knows its `docs` stage
    and its plain nox sessions; `ci check` notices one added and not regenerated, and says
    what changed: the noxfile's stages, or a [tool.noxops.*] table."""
    shown = _ci(project, "generate", "gitlab", "--stdout")
    assert shown.returncode == 0, shown.stderr
    assert "\ndocs:\n  stage: build\n" in shown.stdout
    assert "nox --no-dependencies -s docs" in shown.stdout
    assert _ci(project, "generate").returncode == 0
    checked = _ci(project, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr

    # a new session in the noxfile: drift, blamed on the noxfile
    with (project / "noxfile.py").open("a", encoding="utf-8") as fh:
        fh.write(
            "\n\nimport nox\n\n\n@nox.session(python=False)\ndef spelling(session):\n"
            '    """Check the spelling."""\n    session.run("true")\n'
            "\n\n@nox.session(python=False, default=False)\ndef scratch(session):\n"
            '    """On demand only: not a CI job."""\n'
        )
    drift = _ci(project, "check")
    assert drift.returncode == 1, drift.stdout
    assert (
        ".gitlab-ci.yml is out of date: the stages declared in noxfile.py changed" in drift.stdout
    )
    assert "+spelling:" in drift.stdout and "scratch" not in drift.stdout
    assert "[tool.noxops" not in drift.stdout.split("changed since")[0]

    # placed by [tool.noxops.ci] stages: drift blamed on that table
    assert _ci(project, "generate").returncode == 0
    with (project / "pyproject.toml").open("a", encoding="utf-8") as fh:
        fh.write('\n[tool.noxops.ci]\nstages = { spelling = "tests" }\n')
    drift = _ci(project, "check")
    assert drift.returncode == 1, drift.stdout
    assert ".gitlab-ci.yml is out of date: [tool.noxops.ci] changed since" in drift.stdout
    assert "noxfile.py" not in drift.stdout.split("changed since")[0]
    assert _ci(project, "generate").returncode == 0
    text = (project / ".gitlab-ci.yml").read_text(encoding="utf-8")
    assert "\nspelling:\n  stage: tests\n" in text

    # a table that does not change the pipeline: no drift
    with (project / "pyproject.toml").open("a", encoding="utf-8") as fh:
        fh.write("\n[tool.noxops.tests]\nfail_under = 10\n")
    assert _ci(project, "check").returncode == 0


def test_a_noxfile_that_fails_to_load_is_one_clear_line(project: Path) -> None:
    with (project / "noxfile.py").open("a", encoding="utf-8") as fh:
        fh.write('\nraise RuntimeError("not today")\n')
    failed = _ci(project, "check")
    assert failed.returncode == 2
    assert "noxfile.py could not be loaded (line 14): RuntimeError: not today" in failed.stderr
    assert "Traceback" not in failed.stderr
