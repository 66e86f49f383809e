"""lint runs the project's own linters (issue 24, item 4); init's noxfile follows the
project's import layout (item 12).

flake8 with its plugins at their pins where the project configures or pins flake8, ruff where
it configures ruff's linter, pylint (its own stage) where it configures pylint, and ruff with
ruff's defaults only where it configures none, saying so.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.noxrun import FIXTURES
from support.projects import write_project

from noxops.commands.init import detect, noxfile_text
from noxops.config import load
from noxops.errors import ConfigError
from noxops.project import tools
from noxops.reports.collect import expected_checks, gather
from noxops.reports.model import ReadProblem
from noxops.reports.scanners import read_flake8
from noxops.stages import STAGES
from noxops.stages import lint as lint_stage
from noxops.stages import pylint as pylint_stage


def _checks(root: Path) -> list[str]:
    config = load(root)
    return list(lint_stage._checks(config, lint_stage.lint_paths(config)))


def test_a_flake8_project_is_linted_by_flake8_with_its_plugin_at_their_pins() -> None:
    config = load(FIXTURES / "flake8_project")
    assert tools.linter_names(config) == ["flake8"]
    assert lint_stage.lint_env(config, None) == [
        ("black==24.8.0", "isort==5.13.2", "flake8==7.1.1", "flake8-bugbear==24.8.19")
    ]
    [choice] = tools.linters(config)
    assert tools.describe_linter(config, choice) == (
        "lint: flake8 7.1.1 (requirements-dev.txt) with flake8-bugbear 24.8.19, "
        "config setup.cfg [flake8]"
    )
    checks = lint_stage._checks(config, ["src"])
    assert list(checks) == ["black", "isort", "flake8"]  # no `ruff check` the project never ran
    assert checks["flake8"][:2] == ["flake8", "--format=default"]
    assert "--tee" in checks["flake8"]
    expected = expected_checks(config, STAGES.for_config(config))
    assert expected.get("flake8") == "lint"
    assert "lint" not in expected  # no ruff report is expected from it


def test_with_no_linter_configured_lint_runs_ruffs_defaults_and_says_so(tmp_path: Path) -> None:
    config = load(write_project(tmp_path, '[project]\nname = "bare"\n'))
    [choice] = tools.linters(config)
    assert tools.describe_linter(config, choice) == (
        "lint: ruff check with ruff's defaults (the project configures no linter)"
    )
    assert "ruff" in _checks(tmp_path)
    assert not STAGES["pylint"].enabled(config)  # pylint stays opt-in


def test_ruffs_linter_wins_over_a_leftover_flake8_config_not_over_a_flake8_hook(
    tmp_path: Path,
) -> None:
    write_project(
        tmp_path,
        '[tool.ruff.lint]\nselect = ["E", "F"]\n[dependency-groups]\ndev = ["ruff==0.8.6"]\n',
        **{".flake8": "[flake8]\nmax-line-length = 100\n"},
    )
    config = load(tmp_path)
    assert tools.linter_names(config) == ["ruff"]
    assert tools.describe_linter(config, tools.linters(config)[0]) == (
        "lint: ruff 0.8.6 (pyproject.toml), config [tool.ruff.lint] in pyproject.toml"
    )
    (tmp_path / ".pre-commit-config.yaml").write_text(
        "repos:\n  - repo: https://github.com/PyCQA/flake8\n    rev: 7.1.1\n    hooks:\n"
        "      - id: flake8\n        additional_dependencies:\n"
        "          - flake8-bugbear==24.8.19\n          - pep8-naming==0.14.1\n"
        "          - types-requests\n"
    )
    config = load(tmp_path)
    assert tools.linter_names(config) == ["ruff", "flake8"]
    assert tools.requirement(config, "flake8") == "flake8==7.1.1"
    assert tools.flake8_plugins(config) == ["flake8-bugbear==24.8.19", "pep8-naming==0.14.1"]
    assert _checks(tmp_path)[-2:] == ["ruff", "flake8"]


@pytest.mark.parametrize(
    ("files", "why"),
    [
        ({"tox.ini": "[tox]\nenvlist = py311\n\n[flake8]\nignore = W503\n"}, "config tox.ini"),
        ({".flake8": "[flake8]\nmax-complexity = 10\n"}, "config .flake8 [flake8]"),
        (
            # hashes and line continuations, as pip-compile writes them
            {"requirements-dev.txt": "flake8==6.1.0 \\\n    --hash=sha256:d5b3\n"},
            "flake8's defaults (the project installs flake8, configures nothing)",
        ),
    ],
)
def test_flake8_is_found_where_flake8_looks(
    tmp_path: Path, files: dict[str, str], why: str
) -> None:
    config = load(write_project(tmp_path, "", **files))
    [choice] = tools.linters(config)
    assert (choice.tool, choice.why[: len(why)]) == ("flake8", why)
    assert "ruff" not in _checks(tmp_path)


def test_pylint_as_the_projects_linter_turns_its_stage_on_at_the_pinned_version(
    tmp_path: Path,
) -> None:
    write_project(
        tmp_path,
        '[project]\nname = "app"\n[build-system]\nrequires = ["hatchling"]\n'
        'build-backend = "hatchling.build"\n',
        **{".pylintrc": "[MAIN]\njobs = 1\n", "requirements-dev.txt": "pylint==2.17.7\n"},
    )
    config = load(tmp_path)
    assert tools.linter_names(config) == ["pylint"]
    assert STAGES["pylint"].enabled(config)
    assert "pylint==2.17.7" in pylint_stage.pylint_env(config, None)[0]
    assert pylint_stage._json(config) == "json"  # pylint 2 has no json2
    assert "ruff" not in _checks(tmp_path)  # not ruff's defaults beside the project's pylint
    assert tools.describe_linter(config, tools.linters(config)[0]).endswith(
        "config .pylintrc; the pylint session runs it (advisory in the report)"
    )
    with (tmp_path / "pyproject.toml").open("a") as fh:
        fh.write("[tool.noxops.pylint]\nenabled = false\n")
    assert not STAGES["pylint"].enabled(load(tmp_path))


def test_the_linters_setting_overrides_and_a_wrong_name_is_one_line(tmp_path: Path) -> None:
    write_project(tmp_path, '[tool.noxops.lint]\nlinters = ["ruff", "flake8"]\n')
    assert tools.linter_names(load(tmp_path)) == ["ruff", "flake8"]
    write_project(tmp_path, '[tool.noxops.lint]\nlinters = ["flake9"]\n')
    with pytest.raises(ConfigError) as caught:
        load(tmp_path)
    message = str(caught.value)
    assert "tool.noxops.lint.linters[0]" in message and "'flake8'" in message
    assert "\n" not in message


def test_flake8s_report_file_is_read_with_file_and_line(tmp_path: Path) -> None:
    report = tmp_path / "flake8.txt"
    report.write_text(
        "./src/app/a.py:4:9: B006 Do not use mutable data structures for argument defaults.\n"
        "    def f(x=[]):\n"  # --show-source from the project's settings
        "            ^\n"
        "src/app/b.py:1:1: E999 SyntaxError: invalid syntax\n"
        "1     B006 Do not use mutable data structures for argument defaults.\n"  # --statistics
    )
    findings = read_flake8(report, tmp_path)
    assert [(f.tool, f.rule, f.path, f.line, f.column) for f in findings] == [
        ("flake8", "B006", "src/app/a.py", 4, 9),
        ("flake8", "E999", "src/app/b.py", 1, 1),
    ]
    report.write_text("")  # flake8 creates it when it starts: found nothing
    assert read_flake8(report, tmp_path) == []
    report.unlink()
    with pytest.raises(ReadProblem, match="missing"):
        read_flake8(report, tmp_path)


def test_the_report_shows_flake8s_findings_in_a_check_of_their_own(tmp_path: Path) -> None:
    write_project(tmp_path, "", **{"setup.cfg": "[flake8]\nmax-line-length = 100\n"})
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "flake8.txt").write_text(
        "src/a.py:3:1: F401 'os' imported but unused\n"
    )
    config = load(tmp_path)
    checks, _coverage, _problems = gather(config, STAGES.for_config(config))
    by_name = {c.name: c for c in checks}
    flake8 = by_name["flake8"]
    assert (flake8.status, flake8.summary) == ("failed", "1 flake8 finding(s)")
    assert [(f.rule, f.path, f.line) for f in flake8.findings] == [("F401", "src/a.py", 3)]


def test_inits_noxfile_follows_isort_and_ruffs_import_layout(tmp_path: Path) -> None:
    found = detect(FIXTURES / "flake8_project")  # setup.cfg [isort] lines_after_imports = 2
    assert (found.lines_after_imports, found.future_imports) == (2, [])
    assert found.linters == [
        "formatter: black (the project uses black); import sorter: isort (the project uses isort)",
        "lint: flake8 7.1.1 (requirements-dev.txt) with flake8-bugbear 24.8.19, "
        "config setup.cfg [flake8]",
    ]
    assert "import noxops\n\n\ndef pipeline() -> None:" in noxfile_text(2)
    write_project(
        tmp_path,
        '[project]\nname = "p"\n[tool.ruff.lint]\nselect = ["E", "I"]\n'
        "[tool.ruff.lint.isort]\nlines-after-imports = 2\n"
        'required-imports = ["from __future__ import annotations"]\n',
    )
    found = detect(tmp_path)
    assert (found.lines_after_imports, found.future_imports) == (
        2,
        ["from __future__ import annotations"],
    )
    write_project(tmp_path, '[project]\nname = "p"\n[tool.isort]\nprofile = "attrs"\n')
    assert detect(tmp_path).lines_after_imports == 2  # the attrs profile sets it
    (tmp_path / ".isort.cfg").write_text("[settings]\nprofile = black\n")
    assert detect(tmp_path).lines_after_imports == 1  # isort reads .isort.cfg first


# A setuptools project linted by flake8 from tox (cachetools' shape): its plugins, one only
# for CPython and an old black only for Pythons before 3.8, are listed in [testenv:flake8].
_TOX_FLAKE8 = """\
[tox]
envlist = flake8,py

[testenv]
deps =
    pytest
commands =
    pytest

[testenv:flake8]
deps =
    flake8==7.1.1
    flake8-black; implementation_name == "cpython"
    black==22.12.0; implementation_name == "cpython" and python_version < "3.8"
    flake8-bugbear
    flake8-import-order
commands =
    flake8
skip_install = true
"""


def test_flake8_from_tox_deps_with_its_plugins_and_no_default_black_or_isort(
    tmp_path: Path,
) -> None:
    # Issue 24: the project checks imports with flake8-import-order (its `I` codes) and
    # formats with nothing noxops should add: no isort or black of noxops's own choosing.
    write_project(
        tmp_path,
        "",
        **{
            "setup.cfg": "[flake8]\nmax-line-length = 80\nselect = C, E, F, W, B, B950, I, N\n",
            "tox.ini": _TOX_FLAKE8,
        },
    )
    config = load(tmp_path)
    assert tools.linter_names(config) == ["flake8"]
    assert tools.flake8_plugins(config) == [
        "flake8-black",
        "flake8-bugbear",
        "flake8-import-order",
    ]
    assert lint_stage.lint_env(config, None) == [
        ("flake8==7.1.1", "flake8-black", "flake8-bugbear", "flake8-import-order")
    ]
    assert list(_checks(tmp_path)) == ["flake8"]
    assert tools.describe(config)[0] == (
        "formatter: none (the project's flake8 with flake8-black checks formatting); "
        "import sorter: none (the project's flake8 with flake8-import-order checks imports)"
    )
    assert tools.describe(config)[1] == (
        "lint: flake8 7.1.1 (tox.ini [testenv:flake8]) with flake8-black, flake8-bugbear, "
        "flake8-import-order, config setup.cfg [flake8]"
    )
    assert detect(tmp_path).linters == tools.describe(config)  # init says the same


def test_a_configured_linter_without_formatter_or_sorter_gets_none_of_noxopss_defaults(
    tmp_path: Path,
) -> None:
    write_project(tmp_path, "", **{".flake8": "[flake8]\nmax-line-length = 100\n"})
    chosen = tools.choices(load(tmp_path))
    assert (chosen["formatter"].tool, chosen["imports"].tool) == ("none", "none")
    assert chosen["imports"].why == "the project's flake8 names no import sorter"
    # Where the project configures no lint tooling at all, noxops's defaults stay, said so.
    (tmp_path / "bare").mkdir()
    bare = tools.choices(load(write_project(tmp_path / "bare", '[project]\nname = "bare"\n')))
    assert (bare["formatter"].tool, bare["imports"].tool) == ("black", "isort")
    assert bare["imports"].why == "noxops's default: the project configures no lint tooling"
