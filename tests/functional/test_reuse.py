"""Real nox runs: warm reuse that stays correct, --changed-only, and nox -j.

Each test copies the clean fixture project, runs nox cold once (uv's cache makes that a few
seconds) and then checks what later runs did from their output and the environments.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytest.importorskip("nox")

from support.noxrun import NoxRun, installed, matrix_project, run_nox, sections

from noxops.project import interpreters

OTHER = "3.12"  # the second Python of the matrix; the suite itself runs on 3.11

pytestmark = pytest.mark.skipif(
    interpreters.find("3.11") is None or interpreters.find(OTHER) is None,
    reason=f"needs Python 3.11 and {OTHER} on this machine",
)


def _ok(run: NoxRun) -> NoxRun:
    assert run.returncode == 0, str(run)
    return run


SESSIONS = ("-s", "lint", "tests")


def test_warm_runs_install_nothing_and_changes_reinstall_exactly_what_they_affect(
    tmp_path: Path,
) -> None:
    project = matrix_project(tmp_path, OTHER)
    cold = _ok(run_nox(project, *SESSIONS, env={"NOXOPS_PREPARE_AHEAD": "0"}))
    assert installed(cold) == {"lint", "tests-3.11", f"tests-{OTHER}"}
    assert "in the background" not in cold.output

    warm = _ok(run_nox(project, *SESSIONS))
    assert installed(warm) == set(), str(warm)
    assert "recreating" not in warm.output
    assert "preparing the environments" not in warm.output  # they all exist
    for name, text in sections(warm).items():
        assert "noxops: environment up to date, skipped: install" in text, name

    # A new requirement in the test group: both test environments, not lint's.
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('["pytest"]', '["pytest", "attrs"]'))
    changed = _ok(run_nox(project, *SESSIONS))
    assert installed(changed) == {"tests-3.11", f"tests-{OTHER}"}, str(changed)
    assert "what this environment installs changed; recreating it" in changed.output
    _ok(run_nox(project, "-s", f"tests-{OTHER}"))
    # Removing it again must not leave it behind (a stale dependency would).
    site = next((project / ".nox" / "tests-3-11" / "lib").glob("python*/site-packages"))
    assert list(site.glob("attrs-*.dist-info"))
    pyproject.write_text(pyproject.read_text().replace('["pytest", "attrs"]', '["pytest"]'))
    removed = _ok(run_nox(project, "-s", "tests-3.11"))
    assert installed(removed) == {"tests-3.11"}
    assert not list(site.glob("attrs-*.dist-info"))  # no stale dependency left behind

    # Another interpreter for the tools: lint's environment is rebuilt on it.
    pyproject.write_text(pyproject.read_text().replace('tools_python = "3.11"',
                                                       f'tools_python = "{OTHER}"'))  # fmt: skip
    moved = _ok(run_nox(project, "-s", "lint"))
    assert installed(moved) == {"lint"}, str(moved)
    cfg = (project / ".nox" / "lint" / "pyvenv.cfg").read_text()
    assert re.search(rf"version_info = {re.escape(OTHER)}\.", cfg), cfg
    again = _ok(run_nox(project, "-s", "lint"))
    assert installed(again) == set()
    # -R (reuse, no install) uses the environment as it is, even a stale one.
    pyproject.write_text(pyproject.read_text().replace(f'tools_python = "{OTHER}"',
                                                       'tools_python = "3.11"'))  # fmt: skip
    as_is = _ok(run_nox(project, "-R", "-s", "lint"))
    assert "recreating" not in as_is.output and installed(as_is) == set()
    assert f"version_info = {OTHER}." in (project / ".nox" / "lint" / "pyvenv.cfg").read_text()


def test_changed_only_reports_up_to_date_and_reruns_after_an_edit(tmp_path: Path) -> None:
    project = matrix_project(tmp_path, OTHER)
    _ok(run_nox(project, "-s", "lint", "tests-3.11"))
    quiet = _ok(run_nox(project, "-s", "lint", "tests-3.11", "--", "--changed-only"))
    for name in ("lint", "tests-3.11"):
        assert f"noxops: {name} is up to date" in quiet.output, str(quiet)
        key = (project / "reports" / "fingerprints" / f"{name}.txt").read_text().strip()
        assert f"fingerprint of {name}: {key}" in quiet.output
    assert "coverage run" not in quiet.output and "black --check" not in quiet.output

    source = next((project / "src").rglob("*.py"))
    source.write_text(source.read_text() + "\n\nEDITED = True\n")
    edited = _ok(run_nox(project, "-s", "lint", "tests-3.11", "--", "--changed-only"))
    assert "noxops: lint runs: its inputs changed" in edited.output, str(edited)
    assert "noxops: tests-3.11 runs: its inputs changed" in edited.output
    assert "coverage run" in edited.output and "black --check" in edited.output
    assert "--changed-only" not in sections(edited)["tests-3.11"].split("coverage run", 1)[1]

    docs = project / "NOTES.md"  # a new top-level file: both may read it
    docs.write_text("notes\n")
    env_run = _ok(run_nox(project, "-s", "lint", "tests-3.11", env={"NOXOPS_CHANGED_ONLY": "1"}))
    assert "noxops: lint runs" in env_run.output
    settled = _ok(run_nox(project, "-s", "lint", env={"NOXOPS_CHANGED_ONLY": "1"}))
    assert "noxops: lint is up to date" in settled.output


def test_parallel_runs_lint_and_tests_together_with_whole_blocks(tmp_path: Path) -> None:
    project = matrix_project(tmp_path, OTHER)
    _ok(run_nox(project, *SESSIONS))  # cold, sequential: environments ready
    run = _ok(run_nox(project, "-j", "2", *SESSIONS))
    lines = run.output.splitlines()
    first_block = next(i for i, line in enumerate(lines) if line.startswith("=========="))
    started = [line for line in lines[:first_block] if line.startswith("Starting session")]
    assert len(started) == 2, str(run)  # two sessions were running at once
    blocks = re.split(r"^========== \S+ (\S+): \w+.*=+$", run.output, flags=re.MULTILINE)
    seen = {}
    for i in range(1, len(blocks) - 1, 2):
        seen[blocks[i]] = blocks[i + 1]
    assert set(seen) == {"lint", "tests-3.11", f"tests-{OTHER}"}, str(run)
    for name, text in seen.items():
        # Each block is that session's output alone, in one piece.
        assert f"Running session {name}" in text
        others = {"lint", "tests-3.11", f"tests-{OTHER}"} - {name}
        assert not any(f"Running session {o}\n" in text for o in others), text
    assert "black --check" in seen["lint"] and "coverage run" not in seen["lint"]
    assert f"junit-{OTHER}.xml" in seen[f"tests-{OTHER}"]
    assert "junit-3.11.xml" not in seen[f"tests-{OTHER}"]

    # Every session's record keeps its own report files, not those its neighbours wrote.
    records = project / "reports" / "fingerprints"
    lint = json.loads((records / "lint.json").read_text())
    assert lint["outputs"] == ["ruff.json"], lint["outputs"]
    other = json.loads((records / f"tests-{OTHER}.json").read_text())
    assert all("3.11" not in name for name in other["outputs"]), other["outputs"]

    # The next parallel run starts the longest sessions first, by their recorded durations
    # (set here so that the order is known: lint is first in the queue and the shortest).
    for name, seconds in (("lint", 1.0), ("tests-3.11", 9.0), (f"tests-{OTHER}", 5.0)):
        path = records / f"{name}.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), "seconds": seconds}))
    again = _ok(run_nox(project, "-j", "2", *SESSIONS))
    assert (
        "noxops: starting the longest sessions first, by their last runs: "
        f"tests-3.11 9.0s, tests-{OTHER} 5.0s, lint 1.0s"
    ) in again.output, str(again)
    started = re.findall(r"^Starting session (\S+?)\.\.\.", again.output, flags=re.MULTILINE)
    assert started[:2] == ["tests-3.11", f"tests-{OTHER}"], started
    summary = re.findall(r"^nox > \* (\S+):", again.output, flags=re.MULTILINE)
    assert summary == ["lint", "tests-3.11", f"tests-{OTHER}"], summary  # queue order

    kept = _ok(run_nox(project, "-j", "2", *SESSIONS, env={"NOXOPS_LONGEST_FIRST": "0"}))
    assert "longest sessions first" not in kept.output
    started = re.findall(r"^Starting session (\S+?)\.\.\.", kept.output, flags=re.MULTILINE)
    assert started[0] == "lint", started
