"""The [tool.noxops] model: defaults, derived values and one clear error per mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from noxops.config import DEFAULT_PYTHONS, iter_options, load
from noxops.errors import ConfigError


def _project(tmp_path: Path, body: str, *, src: bool = True) -> Path:
    (tmp_path / "pyproject.toml").write_text(body)
    if src:
        (tmp_path / "src" / "pkg").mkdir(parents=True)
    return tmp_path


def test_an_empty_table_means_defaults(tmp_path: Path) -> None:
    config = load(_project(tmp_path, '[project]\nname = "pkg"\n[tool.noxops]\n'))
    assert config.pythons == list(DEFAULT_PYTHONS)
    assert config.lowest_python == "3.9"
    assert config.sources == ["src"]
    assert config.test_paths == ["tests"]
    assert config.tests.fail_under == 80.0
    assert config.security.allow_unaudited is False
    assert config.reports == tmp_path.resolve() / "reports"


def test_no_pyproject_at_all_means_defaults(tmp_path: Path) -> None:
    config = load(tmp_path)
    assert config.project_name == tmp_path.name
    assert config.sources == ["."]


def test_matrix_comes_from_classifiers_sorted_by_version(tmp_path: Path) -> None:
    body = (
        '[project]\nname = "pkg"\nclassifiers = [\n'
        '  "Programming Language :: Python :: 3.12",\n'
        '  "Programming Language :: Python :: 3.10",\n'
        '  "Programming Language :: Python :: 3",\n'
        '  "Programming Language :: Python :: 3.9",\n]\n'
    )
    assert load(_project(tmp_path, body)).pythons == ["3.9", "3.10", "3.12"]


def test_explicit_python_wins_and_flat_layout_is_found(tmp_path: Path) -> None:
    _project(
        tmp_path,
        '[project]\nname = "my-pkg"\n[tool.noxops]\npython = ["3.11", "3.10"]\n',
        src=False,
    )
    (tmp_path / "my_pkg").mkdir()
    (tmp_path / "tests" / "unit").mkdir(parents=True)
    config = load(tmp_path)
    assert config.pythons == ["3.10", "3.11"]
    assert config.sources == ["my_pkg"]
    assert config.test_paths == ["tests/unit"]


@pytest.mark.parametrize(
    ("table", "key", "message"),
    [
        ("colour = 1", "tool.noxops.colour", "unknown key; known keys:"),
        (
            "[tool.noxops.tests]\nfail_undr = 1",
            "tool.noxops.tests.fail_undr",
            "did you mean 'fail_under'?",
        ),
        (
            "[tool.noxops.tests]\nfail_under = 'high'",
            "tool.noxops.tests.fail_under",
            "expected a number, found 'high' (str)",
        ),
        (
            "[tool.noxops.tests]\nfail_under = 120",
            "tool.noxops.tests.fail_under",
            "must be between 0 and 100",
        ),
        (
            "[tool.noxops.lint]\nenabled = 'yes'",
            "tool.noxops.lint.enabled",
            "expected true or false, found 'yes' (str)",
        ),
        ("python = '3.11'", "tool.noxops.python", "expected a list of strings, found '3.11' (str)"),
        ("python = ['3.11', 'py3.12']", "tool.noxops.python", "'py3.12' is not a Python version"),
        ("python = []", "tool.noxops.python", "must name at least one Python version"),
        ("python = [3.11]", "tool.noxops.python[0]", "expected a string, found 3.11 (float)"),
        ("src = ['lib']", "tool.noxops.src[0]", "'lib' does not exist"),
        ("[tool.noxops.tests]\ntimeout = 0", "tool.noxops.tests.timeout", "must be greater than 0"),
        ("tests = 3", "tool.noxops.tests", "expected a table, found 3 (int)"),
        # Values that load but cannot work: refused at load, not when the stage runs.
        (
            "[tool.noxops.tests]\ntimeout = inf",
            "tool.noxops.tests.timeout",
            "expected a finite number, found inf (float)",
        ),
        (
            "[tool.noxops.lint]\ntimeout = 1e300",
            "tool.noxops.lint.timeout",
            "must be at most 86400 seconds (24 h)",
        ),
        (
            "[tool.noxops.integration]\ntimeout = 90000",
            "tool.noxops.integration.timeout",
            "must be at most 86400 seconds (24 h)",
        ),
        (
            "[tool.noxops.image.smoke.services.db]\nimage = ''",
            "tool.noxops.image.smoke.services.db.image",
            "must name an image, like 'postgres:15'",
        ),
        (
            "[tool.noxops.image.smoke.services.db]\nenv = {A = '1'}",
            "tool.noxops.image.smoke.services",
            "service 'db' has no image; set image = 'NAME:TAG'",
        ),
        (
            "[tool.noxops.integration]\nimages = {postgres = ''}",
            "tool.noxops.integration.images",
            "the image of 'postgres' must name an image",
        ),
        (
            "[tool.noxops.deploy.staging]\nimage = ' '",
            "tool.noxops.deploy.staging.image",
            "must name an image",
        ),
        (
            "[tool.noxops.deploy.staging]\nnamespace = 'Shop_Staging'",
            "tool.noxops.deploy.staging.namespace",
            "is not a Kubernetes namespace (a DNS label)",
        ),
        (
            "[tool.noxops.deploy.'st aging/../x']",
            "tool.noxops.deploy",
            "environment name 'st aging/../x' is not a DNS label",
        ),
        (
            "[tool.noxops.image]\ndockerfile = 'docker/Dockerfile'",
            "tool.noxops.image.dockerfile",
            "'docker/Dockerfile' does not exist",
        ),
    ],
)
def test_each_mistake_names_file_key_found_and_allowed(
    tmp_path: Path, table: str, key: str, message: str
) -> None:
    header = "" if table.startswith("[") else "[tool.noxops]\n"
    _project(tmp_path, f'[project]\nname = "pkg"\n{header}{table}\n')
    with pytest.raises(ConfigError) as caught:
        load(tmp_path)
    assert caught.value.key == key
    assert caught.value.file == str(tmp_path.resolve() / "pyproject.toml")
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"{caught.value.file}: {key}: ")


def test_invalid_toml_is_a_config_error(tmp_path: Path) -> None:
    _project(tmp_path, "[tool.noxops\n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load(tmp_path)


def test_a_pyproject_that_is_not_utf8_names_the_line_and_byte(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes(b'[project]\nname = "caf\xe9"\n')
    with pytest.raises(ConfigError) as caught:
        load(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path.resolve() / 'pyproject.toml'}: (file): ")
    assert "not UTF-8" in message and "line 2" in message and "byte 0xe9" in message
    assert "\n" not in message


def test_a_pyproject_nested_too_deep_is_one_line(tmp_path: Path) -> None:
    deep = "[" * 5000 + "]" * 5000
    (tmp_path / "pyproject.toml").write_text(f"[tool.other]\na = {deep}\n")
    with pytest.raises(ConfigError) as caught:
        load(tmp_path)
    assert caught.value.key == "(file)" and "nested too deeply" in caught.value.problem


def test_defaults_stay_valid_without_a_dockerfile_and_a_real_one_is_accepted(
    tmp_path: Path,
) -> None:
    _project(tmp_path, "[tool.noxops.deploy.prod-eu]\nnamespace = 'shop-1'\n")
    config = load(tmp_path)  # no Dockerfile: the default names none, and that is fine
    assert config.image.dockerfile == "Dockerfile" and config.image.name == ""
    assert config.deploy["prod-eu"].namespace == "shop-1"
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "Dockerfile").write_text("FROM scratch\n")
    config = load(tmp_path, {"image": {"dockerfile": "docker/Dockerfile", "timeout": 86400}})
    assert config.image.dockerfile == "docker/Dockerfile" and config.image.timeout == 86400


def test_overrides_merge_over_the_table_section_by_section(tmp_path: Path) -> None:
    _project(tmp_path, "[tool.noxops.tests]\nfail_under = 90\npytest_args = ['-x']\n")
    config = load(tmp_path, {"tests": {"fail_under": 50}})
    assert config.tests.fail_under == 50.0
    assert config.tests.pytest_args == ["-x"]
    with pytest.raises(ConfigError, match=r"tool\.noxops\.tests\.fail_under"):
        load(tmp_path, {"tests": {"fail_under": "x"}})


def test_every_option_is_documented() -> None:
    options = iter_options()
    keys = [f"{o.section}.{o.key}" for o in options]
    assert "tool.noxops.python" in keys
    assert "tool.noxops.tests.fail_under" in keys
    assert len(keys) == len(set(keys))
    for opt in options:
        assert opt.doc.strip().endswith((".", ")")), opt.key
        assert opt.type, opt.key
