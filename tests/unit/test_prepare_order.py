"""Cold runs: environments built two at a time, and a ready session run before a waiting one."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

pytest.importorskip("nox")

import nox

from noxops.incremental import fingerprint, prepare
from noxops.runtime import noxapi


class _Func:
    def __init__(self, requires: list[str]) -> None:
        self.requires = requires


class _Runner:
    def __init__(self, name: str, requires: list[str] | None = None) -> None:
        self.friendly_name = name
        self.func = _Func(requires or [])


class _Session:
    def __init__(self) -> None:
        self.logged: list[str] = []

    def log(self, message: str) -> None:
        self.logged.append(message)


def _job(runner: _Runner, state: str) -> prepare.Preparation:
    return prepare.Preparation(
        session=runner.friendly_name,
        location="/nowhere",
        interpreter="python",
        record=fingerprint.EnvRecord("b", []),
        installs=[],
        runner=runner,
        state=state,
    )


def test_a_session_whose_environment_is_ready_runs_before_one_still_being_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    building, needs, ready = _Runner("tests-3.12"), _Runner("coverage", ["tests"]), _Runner("type")
    queue: list[Any] = [building, needs, ready]
    worker = prepare.Worker(uv="uv", cwd=Path(), parallel=2)
    worker.jobs = [_job(building, "running"), _job(needs, "done"), _job(ready, "done")]
    monkeypatch.setitem(prepare._state, "worker", worker)
    monkeypatch.setattr(noxapi, "queued_runners", lambda session: list(queue))

    def run_next(session: Any, runner: Any) -> bool:
        queue.remove(runner)
        queue.insert(0, runner)
        return True

    monkeypatch.setattr(noxapi, "run_next", run_next)
    session = _Session()
    prepare.promote_ready(cast(nox.Session, session))
    assert queue == [ready, building, needs]  # coverage requires others: never moved
    assert "type next: its environment is ready" in session.logged[0]
    worker.jobs[0].state = "done"
    prepare.promote_ready(cast(nox.Session, session))  # the head is ready: order kept
    assert queue == [ready, building, needs]


def test_two_builders_on_two_cores_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(prepare.JOBS_VAR, raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert prepare.builders() == 2
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert prepare.builders() == 1
    monkeypatch.setenv(prepare.JOBS_VAR, "3")
    assert prepare.builders() == 3
    assert len(prepare.Worker(uv="uv", cwd=Path(), parallel=2)._threads) == 2
