"""Real nox runs of the foundation stages on fixture projects (issue: noxops foundation).

One clean project, where every session passes on every matrix Python, and one broken
project with a lint error, a type error, a bandit finding and a failing test, where each
session fails for its own reason.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import psutil
import pytest
from support.noxrun import copy_fixture, run_nox, set_noxops

from noxops.project import interpreters

pytestmark = pytest.mark.slow

MATRIX = ["3.9", "3.10", "3.11", "3.12"]


def _sessions_listed(project: Path) -> list[str]:
    run = run_nox(project, "--json", "-l")
    assert run.returncode == 0, run
    data = json.loads(run.output[run.output.index("[") :])
    return [entry["session"] for entry in data]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_fixture("clean_project", tmp_path_factory.mktemp("clean"))


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_fixture("broken_project", tmp_path_factory.mktemp("broken"))


def test_five_line_noxfile_registers_the_pipeline(clean: Path) -> None:
    assert len((clean / "noxfile.py").read_text().splitlines()) <= 5
    # --json -l lists the sessions a plain `nox` runs, in order (later stages, such as the
    # report, come after these).
    foundation = ["lint", "type", "security", *[f"tests-{py}" for py in MATRIX], "coverage"]
    listed = _sessions_listed(clean)
    assert [name for name in listed if name in foundation] == foundation
    assert listed[: len(foundation)] == foundation
    listing = run_nox(clean, "-l").output
    assert "- fmt -> Apply fixes" in listing  # registered, not run by default
    assert "* type -> Type-check with mypy" in listing


def test_clean_project_passes_the_whole_pipeline_on_every_python(clean: Path) -> None:
    missing = [v for v, i in interpreters.find_all(MATRIX).items() if i is None]
    if missing:
        pytest.skip(f"Python {', '.join(missing)} not installed on this machine")
    run = run_nox(clean, ci=True)  # CI: a missing interpreter would be an error, not a skip
    assert run.returncode == 0, run
    for session in ["lint", "type", "security", *[f"tests-{py}" for py in MATRIX], "coverage"]:
        assert re.search(rf"\* {re.escape(session)}: success", run.output), run
    for py in MATRIX:  # each matrix session really ran on its own interpreter
        junit = (clean / "reports" / f"junit-{py}.xml").read_text()
        assert 'tests="3"' in junit and 'failures="0"' in junit
        assert (clean / "reports" / f"coverage-{py}.xml").is_file()
        assert not (clean / "reports" / f"htmlcov-{py}").exists()  # HTML: combined only
        assert f"Python {py}" in run.output or f"python{py}" in run.output
    assert (clean / "reports" / "coverage.xml").is_file()
    assert (clean / "reports" / "htmlcov" / "index.html").is_file()
    assert "TOTAL" in run.output
    assert json.loads((clean / "reports" / "audit.json").read_text())["status"] == "not-audited"
    assert "NOT AUDITED" in run.output


def test_lint_fails_with_file_and_line(broken: Path) -> None:
    run = run_nox(broken, "-s", "lint")
    assert run.returncode == 1, run
    assert re.search(r"src/broken/__init__\.py:5:\d+: F401", run.output), run
    assert "lint failed: ruff" in run.output
    findings = json.loads((broken / "reports" / "ruff.json").read_text())
    assert [f["code"] for f in findings] == ["F401"]


def test_type_fails_on_the_type_error(broken: Path) -> None:
    run = run_nox(broken, "-s", "type")
    assert run.returncode == 1, run
    assert re.search(r"src/broken/__init__\.py:10: error: Incompatible return value", run.output)
    # No target forced over the environment (issue 24): mypy checks for the Python it runs
    # on, whose environment is made for it, and the log says which and why.
    assert "--python-version" not in run.output
    assert re.search(r"type: mypy .*target Python 3\.\d+ \(", run.output), run.output


def test_security_fails_on_the_bandit_finding(broken: Path) -> None:
    run = run_nox(broken, "-s", "security")
    assert run.returncode == 1, run
    assert re.search(r"src/broken/__init__\.py:14: B602", run.output), run
    assert re.search(r"src/broken/__init__\.py:6: B404", run.output), run
    assert "bandit: 2 finding(s)" in run.output
    assert "NOT AUDITED" in run.output  # still reported, never as "no known vulnerabilities"


def test_unaudited_dependencies_fail_unless_allowed(broken: Path) -> None:
    pyproject = broken / "pyproject.toml"
    original = pyproject.read_text()
    pyproject.write_text(
        original.replace("allow_unaudited = true", "bandit_args = ['-s', 'B404,B602']")
    )
    try:
        run = run_nox(broken, "-s", "security")
    finally:
        pyproject.write_text(original)
    assert run.returncode == 1, run
    assert "bandit: no findings" in run.output
    assert "dependencies were not audited" in run.output
    assert "no known vulnerabilities" not in run.output.lower()


def test_tests_fail_on_the_failing_test(broken: Path) -> None:
    run = run_nox(broken, "-s", "tests-3.11")
    assert run.returncode == 1, run
    assert "FAILED tests/unit/test_broken.py::test_greeting_fails" in run.output
    assert 'failures="1"' in (broken / "reports" / "junit-3.11.xml").read_text()


def test_coverage_gate(clean: Path) -> None:
    run = run_nox(clean, "-s", "tests-3.11")
    assert run.returncode == 0, run
    pyproject = clean / "pyproject.toml"
    original = pyproject.read_text()
    # The gate reads [tool.noxops.tests] fail_under; 100.5 is invalid, 100 passes, and a
    # project whose code is half untested fails it.
    (clean / "src" / "calc" / "extra.py").write_text(
        "def unused(x: int) -> int:\n    if x:\n        return 1\n    return 2\n"
    )
    pyproject.write_text(original + "\n[tool.noxops.tests]\nfail_under = 95\n")
    try:
        assert run_nox(clean, "-s", "tests-3.11").returncode == 0
        gated = run_nox(clean, "-s", "coverage", "--no-dependencies")
    finally:
        pyproject.write_text(original)
        (clean / "src" / "calc" / "extra.py").unlink()
    assert gated.returncode == 1, gated
    assert "fail-under=95" in gated.output
    assert re.search(r"Coverage failure: total of \d+ is less than fail-under=95", gated.output)


def test_configuration_error_is_one_clear_message(tmp_path: Path) -> None:
    project = copy_fixture("clean_project", tmp_path)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n[tool.noxops.tests]\nfail_undr = 90\n")
    run = run_nox(project, "-l")
    assert run.returncode != 0
    assert "Traceback" not in run.output
    assert f"{pyproject}: tool.noxops.tests.fail_undr: unknown key; did you mean 'fail_under'?" in (
        run.output
    )


def test_missing_interpreter_is_skipped_locally_and_an_error_in_ci(tmp_path: Path) -> None:
    project = copy_fixture("clean_project", tmp_path)
    set_noxops(project, 'python = ["3.11", "3.42"]')
    local = run_nox(project, "-s", "tests")
    assert local.returncode == 0, local
    assert "Python 3.42 not found on this machine" in local.output
    assert re.search(r"tests-3\.42: skipped", local.output), local
    in_ci = run_nox(project, "-s", "tests-3.42", ci=True)
    assert in_ci.returncode == 1, in_ci
    assert "3.42" in in_ci.output


def test_stage_timeout_stops_the_stage_and_its_processes(tmp_path: Path) -> None:
    project = copy_fixture("clean_project", tmp_path)
    (project / "tests" / "unit" / "test_slow.py").write_text(
        "import subprocess\n\n\ndef test_slow() -> None:\n"
        "    subprocess.run(['sleep', '313'], check=True)\n"
    )
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n[tool.noxops.tests]\ntimeout = 8\n")
    started = time.monotonic()
    run = run_nox(project, "-s", "tests-3.11")
    elapsed = time.monotonic() - started
    assert run.returncode == 1, run
    assert "tests timed out after 8s" in run.output, run
    assert elapsed < 120
    leftovers = [
        p.info["pid"]
        for p in psutil.process_iter(["pid", "cmdline"])
        if p.info["cmdline"] and p.info["cmdline"][:2] == ["sleep", "313"]
    ]
    assert leftovers == []
