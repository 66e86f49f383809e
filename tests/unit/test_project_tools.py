"""Unit tests for what issue 15 added: noxops follows the project's own tools and files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.noxrun import FIXTURES
from support.projects import write_project

from noxops.commands.init import _drop_table
from noxops.commands.init import detect as init_detect
from noxops.config import load
from noxops.errors import NoxopsError
from noxops.image.context import prepare
from noxops.project import detect, install, tools
from noxops.stages import tests as tests_stage
from noxops.stages.base import project_install
from noxops.stages.integration import mapped_env, services_for
from noxops.stages.provision import project_env
from noxops.stages.typecheck import type_paths


def test_ruff_format_and_ruff_isort_rules_are_followed(tmp_path: Path) -> None:
    config = load(
        write_project(
            tmp_path,
            '[tool.ruff.format]\n[tool.ruff.lint]\nselect = ["E", "I"]\n'
            '[dependency-groups]\ndev = ["ruff==0.8.6"]\n',
        )
    )
    assert tools.formatter(config).tool == "ruff"
    assert tools.import_sorter(config).tool == "ruff"
    assert tools.requirement(config, "ruff") == "ruff==0.8.6"


def test_black_and_isort_and_precommit_pins(tmp_path: Path) -> None:
    precommit = (
        "repos:\n  - repo: https://github.com/psf/black-pre-commit-mirror\n    rev: 24.4.2\n"
        "    hooks:\n      - id: black\n"
        "  - repo: https://github.com/pycqa/isort\n    rev: 5.13.2\n    hooks:\n"
        "      - id: isort\n"
    )
    config = load(
        write_project(tmp_path, "[tool.ruff]\n", **{".pre-commit-config.yaml": precommit})
    )
    assert tools.formatter(config).tool == "black"
    assert tools.import_sorter(config).tool == "isort"
    assert tools.requirement(config, "black") == "black==24.4.2"
    assert tools.requirement(config, "isort") == "isort==5.13.2"
    assert tools.requirement(config, "ruff") == "ruff"  # not pinned: the newest


def test_a_frozen_precommit_rev_and_a_hooks_additional_dependencies_pin_the_tool(
    tmp_path: Path,
) -> None:
    # What `pre-commit autoupdate --freeze` writes: the commit, and its tag in a comment.
    precommit = (
        "repos:\n"
        "  - repo: https://github.com/astral-sh/ruff-pre-commit\n"
        "    rev: c60c980e561ed3e73101667fe8365c609d19a438  # frozen: v0.15.9\n"
        "    hooks:\n      - id: ruff-check\n      - id: ruff-format\n"
        "  - repo: https://github.com/pre-commit/mirrors-mypy\n"
        "    rev: 'f40886d54c729f533f864ed6ce584e920feb0af7'  # frozen: v1.15.0\n"
        "    hooks:\n      - id: mypy\n"
        "        additional_dependencies: [types-requests, 'pydantic>=2']\n"
        "  - repo: https://github.com/adamchainz/blacken-docs\n"
        "    rev: 1.19.1\n"
        "    hooks:\n      - id: blacken-docs\n        additional_dependencies:\n"
        "          - black==24.10.0  # the black of the docs' code blocks\n\n"
        "          # (a comment in the list)\n          - 'black[jupyter]'\n"
        "      - id: other\n"
        "  - repo: https://github.com/pycqa/isort\n"
        "    rev: 0a0b0c0d0e0f0a0b0c0d0e0f0a0b0c0d0e0f0a0b\n"  # frozen, the comment lost
        "    hooks:\n      - id: isort\n"
    )
    config = load(write_project(tmp_path, "", **{".pre-commit-config.yaml": precommit}))
    assert tools.requirement(config, "ruff") == "ruff==0.15.9"
    assert tools.requirement(config, "mypy") == "mypy==1.15.0"
    # A hook's additional_dependencies pin a tool the project pins nowhere else...
    assert tools.requirement(config, "black") == "black==24.10.0"
    # ...without making the project a black project (ruff formats it).
    assert tools.formatter(config).tool == "ruff"
    assert tools.requirement(config, "isort") == "isort"  # a commit: no version to read
    assert tools.requirement(config, "pydantic") == "pydantic>=2"  # a flow list, quoted


def test_configuration_overrides_detection(tmp_path: Path) -> None:
    config = load(
        write_project(
            tmp_path,
            '[tool.ruff.format]\n[tool.noxops.lint]\nformatter = "black"\nimport_sorter = "none"\n',
        )
    )
    assert tools.formatter(config).tool == "black"
    assert tools.import_sorter(config).tool == "none"


def test_mypy_files_and_pytest_testpaths_are_used(tmp_path: Path) -> None:
    config = load(
        write_project(
            tmp_path,
            '[tool.mypy]\nfiles = "app, tests"\n'
            '[tool.pytest.ini_options]\ntestpaths = ["checks"]\n',
            **{"tests__unit__test_x.py": ""},
        )
    )
    assert type_paths(config) == ["app", "tests"]
    assert config.test_paths == ["checks"]


def test_the_test_env_takes_the_test_group_and_pytest_once(tmp_path: Path) -> None:
    config = load(
        write_project(
            tmp_path,
            '[project]\nname = "p"\n[dependency-groups]\ntest = ["pytest>=8"]\n'
            'dev = [{include-group = "test"}, "tox", "ruff"]\n',
        )
    )
    (install_args,) = tests_stage.tests_env(config, "3.11")
    assert install_args == ("-e", ".", "pytest>=8", "coverage[toml]")


def test_a_dev_group_alone_loses_its_linters(tmp_path: Path) -> None:
    config = load(
        write_project(
            tmp_path, '[project]\nname = "p"\n[dependency-groups]\ndev = ["pytest", "tox"]\n'
        )
    )
    (install_args,) = tests_stage.tests_env(config, "3.11")
    assert "tox" not in install_args and install_args.count("pytest") == 1


def test_requirements_project_is_not_pip_installed(tmp_path: Path) -> None:
    config = load(
        write_project(
            tmp_path,
            "[tool.ruff]\n",
            **{"requirements.txt": "redis>=5\n", "requirements-dev.txt": "pytest\n"},
        )
    )
    (install_args,) = tests_stage.tests_env(config, "3.11")
    assert install_args[:2] == ("-r", "requirements.txt")
    assert "." not in install_args and "-e" not in install_args
    assert install_args[-2:] == ("-r", "requirements-dev.txt")
    assert install.describe(config.project)[0]


def test_nothing_to_install_is_said(tmp_path: Path) -> None:
    config = load(write_project(tmp_path, "[tool.ruff]\n"))
    ok, how = install.describe(config.project)
    assert not ok and "requirements.txt" in how


def test_poetry_groups_are_translated(tmp_path: Path) -> None:
    config = load(
        write_project(
            tmp_path,
            '[tool.poetry]\nname = "p"\nversion = "1.0"\n'
            '[tool.poetry.dependencies]\npython = "^3.9"\n'
            '[tool.poetry.group.test.dependencies]\npytest = "^8.1"\nfreezegun = "~1.4"\n'
            '[build-system]\nrequires = ["poetry-core"]\n'
            'build-backend = "poetry.core.masonry.api"\n',
        )
    )
    args = project_install(config, "coverage", groups=["test"])
    assert args == ("-e", ".", "pytest>=8.1,<9", "freezegun>=1.4,<1.5", "coverage")


def test_services_inferred_from_requirements_and_compose(tmp_path: Path) -> None:
    config = load(
        write_project(
            tmp_path,
            "[tool.noxops]\n",
            **{
                "requirements.txt": "psycopg2-binary==2.9.9\n",
                "docker-compose.yml": "services:\n  cache:\n    image: redis:7-alpine\n",
            },
        )
    )
    assert detect.services(config.project) == {
        "postgres": "the dependency psycopg2-binary",
        "redis": "an image in docker-compose.yml",
    }
    names, why = services_for(config)
    assert names == ["postgres", "redis"] and "inferred" in why


def test_service_urls_under_the_projects_names(tmp_path: Path) -> None:
    config = load(
        write_project(
            tmp_path,
            "[tool.noxops.integration.env]\n"
            'DATABASE_TEST_URL = { service = "postgres", scheme = "postgres" }\n'
            'CACHE = { service = "redis" }\n',
        )
    )
    env = {"DATABASE_URL": "postgresql://u:p@h:5/d", "REDIS_URL": "redis://h:6/0"}
    assert mapped_env(config, env) == {
        "DATABASE_TEST_URL": "postgres://u:p@h:5/d",
        "CACHE": "redis://h:6/0",
    }
    with pytest.raises(NoxopsError, match="service 'redis' is not started"):
        mapped_env(config, {"DATABASE_URL": "postgresql://h/d"})


def test_names_only_the_tests_read_are_mapped_and_set_at_the_projects_scheme(
    tmp_path: Path,
) -> None:
    """Issue 24: requirements_service's integration tests read DATABASE_TEST_URL, named only in
    the test code, and want the short postgres:// scheme its compose file gives DATABASE_URL.
    With no [tool.noxops] key (as the corpus harness runs it), init maps it and a session
    that started the services sets it."""
    project = shutil.copytree(FIXTURES / "requirements_service", tmp_path / "p")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(_drop_table(pyproject.read_text()))
    found = init_detect(project)
    assert found.env["DATABASE_TEST_URL"] == "postgres.url:postgres"
    assert "tests/integration/test_storage.py" in found.env_from
    env = {"DATABASE_URL": "postgresql://u:p@h:5/d", "REDIS_URL": "redis://h:6/0"}
    added, unmapped, where = project_env(load(project), env)
    assert added["DATABASE_TEST_URL"] == "postgres://u:p@h:5/d"
    assert where["DATABASE_TEST_URL"] == ("tests/integration/test_storage.py",)
    assert "REDIS_URL" not in added and not unmapped  # set by noxops already


def test_lean_context_leaves_out_nox_and_reports(tmp_path: Path) -> None:
    project = tmp_path / "p"
    for name in [".nox/x/big", "reports/r.xml", "app/__pycache__/a.pyc", "app/main.py"]:
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text("x")
    (project / "Dockerfile").write_text("FROM python:3.11-slim\n")
    lean = prepare(project, project / "Dockerfile", tmp_path / "work").folder
    assert lean != project
    assert sorted(p.relative_to(lean).as_posix() for p in lean.rglob("*")) == [
        "Dockerfile",
        "app",
        "app/main.py",
    ]
    assert not (project / ".dockerignore").exists()  # nothing written into the project
    (project / ".dockerignore").write_text("reports\n")
    # .nox is left out whatever the .dockerignore says (issue #24, item 13)
    again = prepare(project, project / "Dockerfile", tmp_path / "work2")
    assert again.left_out == (".nox",) and again.folder != project
    shutil.rmtree(project / ".nox")
    assert prepare(project, project / "Dockerfile", tmp_path / "work3").folder == project
