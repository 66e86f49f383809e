"""noxops.sessions(): which nox sessions it registers, and how it stops on bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

# nox runs on Python 3.10+; on 3.9 noxops is a library only.
nox_registry = pytest.importorskip("nox.registry")

from noxops.config import load  # noqa: E402
from noxops.runtime.declare import sessions  # noqa: E402


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    fresh: dict[str, Any] = {}
    monkeypatch.setattr(nox_registry, "_REGISTRY", fresh)
    monkeypatch.setenv("XDG_CACHE_HOME", "/tmp/noxops-test-cache")
    monkeypatch.delenv("CI", raising=False)
    return fresh


def _project(tmp_path: Path, table: str = "") -> Path:
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text(f'[project]\nname = "pkg"\n[tool.noxops]\n{table}')
    return tmp_path


def test_registers_the_pipeline_in_order(tmp_path: Path, registry: dict[str, Any]) -> None:
    pipeline = sessions(_project(tmp_path, 'python = ["3.10", "3.11"]\n'))
    assert list(registry)[:6] == ["lint", "fmt", "type", "security", "tests", "coverage"]
    assert registry["tests"].python == ["3.10", "3.11"]
    assert registry["fmt"].default is False
    assert registry["coverage"].requires == ["tests"]
    assert pipeline.session_names("tests") == ["tests-3.10", "tests-3.11"]
    assert registry["lint"].__doc__.startswith("Check formatting")


def test_only_exclude_and_disabled_sections(tmp_path: Path, registry: dict[str, Any]) -> None:
    sessions(_project(tmp_path, "[tool.noxops.security]\nenabled = false\n"), exclude=["fmt"])
    assert "security" not in registry and "fmt" not in registry and "lint" in registry
    registry.clear()
    sessions(tmp_path, only=["lint", "type"])
    assert list(registry) == ["lint", "type"]


def test_default_sessions_pick_what_plain_nox_runs(
    tmp_path: Path, registry: dict[str, Any]
) -> None:
    sessions(_project(tmp_path, 'default_sessions = ["lint"]\n'))
    assert [name for name, f in registry.items() if f.default] == ["lint"]


def test_bad_config_exits_with_one_message(
    tmp_path: Path, registry: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        sessions(_project(tmp_path, "python = ['three']\n"))
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "pyproject.toml: tool.noxops.python: " in err
    assert "'three' is not a Python version" in err
    assert registry == {}


@pytest.mark.parametrize(
    ("names", "hint"), [('["lint", "lnt"]', "did you mean 'lint'?"), ('["tests-3.12"]', "'tests'")]
)
def test_default_sessions_naming_no_stage_are_refused(
    tmp_path: Path,
    registry: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    names: str,
    hint: str,
) -> None:
    with pytest.raises(SystemExit) as caught:
        sessions(_project(tmp_path, f"default_sessions = {names}\n"))
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{tmp_path.resolve() / 'pyproject.toml'}: tool.noxops.default_sessions: " in err
    assert "no stage" in err and hint in err
    assert registry == {}


def test_default_sessions_may_name_a_stage_this_project_leaves_out(
    tmp_path: Path, registry: dict[str, Any]
) -> None:
    sessions(_project(tmp_path, 'default_sessions = ["lint", "smoke"]\n'))  # no Dockerfile
    assert "smoke" not in registry
    assert [name for name, f in registry.items() if f.default] == ["lint"]


def test_unknown_stage_name_is_refused(
    tmp_path: Path, registry: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        sessions(_project(tmp_path), exclude=["lnt"])
    assert "unknown stage(s) lnt" in capsys.readouterr().err


def test_sessions_sharing_ports_images_or_reports_run_alone_under_j(
    tmp_path: Path, registry: dict[str, Any]
) -> None:
    project = _project(tmp_path, "[tool.noxops.deploy.staging]\n")
    (project / "Dockerfile").write_text("FROM python:3.11-slim\n")
    (project / "tests" / "integration").mkdir(parents=True)
    sessions(project)
    parallel = {name for name, func in registry.items() if func.allow_parallel is not False}
    alone = set(registry) - parallel
    assert {"lint", "type", "security", "tests", "coverage"} <= parallel
    assert {"fmt", "integration", "build", "smoke", "report"} <= alone
    assert {"deploy-staging", "rollback-staging"} <= alone


def test_prepare_ahead_is_on_by_default_and_the_variable_beats_the_configuration(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from noxops.incremental import prepare

    (tmp_path / "pyproject.toml").write_text('[project]\nname = "p"\n[tool.noxops]\n')
    on = load(tmp_path)
    off = load(tmp_path, {"prepare_ahead": False})
    monkeypatch.delenv(prepare.ENV_VAR, raising=False)
    assert prepare.enabled(on) and not prepare.enabled(off)
    monkeypatch.setenv(prepare.ENV_VAR, "0")
    assert not prepare.enabled(on)
    monkeypatch.setenv(prepare.ENV_VAR, "1")
    assert prepare.enabled(off)
