"""noxops.runtime.noxapi: nox's internals checked once; when they changed, the features that use
them turn off with one warning line and sessions still run."""

from __future__ import annotations

import sys
import types
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

# nox runs on Python 3.10+; on 3.9 noxops is a library only.
nox_sessions = pytest.importorskip("nox.sessions")
nox_registry = pytest.importorskip("nox.registry")
nox_command = pytest.importorskip("nox.command")

import nox  # noqa: E402

from noxops.config import load  # noqa: E402
from noxops.incremental import envguard, prepare  # noqa: E402
from noxops.runtime import noxapi  # noqa: E402
from noxops.runtime.declare import _make_session, sessions  # noqa: E402
from noxops.stages.base import Stage  # noqa: E402


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    noxapi.reset()
    monkeypatch.setitem(prepare._state, "begun", False)
    monkeypatch.setitem(prepare._state, "worker", None)
    monkeypatch.setattr(nox_registry, "_REGISTRY", {})
    monkeypatch.setenv("XDG_CACHE_HOME", "/tmp/noxops-test-cache")
    monkeypatch.delenv("CI", raising=False)
    yield
    noxapi.reset()


def _project(tmp_path: Path) -> Path:
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "pkg"\n[tool.noxops]\n')
    return tmp_path


class _Session:
    """Just enough of a nox.Session for a stage to run outside nox (no runner, no venv)."""

    def __init__(self) -> None:
        self.name = "custom"
        self.posargs: list[str] = []
        self.python = None
        self.logged: list[str] = []

    def log(self, message: str) -> None:
        self.logged.append(message)

    def error(self, message: str) -> None:
        raise AssertionError(message)


def test_the_installed_nox_passes_the_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert noxapi.check() and noxapi.enabled()
    assert capsys.readouterr().err == ""


def test_a_missing_internal_turns_the_features_off_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delattr(nox_sessions.SessionRunner, "_create_venv")
    assert not noxapi.check()
    assert not noxapi.check() and not noxapi.enabled()  # checked once, said once
    noxapi.disable("something else")  # a later problem is not repeated either
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert err[0].startswith("nox > noxops: nox ")
    assert "SessionRunner._create_venv is missing or has changed" in err[0]
    assert noxapi.NOX_SUPPORTED in err[0]

    config = load(_project(tmp_path))
    session = _Session()
    # Neither feature touches the session (which has no nox runner to look into).
    prepare.begin(cast(nox.Session, session), {}, config)
    assert prepare._state["worker"] is None
    assert envguard.guard(cast(nox.Session, session)) is session

    # A noxops session still runs its stage, plainly.
    ran: list[Any] = []
    st = Stage(name="custom", func=lambda s, c: ran.append(s), doc="A custom stage.")
    run = _make_session(st, config, {"custom": (st, config)}, {})
    run(session)
    assert ran == [session]
    assert (config.reports / "sessions" / "custom.json").is_file()


def test_sessions_runs_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(nox_sessions, "resolve_venv_backends", None)
    sessions(_project(tmp_path))
    err = capsys.readouterr().err
    assert err.count("nox > noxops: nox ") == 1
    assert "(nox.sessions.resolve_venv_backends is missing or has changed)" in err
    assert not noxapi.enabled()


def test_a_session_named_like_a_stage_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(noxapi._hook, "installed", False)
    monkeypatch.setattr(noxapi, "_stage_sessions", set())

    def lint(session: nox.Session) -> None:
        """Mine."""

    with warnings.catch_warnings(record=True):  # nox's own warnings go to stderr
        warnings.simplefilter("always")
        sessions(_project(tmp_path), exclude=["security"])
        sessions(tmp_path, exclude=["security"])  # noxops registering again is not refused
        nox.session(lint, name="security")  # an excluded stage's name is the user's
        with pytest.raises(SystemExit) as caught:
            nox.session(lint, name="lint")
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "defines a session 'lint' after noxops.sessions() registered the 'lint' stage" in err
    assert 'noxops.sessions(exclude=["lint"])' in err


def test_a_parallel_run_starts_in_the_order_given_and_reports_in_queue_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import nox._parallel

    started: list[str] = []

    def runner(name: str, parallel: bool) -> Any:
        return types.SimpleNamespace(
            friendly_name=name, func=types.SimpleNamespace(allow_parallel=parallel)
        )

    def original(manifest: Any, global_config: Any, jobs: int) -> list[Any]:
        started.extend(r.friendly_name for r in manifest._queue)
        return [types.SimpleNamespace(session=r) for r in manifest._queue]

    monkeypatch.setattr(nox._parallel, "run_manifest_parallel", original)
    monkeypatch.setitem(noxapi._hook, "parallel", False)
    monkeypatch.setattr(sys, "argv", ["nox", "-j", "2"])
    seen: list[list[tuple[str, bool]]] = []

    def order(items: list[tuple[str, bool]]) -> list[int]:
        seen.append(items)
        return [2, 0, 1]

    noxapi.order_parallel_runs(order)
    queue = [runner("lint", True), runner("integration", False), runner("tests-3.11", True)]
    manifest = types.SimpleNamespace(_queue=list(queue))
    results = nox._parallel.run_manifest_parallel(manifest, types.SimpleNamespace(), 2)
    assert seen == [[("lint", True), ("integration", False), ("tests-3.11", True)]]
    assert started == ["tests-3.11", "lint", "integration"]
    assert [r.session.friendly_name for r in results] == ["lint", "integration", "tests-3.11"]

    # An order that fails (or a wrong one) leaves nox's own order: never the reason a run fails.
    def broken(items: list[tuple[str, bool]]) -> list[int]:
        raise OSError("unreadable records")

    noxapi.order_parallel_runs(broken)  # the latest call's order is the one used
    started.clear()
    nox._parallel.run_manifest_parallel(types.SimpleNamespace(_queue=list(queue)), None, 2)
    assert started == ["lint", "integration", "tests-3.11"]

    # nox's per-session processes never install it.
    monkeypatch.setattr(nox._parallel, "run_manifest_parallel", original)
    monkeypatch.setitem(noxapi._hook, "parallel", False)
    monkeypatch.setattr(sys, "argv", ["nox", "--parallel-worker", "-s", "lint"])
    noxapi.order_parallel_runs(order)
    assert nox._parallel.run_manifest_parallel is original


@pytest.mark.parametrize(
    ("module", "name", "said"),
    [
        (nox_registry, "_REGISTRY", "nox.registry._REGISTRY"),
        (nox_command, "CommandFailed", "nox.command.CommandFailed"),
    ],
)
def test_the_check_covers_the_registry_and_the_failed_command(
    module: Any,
    name: str,
    said: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delattr(module, name)
    assert not noxapi.check()
    assert f"({said} is missing or has changed)" in capsys.readouterr().err


def test_command_failed_is_what_a_failed_command_raises() -> None:
    """Stages catch and raise ``noxapi.CommandFailed``; ``stage_failure`` tells it apart (a
    stage's own verdict) from any other exception."""
    assert noxapi.CommandFailed is nox_command.CommandFailed
    with pytest.raises(noxapi.CommandFailed):
        nox_command.run([sys.executable, "-c", "raise SystemExit(3)"], silent=True)
    assert noxapi.stage_failure(noxapi.CommandFailed("no")) == "command"
    with pytest.raises(AttributeError, match="no attribute 'CommandFaild'"):
        noxapi.CommandFaild  # noqa: B018


def test_isolated_registry_sees_new_sessions_and_puts_the_registry_back() -> None:
    def mine(session: nox.Session) -> None:
        """Registered before: must survive the load."""

    def theirs(session: nox.Session) -> None:
        """A noxfile's own session."""

    nox.session(mine)
    before = dict(nox_registry._REGISTRY)
    assert list(before) == ["mine"]
    with noxapi.isolated_registry() as registered:
        assert registered() == {}
        nox.session(theirs, default=False)
        assert list(registered()) == ["theirs"]
        assert registered()["theirs"].default is False
    assert before == nox_registry._REGISTRY

    with pytest.raises(RuntimeError), noxapi.isolated_registry():
        nox.session(theirs)
        raise RuntimeError("the noxfile failed to load")
    assert before == nox_registry._REGISTRY


def test_noxops_ci_loads_a_noxfile_without_leaking_its_sessions(tmp_path: Path) -> None:
    """``noxops ci`` (noxops.ci.declared) sees a noxfile's plain sessions through the seam and
    leaves nox's registry as it found it."""
    from noxops.ci import declared

    def mine(session: nox.Session) -> None:
        """Registered before the load."""

    nox.session(mine)
    before = dict(nox_registry._REGISTRY)
    project = _project(tmp_path)
    (project / "noxfile.py").write_text(
        "import nox\nimport noxops\n\nnoxops.sessions()\n\n\n"
        "@nox.session(python=False)\ndef spelling(session):\n"
        '    """Check the spelling."""\n',
        encoding="utf-8",
    )
    found = declared.load(load(project))
    assert found.own == ("spelling",)
    assert found.stages["spelling"].doc == "Check the spelling."
    assert "lint" in found.stages
    assert before == nox_registry._REGISTRY
