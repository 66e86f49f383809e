"""The project model: pyproject.toml read once, on the configuration, for every stage."""

from __future__ import annotations

from pathlib import Path

import pytest

from noxops.config import iter_options, load
from noxops.errors import ConfigError
from noxops.image.packages import has_build_system
from noxops.project.pyproject import Project, thaw
from noxops.stages.base import project_install
from noxops.stages.security import _bandit_config_args
from noxops.stages.tests import _coverage_source_args, default_groups


def _write(tmp_path: Path, body: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(body)
    (tmp_path / "src").mkdir(exist_ok=True)
    return tmp_path


def test_a_pep_621_project(tmp_path: Path) -> None:
    config = load(
        _write(
            tmp_path,
            '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
            '[project]\nname = "shop"\nversion = "1.2"\nrequires-python = ">=3.9"\n'
            'dependencies = ["attrs>=23"]\n'
            '[project.optional-dependencies]\nweb = ["flask"]\n'
            "[tool.coverage.run]\nbranch = true\n"
            '[tool.pytest.ini_options]\naddopts = ["-ra"]\n'
            "[tool.mypy]\nstrict = true\n",
        )
    )
    project = config.project
    assert project.exists and project.path == tmp_path.resolve() / "pyproject.toml"
    assert (project.name, project.version, project.requires_python) == ("shop", "1.2", ">=3.9")
    assert project.dependencies == ("attrs>=23",)
    assert dict(project.optional_dependencies) == {"web": ("flask",)}
    assert project.build_system is not None
    assert project.build_system.backend == "hatchling.build"
    assert project.build_system.requires == ("hatchling",)
    assert dict(project.coverage["run"]) == {"branch": True}
    assert project.pytest["addopts"] == ("-ra",)
    assert project.mypy["strict"] is True
    assert project.ruff == {} and project.tool_table("nothing", "here") == {}
    assert has_build_system(project)
    assert config.project_name == "shop"
    # read-only: the stages share one model
    with pytest.raises(TypeError):
        project.mypy["strict"] = False  # type: ignore[index]
    assert thaw(project.metadata)["optional-dependencies"] == {"web": ["flask"]}


def test_the_model_is_not_a_configuration_key(tmp_path: Path) -> None:
    assert "project" not in {o.key for o in iter_options()}
    with pytest.raises(ConfigError, match=r"tool\.noxops\.project: unknown key"):
        load(_write(tmp_path, '[tool.noxops]\nproject = "x"\n'))
    assert "project=" not in repr(load(tmp_path.parent))


def test_a_requirements_only_project_without_project_table(tmp_path: Path) -> None:
    root = _write(tmp_path, "[tool.black]\nline-length = 88\n")
    (root / "requirements.txt").write_text("flask\n")
    config = load(root)
    project = config.project
    assert project.exists
    assert project.name is None and project.version is None and project.dependencies == ()
    assert project.build_system is None and not has_build_system(project)
    assert project.black["line-length"] == 88
    assert config.project_name == root.name
    assert default_groups(config) == []
    (root / "setup.py").write_text("from setuptools import setup\nsetup()\n")
    assert has_build_system(project)


def test_no_pyproject_at_all(tmp_path: Path) -> None:
    project = load(tmp_path).project
    assert not project.exists and project.name is None and project.tool == {}
    assert project.group_requirements() == ()


def test_a_poetry_project(tmp_path: Path) -> None:
    config = load(
        _write(
            tmp_path,
            '[tool.poetry]\nname = "legacy-app"\nversion = "0.3.0"\ndescription = "Old"\n'
            '[tool.poetry.dependencies]\npython = "^3.10"\nrequests = "^2.31"\n'
            '[build-system]\nrequires = ["poetry-core>=1.0"]\n'
            'build-backend = "poetry.core.masonry.api"\n',
        )
    )
    project = config.project
    assert (project.name, project.version, project.description) == (
        "legacy-app",
        "0.3.0",
        "Old",
    )
    assert project.dependencies == () and project.metadata == {}
    assert project.build_system is not None
    assert project.build_system.backend == "poetry.core.masonry.api"
    assert project.tool_table("poetry", "dependencies")["requests"] == "^2.31"
    assert config.project_name == "legacy-app"


def test_dependency_groups_resolve_include_group(tmp_path: Path) -> None:
    config = load(
        _write(
            tmp_path,
            '[project]\nname = "p"\n'
            "[dependency-groups]\n"
            'Typing = ["mypy>=1.10"]\n'
            'test = ["pytest >= 8", {include-group = "typing"}]\n'
            'dev = [{include-group = "test"}, "ruff"]\n',
        )
    )
    project = config.project
    assert project.group_requirements("dev") == ("pytest>=8", "mypy>=1.10", "ruff")
    assert project.has_group("TYPING") and not project.has_group("docs")
    assert default_groups(config) == ["test"]
    assert project_install(config, "coverage", groups=["test"], extras=["x"]) == (
        "-e",
        ".[x]",
        "pytest>=8",
        "mypy>=1.10",
        "coverage",
    )


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        ('a = [{include-group = "b"}]\nb = [{include-group = "a"}]\n', "include each other: a"),
        ('a = [{include-group = "missing"}]\n', r"dependency-groups.a\[0\]: .*'missing'"),
        ('a = ["not a requirement!"]\n', r"dependency-groups.a\[0\]: .*not a valid requirement"),
        ("a = [3]\n", r"dependency-groups.a\[0\]: expected a requirement string"),
        ('a = "pytest"\n', r"dependency-groups.a: expected a list"),
    ],
)
def test_bad_dependency_groups_name_the_key(tmp_path: Path, groups: str, message: str) -> None:
    project = load(_write(tmp_path, f"[dependency-groups]\n{groups}")).project
    with pytest.raises(ConfigError, match=message) as info:
        project.group_requirements("a")
    assert str(tmp_path / "pyproject.toml") in str(info.value)


def test_wrong_types_in_project_metadata_name_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"pyproject.toml: project.dependencies: expected a"):
        load(_write(tmp_path, '[project]\nname = "p"\ndependencies = "attrs"\n'))
    with pytest.raises(ConfigError, match=r"project.name: expected a string"):
        Project.read(_write(tmp_path, "[project]\nname = 3\n") / "pyproject.toml")


def test_a_file_that_is_not_utf8_or_nested_too_deep_is_one_config_error(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_bytes(b'[project]\nname = "p"\n\n# \xff\n')
    with pytest.raises(ConfigError) as info:
        Project.read(path)
    assert (info.value.file, info.value.key) == (str(path), "(file)")
    assert "not UTF-8 (byte 0xff at line 4, offset 24)" in info.value.problem
    path.write_text("a = " + "{b = " * 3000 + "1" + "}" * 3000 + "\n")
    with pytest.raises(ConfigError, match="nested too deeply"):
        Project.read(path)


def test_coverage_source_is_left_to_the_project_only_when_it_sets_one(tmp_path: Path) -> None:
    # The description says "open source" and [tool.coverage.run] holds only `branch`:
    # coverage still needs --source (a text search for "source" used to drop it).
    body = (
        '[project]\nname = "p"\ndescription = "An open source tool"\n'
        "[tool.coverage.run]\nbranch = true\n"
    )
    assert _coverage_source_args(load(_write(tmp_path, body))) == ["--source=src"]
    body += 'source_pkgs = ["p"]\n'
    assert _coverage_source_args(load(_write(tmp_path, body))) == []


def test_bandit_reads_pyproject_only_when_it_has_a_bandit_table(tmp_path: Path) -> None:
    assert _bandit_config_args(load(_write(tmp_path, '[project]\nname = "p"\n'))) == []
    config = load(_write(tmp_path, '[tool.bandit.assert_used]\nskips = ["*/test_*.py"]\n'))
    assert _bandit_config_args(config) == ["-c", str(config.project.path)]
