"""Issue 24 items 2 and 3: the type stage checks what the project checks, and the sessions
install what the project's lock pins. The lock files are real: made by ``uv lock``,
``poetry lock`` and ``pdm lock`` (each first locked with exact pins, then the pins loosened
and locked again, so the lock holds older releases than the newest ones its ranges allow)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from noxops.ci.model import build_pipeline
from noxops.config import load
from noxops.errors import ConfigError
from noxops.project import locks, tools
from noxops.reports.collect import build_report
from noxops.stages import STAGES
from noxops.stages.base import project_install
from noxops.stages.typecheck import mypy_target, type_env, type_groups

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
UV_PROJECT = FIXTURES / "uvlock_project"
POETRY_PROJECT = FIXTURES / "poetry_project"


def _pins(lock: locks.Lock) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for pin in lock.pins:
        found.setdefault(pin.name, []).append(pin.line())
    return found


def test_uv_lock_pins_every_release_with_its_fork_markers() -> None:
    lock = locks.read(UV_PROJECT)
    assert lock is not None and lock.file == "uv.lock"
    pins = _pins(lock)
    # the ranges in pyproject.toml allow newer releases (six 1.17, mypy 2.x): the lock's win
    assert pins["six"] == ["six==1.16.0"]
    assert pins["mypy"] == ["mypy==1.11.2"]
    assert pins["types-six"] == ["types-six==1.16.21.20240513"]
    # uv locked two packaging releases, one per Python range: both, with their markers
    assert pins["packaging"] == [
        "packaging==26.3 ; python_full_version < '3.10'",
        "packaging==26.4 ; python_full_version >= '3.10'",
    ]
    assert lock.version("packaging", "3.9") == "26.3"
    assert lock.version("packaging", "3.11") == "26.4"
    assert lock.version("six", "3.9") == lock.version("six", "3.13") == "1.16.0"
    assert lock.version("flask") is None
    # the project itself (source = { editable = "." }) is no release to constrain
    assert "notes-service" not in pins


def test_poetry_and_pdm_locks() -> None:
    poetry = locks.read(POETRY_PROJECT)
    assert poetry is not None and poetry.file == "poetry.lock"
    assert poetry.version("pytest") == "8.2.0"  # pyproject allows ^8.0
    assert poetry.version("mypy") == "1.11.2"
    assert poetry.version("Black") == "24.8.0"  # names compare normalized
    pdm = locks.read(FIXTURES / "lock_files" / "pdm")
    assert pdm is not None and pdm.file == "pdm.lock"
    assert _pins(pdm)["tomli"] == ["tomli==2.0.1"]
    assert pdm.version("ruff") == "0.6.9" and pdm.version("six") == "1.16.0"


def test_a_lock_that_cannot_be_read_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "uv.lock").write_text("version = 1\n[[package]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"uv\.lock: \(file\): is not valid TOML"):
        locks.read(tmp_path)
    assert locks.read(tmp_path / "nowhere") is None


def test_installs_are_constrained_by_the_lock(tmp_path: Path) -> None:
    config = load(UV_PROJECT)
    args = project_install(config, "pytest", groups=["test"])
    assert args[-2] == "-c", args
    constraints = Path(args[-1])
    assert constraints.read_text(encoding="utf-8") == locks.read(UV_PROJECT).constraints()  # type: ignore[union-attr]
    # the same pins are the same file (the environment's fingerprint changes only with them)
    assert project_install(config, groups=["typing"])[-1] == str(constraints)
    # the Poetry project too; a project without a lock is not constrained
    assert "-c" in project_install(load(POETRY_PROJECT), groups=["test"])
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "plain"\n', encoding="utf-8")
    assert "-c" not in project_install(load(tmp_path))


def test_tools_take_the_locked_version(tmp_path: Path) -> None:
    # pyproject.toml says mypy>=1.10 (the newest would be 2.x): the lock says 1.11.2
    config = load(UV_PROJECT)
    assert tools.pin(config, "mypy") == ("mypy==1.11.2", "uv.lock")
    assert tools.requirement(config, "mypy") == "mypy==1.11.2"
    poetry = load(POETRY_PROJECT)
    assert tools.pin(poetry, "black") == ("black==24.8.0", "poetry.lock")
    assert tools.requirement(poetry, "pytest") == "pytest==8.2.0"


def test_type_installs_the_typing_group_with_the_locked_mypy() -> None:
    config = load(UV_PROJECT)
    assert type_groups(config) == ["test", "typing"]
    (install,) = type_env(config, "3.11")
    assert install[:2] == ("-e", ".")
    assert "types-six" in install and "pytest>=8" in install
    # mypy is asked for once, as its group says (mypy>=1.10); the lock's constraint pins it
    assert [a for a in install if a.startswith("mypy")] == ["mypy>=1.10"], install
    assert install[-2] == "-c" and "mypy==1.11.2\n" in Path(install[-1]).read_text()
    # Poetry's typing group too; a catch-all dev group that only includes the typing group
    # (and tox, ruff) brings nothing more for mypy
    assert type_groups(load(POETRY_PROJECT)) == ["test", "typing"]
    assert type_groups(load(FIXTURES / "ruff_project")) == ["test", "typing"]


def test_a_typing_group_is_found_by_what_it_holds_and_the_hooks_stubs_come(
    tmp_path: Path,
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "svc"\n[dependency-groups]\ntests = ["pytest"]\n'
        'checks = ["types-requests"]\ndocs = ["sphinx"]\n',
        encoding="utf-8",
    )
    (tmp_path / ".pre-commit-config.yaml").write_text(
        "repos:\n  - repo: https://github.com/pre-commit/mirrors-mypy\n    rev: v1.13.0\n"
        "    hooks:\n      - id: mypy\n"
        "        additional_dependencies: [types-PyYAML, 'pydantic>=2']\n",
        encoding="utf-8",
    )
    config = load(tmp_path)
    assert type_groups(config) == ["tests", "checks"]
    (install,) = type_env(config, "3.12")
    # mypy comes from the hook: so do the stubs the hook installs for it
    assert install[-3:] == ("mypy==1.13.0", "types-PyYAML", "pydantic>=2"), install


def test_mypy_targets_the_projects_python_version_else_the_python_it_runs_on(
    tmp_path: Path,
) -> None:
    assert mypy_target(load(UV_PROJECT), "3.11") == ("3.10", "[tool.mypy] python_version")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "lib"\n[tool.noxops]\npython = ["3.9", "3.12"]\n', encoding="utf-8"
    )
    target, why = mypy_target(load(tmp_path), "3.12")
    assert target == "3.12" and "the Python mypy runs on" in why  # never the matrix's 3.9
    (tmp_path / "setup.cfg").write_text("[mypy]\npython_version = 3.11\n", encoding="utf-8")
    assert mypy_target(load(tmp_path), "3.12") == ("3.11", "setup.cfg [mypy] python_version")
    (tmp_path / "mypy.ini").write_text("[mypy]\npython_version = 3.10\n", encoding="utf-8")
    assert mypy_target(load(tmp_path), "3.12") == ("3.10", "mypy.ini [mypy] python_version")


def test_a_configured_target_is_the_python_the_session_runs_on(tmp_path: Path) -> None:
    """[tool.noxops.type] python_version runs the session on that Python (its environment
    is resolved for it), rather than forcing --python-version over another Python's."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "lib"\n[tool.noxops]\ntools_python = "3.12"\n'
        '[tool.noxops.type]\npython_version = "3.10"\n',
        encoding="utf-8",
    )
    config = load(tmp_path)
    assert STAGES["type"].tools_python(config) == "3.10"
    assert STAGES["lint"].tools_python(config) == "3.12"
    assert mypy_target(config, "3.10")[0] == "3.10"
    # CI sets that Python up for the type job, and runs the session on it
    pipeline = build_pipeline(config, {n: STAGES[n] for n in ("lint", "type")})
    assert pipeline.job("type").python == "3.10" and "3.10" in pipeline.job("type").pythons
    assert pipeline.job("lint").python == "3.12"


def test_mypy_errors_in_installed_packages_are_a_tool_failure_not_findings(
    tmp_path: Path,
) -> None:
    """A target Python the environment was not made for had mypy report syntax errors in
    site-packages/pydantic, and the report listed that file as the project's finding."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "svc"\n[tool.noxops]\npython = ["3.11"]\n', encoding="utf-8"
    )
    reports = tmp_path / "reports"
    reports.mkdir()
    shutil.copy(FIXTURES / "report_samples" / "failing" / "mypy-junit.xml", reports)
    junit = reports / "mypy-junit.xml"
    site = ".nox/type/lib/python3.11/site-packages/pydantic/main.py"
    junit.write_text(
        junit.read_text(encoding="utf-8").replace(
            "src/calc/bad.py:14: error: Incompatible",
            f"{site}:7: error: Pattern matching is only supported in Python 3.10 and greater"
            "  [syntax]\n/usr/lib/python3/dist-packages/x.py:1: error: Invalid syntax  [syntax]"
            "\nsrc/calc/bad.py:14: error: Incompatible",
        ),
        encoding="utf-8",
    )
    config = dataclasses.replace(load(tmp_path), reports_dir=str(reports))
    report = build_report(config, {"type": STAGES["type"]}, None)
    (check,) = [c for c in report.checks if c.name == "type"]
    assert check.status == "failed"
    assert [f.path for f in check.findings] == ["src/calc/bad.py"]  # the project's own only
    assert "mypy failed in code outside the project (2 error(s)" in check.summary, check
    assert site in check.summary and "1 mypy error(s) in the project" in check.summary, check
    assert any("dist-packages/x.py:1" in d for d in check.details), check.details
