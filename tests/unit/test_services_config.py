"""[tool.noxops.integration], the stage's helpers, and the pytest plugin's import cost."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from noxops.config import load
from noxops.errors import ConfigError

pytest_plugins = ["pytester"]


def _project(tmp_path: Path, table: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "demo"\nversion = "1"\n\n[tool.noxops.integration]\n{table}\n'
    )
    return tmp_path


def test_defaults(tmp_path: Path) -> None:
    section = load(_project(tmp_path, "")).integration
    assert section.services == []
    assert section.provider == "auto"
    assert section.engine_timeout == 3.0
    assert section.enabled


def test_a_full_declaration_loads(tmp_path: Path) -> None:
    section = load(
        _project(
            tmp_path,
            'services = ["postgres", "redis"]\nprovider = "local"\n'
            'images = {postgres = "postgres:16"}\nready_timeout = 20\nurl_timeout = 5',
        )
    ).integration
    assert section.services == ["postgres", "redis"]
    assert section.provider == "local"
    assert section.images == {"postgres": "postgres:16"}
    assert (section.ready_timeout, section.url_timeout) == (20.0, 5.0)


@pytest.mark.parametrize(
    ("table", "key", "problem"),
    [
        ('services = ["postgres", "mongo"]', "services", "unknown service 'mongo'"),
        ('services = ["redis", "redis"]', "services", "names a service twice"),
        ('provider = "podman"', "provider", "one of 'auto', 'url', 'docker', 'local'"),
        ('images = {mysql = "mysql:8"}', "images", "unknown service 'mysql'"),
        ("engine_timeout = 0", "engine_timeout", "greater than 0"),
        ("service = []", "service", "did you mean 'services'"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, table: str, key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(_project(tmp_path, table))
    assert f"tool.noxops.integration.{key}" in str(info.value)
    assert problem in str(info.value)


def test_split_provider_takes_the_option_out_of_pytest_arguments() -> None:
    pytest.importorskip("nox")
    from noxops.stages.integration import split_provider

    assert split_provider(["--provider=local", "-x"]) == ("local", ["-x"])
    assert split_provider(["-k", "db", "--provider", "docker"]) == ("docker", ["-k", "db"])
    assert split_provider(["tests/integration"]) == (None, ["tests/integration"])


def test_the_stage_exists_only_with_integration_tests_or_services(tmp_path: Path) -> None:
    pytest.importorskip("nox")
    from noxops.stages.integration import plugin_requirements, wanted

    bare = load(_project(tmp_path, ""))
    assert not wanted(bare)
    (tmp_path / "tests" / "integration").mkdir(parents=True)
    assert wanted(bare)
    other = tmp_path / "other"
    other.mkdir()
    assert wanted(load(_project(other, 'services = ["redis"]')))
    assert not wanted(load(_project(other, 'services = ["redis"]\nenabled = false')))
    requirements = plugin_requirements(bare)
    assert "psycopg[binary]>=3.1" in requirements
    assert any(r.endswith("main") or r.startswith("noxops") or "/" in r for r in requirements)


def test_the_plugin_is_cheap_to_import() -> None:
    """Loaded into every pytest run where noxops is installed: it must import nothing heavy."""
    code = (
        "import sys; before = set(sys.modules); import noxops.pytest_plugin; "
        "print(sorted(m for m in set(sys.modules) - before "
        "if m.split('.')[0] in {'noxops', 'psycopg', 'redis', 'docker', 'testcontainers'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    # noxops's version comes from its distribution module (which needs only its errors and
    # their masker).
    light = [
        "noxops",
        "noxops.errors",
        "noxops.masking",
        "noxops.pytest_plugin",
        "noxops.runtime",  # the package's __init__: a docstring
        "noxops.runtime.distribution",
    ]
    assert out.strip() == str(light)


def test_the_plugin_is_registered_and_inert_without_its_fixtures(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile("def test_plain():\n    assert 1 + 1 == 2\n")
    result = pytester.runpytest_subprocess("-p", "noxops", "-W", "error")
    result.assert_outcomes(passed=1)
    result = pytester.runpytest_subprocess("--fixtures")
    assert "noxops_database" in result.stdout.str()
    assert "noxops_redis_client" in result.stdout.str()
