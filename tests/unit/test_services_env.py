"""Issue #24, items 6-8: service settings by parts, what a project reads, which tests need the
services, and the set-up commands `noxops init` proposes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.noxrun import FIXTURES

from noxops.commands import init
from noxops.config import load
from noxops.errors import ConfigError
from noxops.project.textfile import tomllib
from noxops.services import usage
from noxops.stages import provision
from noxops.stages.provision import integration_paths, mapped_env, project_env


def _project(root: Path, noxops: str = "", **files: str) -> Path:
    (root / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "1"\ndependencies = ["psycopg[binary]"]\n\n'
        f"[tool.noxops]\n{noxops}\n"
    )
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_any_variable_holds_any_part_of_a_service(tmp_path: Path) -> None:
    config = load(
        _project(
            tmp_path,
            "[tool.noxops.integration]\n"
            'services = ["postgres", "redis"]\n'
            "[tool.noxops.integration.env]\n"
            'POSTGRES_SERVER = "postgres.host"\n'
            'POSTGRES_PORT = "postgres.port"\n'
            'POSTGRES_USER = "postgres.user"\n'
            'POSTGRES_PASSWORD = "postgres.password"\n'
            'POSTGRES_DB = "postgres.database"\n'
            'DATABASE_TEST_URL = "postgres.url:postgresql+asyncpg"\n'
            'PLAIN_URL = "postgres"\n'
            'CACHE_HOST = "redis.host"\n'
            'CACHE_DB = "redis.database"\n'
            'LEGACY = { service = "postgres", scheme = "postgres" }\n'
            'SECRET = { service = "postgres", part = "password" }\n',
        )
    )
    env = {
        "DATABASE_URL": "postgresql://app:p%40ss@db.internal:6543/ledger",
        "REDIS_URL": "redis://cache.internal:6380",
    }
    assert mapped_env(config, env) == {
        "POSTGRES_SERVER": "db.internal",
        "POSTGRES_PORT": "6543",
        "POSTGRES_USER": "app",
        "POSTGRES_PASSWORD": "p@ss",
        "POSTGRES_DB": "ledger",
        "DATABASE_TEST_URL": "postgresql+asyncpg://app:p%40ss@db.internal:6543/ledger",
        "PLAIN_URL": "postgresql://app:p%40ss@db.internal:6543/ledger",
        "CACHE_HOST": "cache.internal",
        "CACHE_DB": "0",
        "LEGACY": "postgres://app:p%40ss@db.internal:6543/ledger",
        "SECRET": "p@ss",
    }


@pytest.mark.parametrize(
    ("table", "key", "problem"),
    [
        ('X = "postgres.hots"', "env.X.part", "unknown part 'hots'; did you mean 'host'?"),
        ('X = "postgress.host"', "env.X.service", "did you mean 'postgres'?"),
        ('X = { service = "postgres", part = "dbname" }', "env.X.part", "parts: url, host,"),
        ('X = "postgres.host:postgresql"', "env", "a scheme is for part 'url' only"),
        ('X = "postgres."', "env.X", "is not a service part; write 'SERVICE.PART'"),
        ('X = "postgres.url:"', "env.X", "is not a service part"),
        ('"1X" = "postgres.host"', "env", "not an environment variable name"),
        ("X = 5", "env.X", "expected a table"),
    ],
)
def test_a_wrong_mapping_is_one_line_naming_the_key(
    tmp_path: Path, table: str, key: str, problem: str
) -> None:
    _project(tmp_path, f"[tool.noxops.integration.env]\n{table}\n")
    with pytest.raises(ConfigError) as info:
        load(tmp_path)
    message = str(info.value)
    assert f"tool.noxops.integration.{key}: " in message
    assert problem in message and "\n" not in message


@pytest.mark.parametrize(
    ("setup", "problem"),
    [('["alembic \'upgrade"]', "cannot be split into words"), ('[" "]', "an empty command")],
)
def test_a_setup_command_must_be_a_command_line(tmp_path: Path, setup: str, problem: str) -> None:
    _project(tmp_path, f"[tool.noxops.integration]\nsetup = {setup}\n")
    with pytest.raises(ConfigError, match=f"tool.noxops.integration.setup: .*{problem}"):
        load(tmp_path)


@pytest.mark.parametrize(
    ("name", "service", "part"),
    [
        ("POSTGRES_SERVER", "postgres", "host"),
        ("POSTGRES_DB", "postgres", "database"),
        ("DB_NAME", "postgres", "database"),
        ("APP_DB_PASS", "postgres", "password"),
        ("DATABASE_TEST_URL", "postgres", "url"),
        ("TEST_DATABASE_URL", "postgres", "url"),
        ("SQLALCHEMY_DATABASE_URI", "postgres", "url"),
        ("PG_USER", "postgres", "user"),
        ("REDIS_HOST", "redis", "host"),
        ("REDIS_DB", "redis", "database"),
        ("DB_POOL_SIZE", "postgres", None),
        ("PASSWORD_RESET_URL", None, None),
        ("PGADMIN_DEFAULT_EMAIL", None, None),
        ("DEBUG", None, None),
    ],
)
def test_a_variable_names_its_service_and_part(
    name: str, service: str | None, part: str | None
) -> None:
    assert (usage.service_of(name), usage.part_of(name)) == (service, part)


def _reading_project(root: Path) -> Path:
    settings = (
        "from pydantic import Field\n"
        "from pydantic_settings import BaseSettings, SettingsConfigDict\n\n\n"
        "class Settings(BaseSettings):\n"
        '    model_config = SettingsConfigDict(env_file=".env")\n\n'
        '    PROJECT_NAME: str = "demo"\n'
        '    POSTGRES_SERVER: str = "localhost"\n'
        "    POSTGRES_PORT: int = 5432\n"
        '    cache: str = Field("redis://localhost", alias="REDIS_CACHE_URL")\n\n'
        "    @property\n"
        "    def url(self) -> str:\n"
        '        return "x"\n\n\n'
        "class WorkerSettings(BaseSettings):\n"
        '    model_config = SettingsConfigDict(env_prefix="APP_")\n'
        '    db_host: str = "localhost"\n'
    )
    compose = (
        "services:\n"
        "  db:\n"
        "    environment:\n"
        "      POSTGRES_INITDB_ARGS: --data-checksums\n"
        "    image: postgres:15\n"
        "  backend:\n"
        "    build: .\n"
        "    environment:\n"
        "      - POSTGRES_USER=app\n"
        "      - 'DATABASE_URL=postgresql+psycopg://app@db/app'\n"
    )
    return _project(
        root,
        **{
            "app/__init__.py": "",
            "app/settings.py": settings,
            "app/worker.py": (
                "import os\n"
                'TEST_URL = os.environ.get("DATABASE_TEST_URL")\n'
                'POOL = int(os.getenv("DB_POOL_SIZE", "5"))\n'
            ),
            ".env": (
                'PROJECT_NAME=demo\nPOSTGRES_PORT=5432\nexport POSTGRES_PASSWORD="changethis"\n'
            ),
            ".env.example": "DATABASE_TEST_URL=postgresql+asyncpg://u:p@localhost/app\n",
            "docker-compose.yml": compose,
        },
    )


def test_the_names_a_project_reads_and_what_init_maps_them_to(tmp_path: Path) -> None:
    root = _reading_project(tmp_path)
    read = usage.read_variables(root, ["app"])
    assert read["POSTGRES_SERVER"].where == ("app/settings.py",)
    assert read["POSTGRES_PORT"].where == ("app/settings.py", ".env")
    assert read["DATABASE_TEST_URL"].where == ("app/worker.py", ".env.example")
    assert read["DATABASE_TEST_URL"].value.startswith("postgresql+asyncpg://")
    assert read["POSTGRES_USER"].where == ("docker-compose.yml",)
    assert "POSTGRES_INITDB_ARGS" not in read  # the server's own settings, not the project's
    assert {"REDIS_CACHE_URL", "APP_DB_HOST", "DB_POOL_SIZE", "POSTGRES_PASSWORD"} <= set(read)
    assert not {"URL", "MODEL_CONFIG", "CACHE", "DB_HOST"} & set(read)
    mapped, unmapped = usage.proposals(read, ["postgres"])
    assert mapped == {
        "POSTGRES_SERVER": "postgres.host",
        "POSTGRES_PORT": "postgres.port",
        "APP_DB_HOST": "postgres.host",
        "DATABASE_TEST_URL": "postgres.url:postgresql+asyncpg",
        "POSTGRES_PASSWORD": "postgres.password",
        "POSTGRES_USER": "postgres.user",
        # noxops sets DATABASE_URL anyway, but with its own scheme
        "DATABASE_URL": "postgres.url:postgresql+psycopg",
    }
    assert list(unmapped) == ["DB_POOL_SIZE"]


def test_a_session_sets_what_the_project_reads_and_names_the_rest(tmp_path: Path) -> None:
    """A variable the project reads for a started service, left unset, would keep its .env or
    settings default (localhost:5432): it is set from the service; one that names no part is
    listed."""
    root = _reading_project(tmp_path)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text()
        + '[tool.noxops.integration.env]\nPOSTGRES_SERVER = "postgres.url"\n'
        + '[tool.noxops.tests]\npaths = ["app"]\n'
    )
    config = load(root)
    env = {"DATABASE_URL": "postgresql://postgres:s3cret@127.0.0.1:41733/postgres"}
    env.update(mapped_env(config, env))
    added, unmapped, where = project_env(config, env)
    assert added == {
        "POSTGRES_PORT": "41733",
        "APP_DB_HOST": "127.0.0.1",
        "DATABASE_TEST_URL": "postgresql+asyncpg://postgres:s3cret@127.0.0.1:41733/postgres",
        "POSTGRES_PASSWORD": "s3cret",
        "POSTGRES_USER": "postgres",
    }  # POSTGRES_SERVER keeps its explicit mapping; REDIS_CACHE_URL: Redis is not started
    assert unmapped == ["DB_POOL_SIZE"]
    assert where["DB_POOL_SIZE"] == ("app/worker.py",)


def test_tests_get_the_services_when_they_use_them_and_have_no_split(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        **{
            "app/__init__.py": "",
            "app/db.py": "import sqlalchemy\n",
            "app/money.py": "def cents(x):\n    return x\n",
            "tests/test_money.py": "from app.money import cents\n",
        },
    )
    names, why = provision.tests_services(load(root))
    assert names == [] and "no test in tests uses a database" in why
    assert integration_paths(load(root)) == ["tests"]  # no tests/integration: the tests

    (root / "tests" / "test_db.py").write_text("from app import db\n")
    names, why = provision.tests_services(load(root))
    assert names == ["postgres"]
    assert why == "tests/test_db.py imports app.db, which imports sqlalchemy"

    (root / "tests" / "test_db.py").write_text("import os\nURL = os.environ['DATABASE_URL']\n")
    assert provision.tests_services(load(root)) == (
        ["postgres"],
        "tests/test_db.py reads DATABASE_URL",
    )

    _project(root, "[tool.noxops.tests]\nservices = false\n")
    assert provision.tests_services(load(root)) == ([], "[tool.noxops.tests] services = false")

    (root / "tests" / "integration").mkdir()
    _project(root)
    names, why = provision.tests_services(load(root))  # the project's own split
    assert names == [] and "in tests/integration: nox -s integration runs them" in why
    assert integration_paths(load(root)) == ["tests/integration"]
    _project(root, "[tool.noxops.tests]\nservices = true\n")
    assert provision.tests_services(load(root)) == (
        ["postgres"],
        "[tool.noxops.tests] services = true",
    )


def test_init_maps_the_settings_and_proposes_the_migrations(tmp_path: Path) -> None:
    root = tmp_path / "settings_service"
    shutil.copytree(FIXTURES / "settings_service", root)
    found = init.detect(root)
    assert found.services == ["postgres"]
    assert found.setup == ["alembic upgrade head"]
    assert found.env == {
        "POSTGRES_SERVER": "postgres.host",
        "POSTGRES_PORT": "postgres.port",
        "POSTGRES_USER": "postgres.user",
        "POSTGRES_PASSWORD": "postgres.password",
        "POSTGRES_DB": "postgres.database",
    }
    assert found.env_from == ["app/settings.py", ".env", ".env.example", "docker-compose.yml"]
    table = tomllib.loads(init.table_text(found))["tool"]["noxops"]
    assert table["integration"]["setup"] == ["alembic upgrade head"]
    assert table["integration"]["env"]["POSTGRES_DB"] == "postgres.database"
    with (root / "pyproject.toml").open("a") as fh:
        fh.write(init.table_text(found))
    config = load(root)  # what init writes loads
    assert config.integration.env["POSTGRES_PORT"].part == "port"
    assert provision.tests_services(config)[0] == ["postgres"]

    (root / "alembic.ini").unlink()
    (root / "manage.py").write_text("import django\n")
    assert init.detect(root).setup == ["python manage.py migrate"]
