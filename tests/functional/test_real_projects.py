"""Real project shapes (issue 15): noxops follows each project's own tools and settings.

Each test runs real nox on a copy of a fixture shaped like a project noxops was tried on: a
library formatted with ruff (``fix = true``, pinned tools, mypy ``files``, pytest
``testpaths``), a service described by requirements files, a Poetry project.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support.noxrun import NoxRun, copy_fixture, run_nox, sections

from noxops.runtime import distribution

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
    # an unused and an unsorted import: both fixable, and fixed by a plain `ruff check`
    (ruff_project / "src" / "textkit" / "paths.py").write_text(
        "import sys\nimport os\n\n\ndef separator() -> str:\n    return os.sep\n"
    )
    _git(ruff_project, "add", "-A")
    _git(ruff_project, "commit", "-qm", "unused imports")
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
    environment gets the test group, not the dev group (tox, ruff), and pytest once.
    Issue 24's corpus shape (blinker, click): with pytest's `filterwarnings = ["error"]` and
    3.13 in its classifiers the library passes on 3.13 too, where a warning noxops's plugin or
    coverage left behind would be an error."""
    pyproject = ruff_project / "pyproject.toml"
    text = pyproject.read_text()
    text = text.replace(
        '"Programming Language :: Python :: 3.11",\n',
        '"Programming Language :: Python :: 3.11",\n  "Programming Language :: Python :: 3.13",\n',
    ).replace('testpaths = ["tests"]\n', 'testpaths = ["tests"]\nfilterwarnings = ["error"]\n')
    pyproject.write_text(text)
    assert text.count("3.13") == 1 and "filterwarnings" in text, text
    _git(ruff_project, "commit", "-qam", "3.13, warnings are errors")
    run = run_nox(ruff_project, "-s", "tests-3.11", "tests-3.13", "--", "-k", "read")
    assert run.returncode == 0, run
    assert re.search(r"-m pytest .* tests -k read", run.output), run
    parts = sections(run)
    for python in ("3.11", "3.13"):
        assert "2 passed, 1 deselected" in parts[f"tests-{python}"], parts[f"tests-{python}"]
    install = next(line for line in run.output.splitlines() if "uv pip install" in line)
    assert "tox" not in install and "ruff" not in install, install
    assert len(re.findall(r"\bpytest\b", install)) == 1, install
    # per-Python coverage: XML only; the HTML report is the combined one's
    assert (ruff_project / "reports" / "coverage-3.11.xml").is_file()
    # written at the end of the pytest run, in its process: no second interpreter for it
    assert "noxops_coverage.py xml" not in run.output, run
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


@pytest.fixture
def service(tmp_path: Path) -> Path:
    return _committed(copy_fixture("requirements_service", tmp_path))


def _noxops(project: Path, *args: str, env: dict[str, str] | None = None) -> NoxRun:
    full_env = {k: v for k, v in os.environ.items() if k not in {"CI", "GITHUB_ACTIONS"}}
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "noxops", *args],
        cwd=project,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    return NoxRun(proc.returncode, proc.stdout)


def test_requirements_project_tests_and_integration(service: Path) -> None:
    """Findings #8, #9, #11 and #3: a project without [project] installs its requirements
    files (no `pip install .`); integration starts the services its requirements name, hands
    the database URL on under the name its tests read and the project's scheme (found, not
    configured: issue 24), and `-- -k` keeps the path."""
    run = run_nox(service, "-s", "tests-3.11", "integration", "--", "-k", "add_note or norm")
    assert run.returncode == 0, run
    parts = sections(run)
    assert "-r requirements.txt" in parts["tests-3.11"], parts["tests-3.11"]
    assert "-r requirements-dev.txt" in parts["tests-3.11"], parts["tests-3.11"]
    assert "-e ." not in run.output and "flat-layout" not in run.output, run
    assert "1 passed, 1 deselected" in parts["tests-3.11"], parts["tests-3.11"]
    integration = parts["integration"]
    assert "services: postgres, redis (inferred from the project" in integration, integration
    # finding #2: the environment gets the noxops running nox (here: this checkout)
    assert f" {distribution.requirement()} " in integration, integration
    assert "tests/integration -k 'add_note or norm'" in integration, integration
    assert "tests/unit -k 'add_note or norm'" in parts["tests-3.11"], parts["tests-3.11"]
    assert "1 passed, 1 deselected" in integration, integration
    # issue 24: no [tool.noxops.integration.env] key: the name the tests read is set anyway,
    # at the short scheme the project's compose file gives its database URL
    assert "set from the services too: DATABASE_TEST_URL" in integration, integration


@pytest.mark.docker
def test_requirements_project_build_and_smoke(service: Path) -> None:
    """Findings #10 and #5: without a .dockerignore the image gets no .nox/ or reports/ and
    nothing is written into the project; smoke starts an image without CMD with the
    configured command, and does not load the parent tests/conftest.py (which imports the
    application, absent from the smoke environment)."""
    (service / "reports").mkdir()
    (service / "reports" / "old.xml").write_text("<x/>")
    run = run_nox(service, "-s", "build", "smoke", timeout=900)
    assert run.returncode == 0, run
    assert "no .dockerignore: building from a copy of the context" in run.output, run
    assert "1 passed" in sections(run)["smoke"], run
    assert not (service / ".dockerignore").exists()
    assert not (service / "Dockerfile.dockerignore").exists()
    manifest = json.loads((service / "reports" / "build-manifest.json").read_text())
    listing = subprocess.run(
        ["docker", "run", "--rm", manifest["image_id"], "ls", "-a", "/srv"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "app" in listing and "requirements.txt" in listing
    assert not {".nox", "reports", ".git"} & set(listing), listing
    subprocess.run(
        ["docker", "image", "rm", "-f", manifest["image_id"]], capture_output=True, check=False
    )


def test_doctor_says_how_the_project_and_noxops_are_installed(service: Path) -> None:
    """Findings #8 and #2: doctor describes the install, and fails when
    NOXOPS_REQUIREMENT points nowhere (integration and smoke could not install noxops)."""
    good = _noxops(service, "doctor")
    assert "no build system: its dependencies come from requirements.txt" in good.output, good
    assert re.search(r"noxops for sessions\s+integration and smoke install \S+", good.output)
    bad = _noxops(service, "doctor", env={"NOXOPS_REQUIREMENT": "/nowhere/noxops.whl"})
    assert bad.returncode == 1, bad
    assert re.search(r"FAIL\s+noxops for sessions .*/nowhere/noxops.whl does not exist", bad.output)
    (service / "requirements.txt").unlink()
    (service / "requirements-dev.txt").unlink()
    none = _noxops(service, "doctor")
    assert re.search(r"warn\s+project install\s+neither a build system", none.output), none


def test_init_reads_requirements_and_compose(service: Path) -> None:
    """Finding #11: services declared in requirements.txt and docker-compose.yml; reports/
    and .nox/ added to .gitignore; --dry-run prints only what it adds."""
    pyproject = service / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(text[: text.index("[tool.noxops]")])
    (service / "noxfile.py").unlink()
    (service / ".gitignore").write_text("__pycache__/\n")
    (service / "requirements.txt").write_text("psycopg2-binary==2.9.9\n")  # no imports to see
    for module in ["db.py"]:
        (service / "app" / module).unlink()
    (service / "tests" / "integration" / "test_storage.py").unlink()

    dry = _noxops(service, "init", "--dry-run")
    assert dry.returncode == 0, dry
    assert "services postgres, redis" in dry.output, dry
    assert "line-length" not in dry.output, dry  # the project's own table is not reprinted
    assert "would add to" in dry.output and ".nox/" in dry.output, dry
    assert (service / ".gitignore").read_text() == "__pycache__/\n"

    done = _noxops(service, "init")
    assert done.returncode == 0, done
    assert (service / ".gitignore").read_text().splitlines() == [
        "__pycache__/",
        ".nox/",
        "reports/",
    ]
    table = pyproject.read_text()
    assert 'services = ["postgres", "redis"]' in table and "line-length = 100" in table


def test_poetry_project_installs_through_its_backend(tmp_path: Path) -> None:
    """Finding #8: a Poetry project is installed with poetry-core, its test group translated;
    lint follows its black and isort at the versions its dev group pins (finding #7). Issue
    #24 items 2 and 3: what its poetry.lock pins is installed (pytest 8.2.0 where ^8.0 would
    resolve to a newer one), and type runs the mypy of its lock with its typing group."""
    project = copy_fixture("poetry_project", tmp_path)
    run = run_nox(project, "-s", "tests-3.11", "lint", "type")
    assert run.returncode == 0, run
    parts = sections(run)
    assert re.search(r"install -e \. '?pytest>=8\.0,<9'? ", parts["tests-3.11"]), run
    assert "2 passed" in parts["tests-3.11"], run
    assert ", pytest-8.2.0," in parts["tests-3.11"], run  # pytest's header: the locked one
    assert "black==24.8.0" in parts["lint"] and "isort==5.13.2" in parts["lint"], run
    assert "type: mypy 1.11.2 (poetry.lock)" in parts["type"], parts["type"]
    assert "groups: test, typing" in parts["type"], parts["type"]
    site = next((project / ".nox" / "type" / "lib").glob("python3.*/site-packages"))
    assert (site / "mypy-1.11.2.dist-info").is_dir(), sorted(p.name for p in site.iterdir())
