"""Issue #24's corpus shape backend-service (tests/fixtures/backend_service), green as found.

A service kept in ``backend/`` of its repository (a ``frontend/`` beside it, a ``.env`` and a
``docker-compose.yml`` at the repository's root), reading PostgreSQL by parts
(``POSTGRES_SERVER``, ``_PORT``, ``_USER``, ``_PASSWORD``, ``_DB``), its schema made by
Alembic, linted by ruff and type-checked by mypy at its dev group's pins. With nothing but
``noxops init``'s output, ``nox -s lint type tests-3.12`` must pass as the project's own
scripts do, against a PostgreSQL it started (local provider), and change no file. One nox run
for all the asserts: it takes a while on a busy machine.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.noxrun import commit, copy_fixture, git, noxops_init, run_nox, sections

pytestmark = [pytest.mark.slow, pytest.mark.local_servers("postgres")]


def test_init_then_lint_type_and_tests_pass_in_the_backend_folder(tmp_path: Path) -> None:
    repo = copy_fixture("backend_service", tmp_path)
    backend = repo / "backend"
    # the repository's own ignores, as GitHub's Python template has them; init adds its own
    (repo / ".gitignore").write_text("__pycache__/\n*.egg-info/\n.coverage\n")
    git(repo, "init", "-q")
    commit(repo, "the project before noxops")
    said = noxops_init(backend)
    assert "services postgres" in said, said
    assert "lint: ruff 0.14.0 (pyproject.toml), config [tool.ruff.lint]" in said, said
    table = (backend / "pyproject.toml").read_text()
    assert 'POSTGRES_SERVER = "postgres.host"' in table, table
    assert 'setup = ["alembic upgrade head"]' in table, table
    commit(repo, "noxops init")

    run = run_nox(backend, "-s", "lint", "type", "tests-3.12", env={"NOXOPS_PROVIDER": "local"})
    assert run.returncode == 0, run
    parts = sections(run)
    assert "ruff==0.14.0" in parts["lint"] and "ruff check --no-fix" in parts["lint"], run
    assert "mypy==1.18.2" in parts["type"], parts["type"]
    tests = parts["tests-3.12"]
    assert "postgres: local provider, ready in " in tests, tests
    assert "nox > alembic upgrade head" in tests, tests
    assert "set from the services too" not in tests, tests  # init mapped every name
    assert " passed" in tests and " failed" not in tests, tests
    assert git(repo, "status", "--porcelain") == "", run  # no file changed, none left behind
