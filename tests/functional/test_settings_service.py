"""Issue #24, items 6-8: a web service shaped like those noxops was tried on, green out of the box.

tests/fixtures/settings_service reads its database by parts (POSTGRES_SERVER, _PORT, _USER,
_PASSWORD, _DB) through pydantic-settings, with localhost:5432 defaults in its .env; Alembic
creates its table; its database tests live in tests/, beside the others. With only `noxops
init`'s output as configuration, `nox -s tests-3.11 integration` must pass: each session
starts PostgreSQL (local provider), runs the migrations, and the tests reach that server, not
the .env's.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from support.noxrun import copy_fixture, noxops_init, run_nox, sections
from support.traces import traces

pytestmark = [pytest.mark.slow, pytest.mark.local_servers("postgres")]


def _git(project: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=project, capture_output=True, text=True, check=True)


def _without_env_table(pyproject: Path) -> None:
    """``pyproject.toml`` without the [tool.noxops.integration.env] table init wrote."""
    text = pyproject.read_text()
    start = text.index("[tool.noxops.integration.env]")
    end = text.index("\n[", start + 1)
    pyproject.write_text(text[:start] + text[end + 1 :])


def test_init_then_tests_and_integration_pass_against_the_started_database(
    tmp_path: Path,
) -> None:
    project = copy_fixture("settings_service", tmp_path)
    noxops_init(project)
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    _git(project, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "i")
    before = traces()
    local = {"NOXOPS_PROVIDER": "local"}
    run = run_nox(project, "-s", "tests-3.11", "integration", env=local, timeout=900)
    assert run.returncode == 0, run
    parts = sections(run)
    tests = parts["tests-3.11"]
    assert (
        "services: postgres for tests-3.11 (tests/test_entries.py imports sqlalchemy)" in tests
    ), tests
    assert "postgres: local provider, ready in " in tests, tests
    for part in (tests, parts["integration"]):
        assert "nox > alembic upgrade head" in part, part
        assert "Running upgrade  -> 0001" in part, part
        assert "3 passed" in part, part
        assert "set from the services too" not in part, part  # init mapped every name
    # pytest ran the whole tests folder in both: there is no tests/integration
    assert re.search(r"-o junit_suite_name=integration tests\n", run.output), run
    assert not traces() - before

    # Without init's [tool.noxops.integration.env], the names the project reads are still
    # set from the started server (and said), so the .env's localhost:5432 is never used.
    _without_env_table(project / "pyproject.toml")
    bare = run_nox(project, "-R", "-s", "tests-3.11", env=local, timeout=600)
    assert bare.returncode == 0, bare
    assert (
        "set from the services too: POSTGRES_SERVER, POSTGRES_PORT, POSTGRES_USER, "
        "POSTGRES_PASSWORD, POSTGRES_DB (the project reads them: app/settings.py, .env, "
        ".env.example, docker-compose.yml;"
    ) in bare.output, bare
    assert "3 passed" in bare.output, bare

    # A set-up command that fails ends the session before the tests, with its output.
    migration = project / "migrations" / "versions" / "0001_entries.py"
    broken_sql = 'def upgrade() -> None:\n    op.execute("CREATE TABLE broken (")\n'
    migration.write_text(migration.read_text().replace("def upgrade() -> None:\n", broken_sql))
    broken = run_nox(project, "-R", "-s", "tests-3.11", env=local, timeout=600)
    assert broken.returncode != 0, broken
    assert "set-up command 'alembic upgrade head' ([tool.noxops.integration] setup) failed" in (
        broken.output
    ), broken
    assert "syntax error" in broken.output, broken  # PostgreSQL's own words, from alembic
    assert "-m pytest" not in broken.output, broken
    assert not traces() - before
