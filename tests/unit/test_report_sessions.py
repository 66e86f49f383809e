"""Each session's record and full log, as the session wrapper writes them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from noxops.config import Config, load
from noxops.reports.records import read_records, recording


class _Session:
    """What :func:`recording` needs of a nox session: its name."""

    def __init__(self, name: str) -> None:
        self.name = name


class _SessionSkip(Exception):
    """Named like nox's skip exception, which is how the recorder knows it."""


def _config(tmp_path: Path, logs: bool = True) -> Config:
    return load(tmp_path, {"report": {"session_logs": logs}})


def _record(config: Config, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (config.reports / "sessions" / f"{name}.json").read_text(encoding="utf-8")
    )
    return data


def test_success_keeps_the_full_output_of_child_processes(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    with recording(_Session("tests-3.11"), config):
        os.write(1, b"from python\n")  # nox's own output goes to the real file descriptors
        subprocess.run(
            [sys.executable, "-c", "import sys; print('child out'); sys.stderr.write('child err')"],
            check=True,
        )
    record = _record(config, "tests-3.11")
    assert record["status"] == "success" and record["reason"] == ""
    assert record["log"] == "reports/sessions/tests-3.11.log"
    assert record["duration"] >= 0 and record["started"] <= record["finished"]
    log = (config.reports / "sessions" / "tests-3.11.log").read_text()
    assert "from python" in log and "child out" in log and "child err" in log
    # ... and the terminal still got all of it, on the stream it was written to.
    out, err = capfd.readouterr()
    assert "child out" in out and "from python" in out and "child err" in err


@pytest.mark.parametrize(
    ("error", "expired", "status", "reason"),
    [
        (RuntimeError("lint failed: ruff"), False, "failed", "lint failed: ruff"),
        (RuntimeError("stopped"), True, "timed-out", "stopped"),
        (_SessionSkip("no docker"), False, "skipped", "no docker"),
        (KeyboardInterrupt(), False, "interrupted", "interrupted (Ctrl-C)"),
    ],
)
def test_failures_are_recorded_and_re_raised(
    tmp_path: Path, error: BaseException, expired: bool, status: str, reason: str
) -> None:
    config = _config(tmp_path)
    with pytest.raises(type(error)), recording(_Session("lint"), config) as recorder:
        recorder.expired = threading.Event()
        if expired:
            recorder.expired.set()
        raise error
    record = _record(config, "lint")
    assert (record["status"], record["reason"]) == (status, reason)
    records, problems = read_records(config)
    assert records["lint"].status == status and problems == []


def test_without_logs(tmp_path: Path) -> None:
    config = _config(tmp_path, logs=False)
    with recording(_Session("type"), config):
        pass
    assert _record(config, "type")["log"] is None
    assert not (config.reports / "sessions" / "type.log").exists()


def test_a_background_process_holding_the_output_does_not_hang_the_session(
    tmp_path: Path,
) -> None:
    config = _config(tmp_path)
    child = None
    start = time.monotonic()
    try:
        with recording(_Session("integration"), config):
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
        assert _record(config, "integration")["status"] == "success"
        assert time.monotonic() - start < 10
    finally:
        if child is not None:
            child.kill()
            child.wait()


def test_the_record_says_started_while_the_session_runs(tmp_path: Path) -> None:
    """A run killed half way (SIGKILL) leaves "started", never the previous outcome."""
    config = _config(tmp_path, logs=False)
    outer = os.environ.get("NOXOPS_RUN_ID")  # set when these tests run inside a noxops session
    with recording(_Session("lint"), config):
        pass
    assert _record(config, "lint")["status"] == "success"
    with recording(_Session("lint"), config):
        during = _record(config, "lint")
        run = os.environ["NOXOPS_RUN_ID"]
    assert during["status"] == "started" and during["finished"] is None
    assert during["run"] == run
    after = _record(config, "lint")
    assert after["status"] == "success" and after["run"] == run
    assert os.environ.get("NOXOPS_RUN_ID") == outer  # put back as it was
    records, problems = read_records(config)
    assert records["lint"].run == run and not problems
