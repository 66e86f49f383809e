"""A stage declared in one module of a project reaches every part of noxops.

``tests/fixtures/toy_stage_project/docs_stage.py`` declares a ``docs`` stage (its settings
table, what it reads, the files it writes, among them a kind of findings file of its own with
its reader, its CI stage) and nothing else in noxops is told about it: real nox lists and
runs it and checks its table, the report reads its findings and gates on them,
``--changed-only`` skips it while the folders its table names are unchanged, the
configuration reference documents its table, and the CI model places it, publishes its
report and takes its timeout from its table.
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
from noxops.commands.reference import render
from noxops.config import load
from noxops.reports.outputs import KINDS
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
    assert "* docs -> Check that every page has a title." in listed.output

    # its table is checked as noxops's own are: a misspelt one is one line
    pyproject = project / "pyproject.toml"
    good = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(good.replace("[tool.noxops.docs]", "[tool.noxops.dcos]"), "utf-8")
    typo = run_nox(project, "-l")
    assert typo.returncode != 0, typo
    assert "tool.noxops.dcos: unknown key; did you mean 'docs'?" in typo.output, typo
    assert "Traceback" not in typo.output
    pyproject.write_text(good, encoding="utf-8")

    run = run_nox(project, "-s", "docs", "report")
    assert "Session docs was successful" in run.output, run
    assert "docs: 3 page(s), 0 without a title" in run.output
    docs = _checks(project)["docs"]
    assert (docs["status"], docs["summary"]) == ("passed", "no docs findings")
    assert docs["metrics"] == {"findings": 0}

    (project / "docs" / "usage.md").write_text("no title here\n", encoding="utf-8")
    failed = run_nox(project, "-s", "docs", "report")
    assert failed.returncode != 0, failed
    docs = _checks(project)["docs"]
    assert docs["status"] == "failed"
    assert str(docs["summary"]).startswith("1 docs finding(s); session failed: docs: 1 page(s)")
    found = [(f["tool"], f["rule"], f["path"], f["message"]) for f in docs["findings"]]  # type: ignore[attr-defined]
    assert found == [("docs", "untitled", "docs/usage.md", "docs/usage.md has no title")]


def test_changed_only_skips_the_toy_stage_until_its_inputs_change(project: Path) -> None:
    first = run_nox(project, "-s", "docs", "--", "--changed-only")
    assert "docs: 3 page(s), 0 without a title" in first.output, first
    again = run_nox(project, "-s", "docs", "--", "--changed-only")
    assert "docs is up to date" in again.output, again
    assert "docs: 3 page(s)" not in again.output
    # A file outside its inputs (the folders its table names) changes nothing; one inside
    # guides/, which only [tool.noxops.docs] paths names, does.
    (project / "src" / "calc" / "extra.py").write_text("X = 1\n", encoding="utf-8")
    assert "docs is up to date" in run_nox(project, "-s", "docs", "--", "--changed-only").output
    (project / "guides" / "more.md").write_text("# More\n", encoding="utf-8")
    rerun = run_nox(project, "-s", "docs", "--", "--changed-only")
    assert "docs: 4 page(s), 0 without a title" in rerun.output, rerun


def _import(project: Path, name: str) -> None:
    """Run the toy module as ``name``, as the noxfile imports it (a dataclass needs its
    module in sys.modules)."""
    spec = importlib.util.spec_from_file_location(name, project / "docs_stage.py")
    assert spec is not None and spec.loader is not None
    sys.modules[name] = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(sys.modules[name])
    finally:
        del sys.modules[name]


@pytest.fixture
def declared(project: Path) -> Iterator[None]:
    """The toy module imported here as the noxfile imports it; its stage and kind removed
    after."""
    _import(project, "docs_stage")
    try:
        yield
    finally:
        STAGES.unregister("docs")
        KINDS.unregister("docs-untitled")


@pytest.mark.usefixtures("declared")
def test_the_ci_model_places_the_toy_stage_from_its_declaration(project: Path) -> None:
    config = load(project)
    pipeline = build_pipeline(config, STAGES.for_config(config))
    docs = pipeline.job("docs")
    assert docs.stage == "build"
    assert [(r.kind, r.path) for r in docs.reports] == [("junit", "reports/junit-docs.xml")]
    assert docs.nox_argv() == ["nox", "--no-dependencies", "-s", "docs"]
    assert docs.timeout_minutes == 4 + 10  # [tool.noxops.docs] timeout = 240, plus set-up
    assert "docs" in pipeline.job("report").needs


@pytest.mark.usefixtures("declared")
def test_the_reference_documents_the_toy_stage_s_table() -> None:
    text = render()
    assert "## `[tool.noxops.docs]`\n\nThe `docs` session (every page has a title).\n" in text
    assert '| `paths` | a list of strings | `["docs"]` | Folders whose *.md pages' in text
    assert '| `title` | a string | `"# "` | What the first line of a page starts with. |' in text


@pytest.mark.usefixtures("declared")
def test_a_second_declaration_of_a_name_is_refused(project: Path) -> None:
    with pytest.raises(ValueError, match="report file kind 'docs-untitled' is already declared"):
        _import(project, "docs_again")
    KINDS.unregister("docs-untitled")
    with pytest.raises(ValueError, match="stage 'docs' is already declared"):
        _import(project, "docs_again")


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
    job = shown.stdout.split("\ndocs:\n", 1)[1].split("\n\n", 1)[0]
    assert "\n  timeout: 14m\n" in f"{job}\n"  # from its table: timeout = 240
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
