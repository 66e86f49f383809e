"""Sonar: the new ``[tool.noxops.report]`` keys in sonar-project.properties, key by key, and
the scanner call.

No SonarQube server can run here (it needs a JVM server and a database), so the scanner is
not run for real: a fake runner records the command and environment the ``sonar`` session
would run ``pysonar`` with. A real ``nox -s sonar`` without a token shows the clear message.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.noxrun import copy_fixture, run_nox

from noxops.config import load
from noxops.reports.sonar import scan, scanner_argv, sonar_properties
from noxops.stages import STAGES

TOKEN = "squ_pl4nted-sonar-token"  # noqa: S105 - a test credential


def _project(tmp_path: Path, extra: str = "") -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "calc"\n[tool.noxops]\npython = ["3.11"]\n'
        "[tool.noxops.report]\n" + extra,
        encoding="utf-8",
    )
    (tmp_path / "src").mkdir()
    return tmp_path


SONAR = (
    'sonar_project_key = "acme_calc"\nsonar_organization = "acme"\n'
    'sonar_host_url = "https://sonar.example.test"\n'
    'sonar_exclusions = ["src/calc/generated/**", "**/migrations/*.py"]\n'
    "sonar_qualitygate_timeout = 120\n"
)


def _props(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and line[0] != "#")


def test_organization_host_exclusions_and_quality_gate(tmp_path: Path) -> None:
    config = load(_project(tmp_path, SONAR))
    props = _props(sonar_properties(config, STAGES.for_config(config)))
    assert props["sonar.projectKey"] == "acme_calc"
    assert props["sonar.organization"] == "acme"
    assert props["sonar.host.url"] == "https://sonar.example.test"
    assert props["sonar.exclusions"] == "src/calc/generated/**,**/migrations/*.py"
    assert props["sonar.qualitygate.wait"] == "true"
    assert props["sonar.qualitygate.timeout"] == "120"


def test_defaults_leave_organization_host_and_exclusions_out(tmp_path: Path) -> None:
    config = load(_project(tmp_path, "sonar_qualitygate_wait = false\n"))
    props = _props(sonar_properties(config, STAGES.for_config(config)))
    assert "sonar.organization" not in props and "sonar.host.url" not in props
    assert "sonar.exclusions" not in props and "sonar.qualitygate.timeout" not in props
    assert props["sonar.qualitygate.wait"] == "false"


def test_the_scanner_gets_the_properties_as_arguments_and_the_token_in_its_environment(
    tmp_path: Path,
) -> None:
    config = load(_project(tmp_path, SONAR))
    stages = STAGES.for_config(config)
    calls: list[tuple[list[str], dict[str, str]]] = []
    why = scan(config, stages, {"SONAR_TOKEN": TOKEN}, lambda argv, env: calls.append((argv, env)))
    assert why is None
    [(argv, env)] = calls
    assert argv == scanner_argv(config, stages)
    assert argv[0] == "pysonar"
    assert "-Dsonar.organization=acme" in argv
    assert "-Dsonar.host.url=https://sonar.example.test" in argv
    assert "-Dsonar.qualitygate.wait=true" in argv
    assert env == {"SONAR_TOKEN": TOKEN}
    assert not any(TOKEN in arg for arg in argv)


def test_without_a_token_it_says_so_and_runs_nothing(tmp_path: Path) -> None:
    config = load(_project(tmp_path, 'sonar_token_env = "MY_SONAR"\n'))
    calls: list[list[str]] = []
    why = scan(config, STAGES.for_config(config), {}, lambda argv, env: calls.append(argv))
    assert calls == []
    assert why is not None and why.startswith("no SonarQube token: $MY_SONAR is unset")


@pytest.mark.slow
def test_a_real_nox_run_without_a_token_skips_with_the_reason(tmp_path: Path) -> None:
    pytest.importorskip("nox")
    project = copy_fixture("clean_project", tmp_path)
    run = run_nox(project, "-s", "sonar", env={"SONAR_TOKEN": ""})
    assert run.returncode == 0, run
    assert "no SonarQube token: $SONAR_TOKEN is unset, so the scanner did not run" in run.output
    assert "Session sonar skipped" in run.output
