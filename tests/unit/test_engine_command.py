"""``engine.docker``: a Ctrl-C during a command that creates something lets it finish first.

The engine goes on creating a network or container when the CLI is stopped half-way; a run
that stopped the CLI at once would look for it before it exists and leave it behind. The
``docker`` here is a stand-in script on PATH that says it runs, then waits until the test
lets it finish and records that it did, as the engine would finish creating. Every step
waits on an event (a file, a handled signal), never on a time margin.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

from noxops.containers import engine

STAND_IN = """#!/bin/sh
echo $$ > "$FAKE_DOCKER_DIR/pid.new" && mv "$FAKE_DOCKER_DIR/pid.new" "$FAKE_DOCKER_DIR/pid"
while [ ! -e "$FAKE_DOCKER_DIR/go" ]; do sleep 0.05; done
echo "$*" > "$FAKE_DOCKER_DIR/done"
echo 4f2a
"""
WAIT = 60.0  # generous: only a hung run reaches it


class StandIn:
    """The stand-in CLI's folder: ``pid`` once it runs, ``go`` to let it finish, ``done``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.spawned: list[int] = []  # every process docker() started

    def running(self) -> int:
        """Wait until the stand-in runs; its pid."""
        pid_file = self.folder / "pid"
        deadline = time.monotonic() + WAIT
        while not pid_file.exists():
            assert time.monotonic() < deadline, "the stand-in CLI never started"
            time.sleep(0.01)
        return int(pid_file.read_text())

    def finish(self) -> None:
        (self.folder / "go").touch()

    @property
    def done(self) -> str:
        path = self.folder / "done"
        return path.read_text().strip() if path.exists() else ""


@pytest.fixture
def stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    cli = bin_dir / "docker"
    cli.write_text(STAND_IN)
    cli.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_DOCKER_DIR", str(tmp_path))
    helper = StandIn(tmp_path)
    real_popen = subprocess.Popen

    class Recorded(real_popen):  # type: ignore[misc,valid-type]
        def _execute_child(self, *args: Any, **kwargs: Any) -> None:
            super()._execute_child(*args, **kwargs)
            helper.spawned.append(self.pid)  # forked: also when Popen() then raises

    monkeypatch.setattr(subprocess, "Popen", Recorded)
    yield helper
    # Whatever the outcome, this test leaves no process behind (a later test counts them).
    helper.finish()
    for pid in helper.spawned:
        _reap(pid)


def _reap(pid: int) -> None:
    """Kill ``pid``'s group and reap ``pid`` when it is still this process's child."""
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):  # reaped already: by docker() itself
        os.waitpid(pid, 0)


def _gone(pid: int) -> bool:
    """Whether ``pid`` was stopped and reaped (a zombie still answers ``kill 0``)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture
def handled() -> Iterator[threading.Event]:
    """SIGINT raises KeyboardInterrupt, and the event tells that it did."""
    event = threading.Event()

    def handler(signum: int, frame: Any) -> None:
        event.set()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, handler)
    yield event
    signal.signal(signal.SIGINT, previous)


def _in_thread(step: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=step, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("complete", [True, False], ids=["creating", "other"])
def test_ctrl_c_waits_for_a_creating_command_only(
    stand_in: StandIn, handled: threading.Event, complete: bool
) -> None:
    def ctrl_c_while_it_runs() -> None:
        stand_in.running()
        os.kill(os.getpid(), signal.SIGINT)
        if complete and handled.wait(WAIT):
            stand_in.finish()  # only once the Ctrl-C has reached the run

    helper = _in_thread(ctrl_c_while_it_runs)
    with pytest.raises(KeyboardInterrupt):
        engine.docker("network", "create", "noxops-smoke-x", complete=complete)
    helper.join(WAIT)
    [pid] = stand_in.spawned
    assert _gone(pid)  # waited for, or stopped: never left running
    if complete:
        # The Ctrl-C came through, but only once what the command creates exists.
        assert stand_in.done == "network create noxops-smoke-x"
    else:
        # Any other command is stopped at once, with everything it started.
        assert stand_in.done == ""


@pytest.mark.parametrize("complete", [True, False], ids=["creating", "other"])
def test_a_signal_while_the_child_is_made_neither_leaves_it_nor_half_makes_it(
    stand_in: StandIn,
    handled: threading.Event,
    monkeypatch: pytest.MonkeyPatch,
    complete: bool,
) -> None:
    """The Ctrl-C lands inside ``subprocess.Popen``, after the fork: the child exists but
    Popen has not returned it. It counts as a Ctrl-C during the command."""
    recorded = subprocess.Popen

    class InterruptedWhileStarting(recorded):  # type: ignore[misc,valid-type]
        def _execute_child(self, *args: Any, **kwargs: Any) -> None:
            super()._execute_child(*args, **kwargs)
            os.kill(os.getpid(), signal.SIGINT)  # handled at the next line of Python

    monkeypatch.setattr(subprocess, "Popen", InterruptedWhileStarting)

    def let_it_finish() -> None:
        if handled.wait(WAIT):
            stand_in.finish()

    helper = _in_thread(let_it_finish)
    with pytest.raises(KeyboardInterrupt):
        engine.docker("create", "--label", "x", "img", complete=complete)
    helper.join(WAIT)
    [pid] = stand_in.spawned
    assert _gone(pid)
    assert stand_in.done == ("create --label x img" if complete else "")


def test_a_signal_before_the_child_exists_starts_nothing(
    stand_in: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``complete=True`` cannot finish what never began: the Ctrl-C is raised at once and no
    command runs."""
    real = engine.docker_binary

    def interrupted_first() -> str:
        os.kill(os.getpid(), signal.SIGINT)
        return real()

    monkeypatch.setattr(engine, "docker_binary", interrupted_first)
    with pytest.raises(KeyboardInterrupt):
        engine.docker("network", "create", "noxops-smoke-x", complete=True)
    assert stand_in.spawned == []
    assert not (stand_in.folder / "pid").exists()
