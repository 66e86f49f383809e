"""``engine.docker``: a Ctrl-C during a command that creates something lets it finish first.

The engine goes on creating a network or container when the CLI is stopped half-way; a run
that stopped the CLI at once would look for it before it exists and leave it behind. The
``docker`` here is a stand-in script on PATH that takes its time and then records that it
finished, as the engine would finish creating.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from noxops.build import engine

SLOW_CLI = """#!/bin/sh
sleep 0.6
echo "$*" > "$FAKE_DOCKER_DONE"
echo 4f2a
"""


@pytest.fixture
def slow_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    cli = bin_dir / "docker"
    cli.write_text(SLOW_CLI)
    cli.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    done = tmp_path / "done"
    monkeypatch.setenv("FAKE_DOCKER_DONE", str(done))
    return done


def _interrupt_after(seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    return timer


@pytest.mark.parametrize("complete", [True, False], ids=["creating", "other"])
def test_ctrl_c_waits_for_a_creating_command_only(slow_docker: Path, complete: bool) -> None:
    timer = _interrupt_after(0.15)
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            engine.docker("network", "create", "noxops-smoke-x", complete=complete)
    finally:
        timer.cancel()
    waited = time.monotonic() - started
    if complete:
        # The Ctrl-C came through, but only once what the command creates exists.
        assert slow_docker.read_text().strip() == "network create noxops-smoke-x"
        assert waited >= 0.5
    else:
        # Any other command is stopped at once, with everything it started.
        time.sleep(0.8)
        assert not slow_docker.exists()
        assert waited < 0.5
