"""Real nox runs: environments prepared in the background during a sequential cold run.

The clean fixture runs ``lint``, ``type`` and two ``tests-<python>`` sessions. Only ``lint``
(the first) may install in the foreground; the others must find their environment built and
fingerprinted. A failing background install and Ctrl-C must leave nothing behind.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

pytest.importorskip("nox")

from support.noxrun import installed, matrix_project, run_nox, sections, set_noxops

from noxops.incremental.fingerprint import ENV_FILE
from noxops.project import interpreters

OTHER = "3.12"
SESSIONS = ("-s", "lint", "type", "tests")

pytestmark = pytest.mark.skipif(
    interpreters.find("3.11") is None or interpreters.find(OTHER) is None,
    reason=f"needs Python 3.11 and {OTHER} on this machine",
)


def test_a_cold_run_builds_the_queued_environments_while_lint_runs(tmp_path: Path) -> None:
    project = matrix_project(tmp_path, OTHER)
    cold = run_nox(project, *SESSIONS)
    assert cold.returncode == 0, str(cold)
    prepared = ("type", "tests-3.11", f"tests-{OTHER}")
    assert (
        f"noxops: preparing the environments of {', '.join(prepared)} in the background"
        in cold.output
    ), str(cold)
    # Only the first session installed anything itself; the others found every install done,
    # which also proves each stage's declared plan is exactly what the stage installs.
    assert installed(cold) == {"lint"}, str(cold)
    parts = sections(cold)
    for name in prepared:
        assert "noxops: environment up to date, skipped: install" in parts[name], name
        assert "recreating" not in parts[name]
        record = json.loads((project / ".nox" / name.replace(".", "-") / ENV_FILE).read_text())
        assert record["installs"], name
    # Built on the interpreter each session asks for, and usable: the tests really ran.
    cfg = (project / ".nox" / f"tests-{OTHER.replace('.', '-')}" / "pyvenv.cfg").read_text()
    assert re.search(rf"version_info = {re.escape(OTHER)}\.", cfg), cfg
    assert (project / "reports" / f"junit-{OTHER}.xml").is_file()
    assert (project / "reports" / f"coverage-{OTHER}.xml").is_file()

    warm = run_nox(project, *SESSIONS)
    assert warm.returncode == 0 and installed(warm) == set(), str(warm)
    assert "in the background" not in warm.output


def test_turned_off_every_session_installs_for_itself(tmp_path: Path) -> None:
    project = matrix_project(tmp_path, OTHER)
    set_noxops(project, "prepare_ahead = false")
    run = run_nox(project, "-s", "lint", "tests-3.11")
    assert run.returncode == 0, str(run)
    assert "in the background" not in run.output
    assert installed(run) == {"lint", "tests-3.11"}
    # The variable wins over the configuration.
    (project / ".nox" / "tests-3-11").rename(project / "old-env")
    forced = run_nox(project, "-s", "lint", "tests-3.11", env={"NOXOPS_PREPARE_AHEAD": "1"})
    assert forced.returncode == 0, str(forced)
    assert "preparing the environments of tests-3.11 in the background" in forced.output
    assert installed(forced) == set()


def test_a_failed_background_install_is_redone_by_its_session_with_the_error(
    tmp_path: Path,
) -> None:
    project = matrix_project(tmp_path, OTHER)
    pyproject = project / "pyproject.toml"
    missing = "noxops-no-such-distribution-4f2a"
    pyproject.write_text(
        pyproject.read_text().replace('test = ["pytest"]', f'test = ["pytest", "{missing}"]')
    )
    run = run_nox(project, "-s", "lint", "tests-3.11")
    assert run.returncode != 0, str(run)
    parts = sections(run)
    assert "Session lint was successful" in run.output
    tests = parts["tests-3.11"]
    assert "preparing this environment in the background failed; building it here" in tests
    assert "uv pip install" in tests and missing in tests  # the installer's own error, shown
    assert "Session tests-3.11 failed" in run.output
    assert (
        not (project / ".nox" / "tests-3-11" / ENV_FILE).exists()
        or not json.loads((project / ".nox" / "tests-3-11" / ENV_FILE).read_text())["installs"]
    )


SLOW_BACKEND = '''
"""A build backend that hangs: the background install of the project never ends by itself."""
import pathlib
import time

def _hang(*args, **kwargs):
    pathlib.Path(__file__).with_name("started").write_text("x")
    time.sleep(600)
    raise SystemExit(1)

get_requires_for_build_editable = get_requires_for_build_wheel = _hang
build_editable = build_wheel = build_sdist = _hang
'''


def _processes_in(folder: Path) -> list[str]:
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "cwd"]):
        try:
            text = " ".join(proc.info["cmdline"] or []) + " " + (proc.info["cwd"] or "")
        except psutil.Error:  # pragma: no cover - gone meanwhile
            continue
        if str(folder) in text and proc.pid != os.getpid():
            found.append(f"{proc.pid}: {text}")
    return found


def _interrupt_all_but(group: int, spared: int) -> None:
    """SIGINT to every process of ``group`` except ``spared``."""
    for other in psutil.process_iter():
        try:
            if os.getpgid(other.pid) == group and other.pid != spared:
                other.send_signal(signal.SIGINT)
        except (psutil.Error, ProcessLookupError):  # pragma: no cover - gone meanwhile
            continue


@pytest.mark.parametrize("target", ["terminal", "nox-only", "all-but-nox"])
def test_ctrl_c_stops_the_background_install_and_removes_its_environment(
    tmp_path: Path, target: str
) -> None:
    """Ctrl-C in a terminal reaches every process of the group; a signal to nox alone (sent
    while ``type`` waits for its environment) must be enough too. nox goes on when the
    command it runs exits 0 despite a Ctrl-C (``all-but-nox`` is that case, made certain):
    the background installer died of the same Ctrl-C, so the run stops at ``type`` instead
    of building its environment again."""
    project = matrix_project(tmp_path, OTHER)
    backend = project / "_backend"
    backend.mkdir()
    (backend / "slow_backend.py").write_text(textwrap.dedent(SLOW_BACKEND))
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text().replace('requires = ["hatchling"]', "requires = []")
    text = text.replace(
        'build-backend = "hatchling.build"',
        'build-backend = "slow_backend"\nbackend-path = ["_backend"]',
    )
    pyproject.write_text(text)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(NO_COLOR="1", FORCE_COLOR="0")
    log = tmp_path / "nox.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "nox", "--no-color", "-s", "lint", "type"],
            cwd=project,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal gives it
        )
    try:
        deadline = time.monotonic() + 120
        while not (backend / "started").exists() or (
            target == "nox-only" and "Running session type" not in log.read_text()
        ):
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        assert (project / ".nox" / "type").is_dir()
        if target == "terminal":
            os.killpg(proc.pid, signal.SIGINT)
        elif target == "nox-only":
            proc.send_signal(signal.SIGINT)
        else:
            _interrupt_all_but(proc.pid, spared=proc.pid)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:  # pragma: no cover - only when the test already failed
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    output = log.read_text()
    assert proc.returncode != 0, output
    assert "preparing the environments of type in the background" in output
    if target == "all-but-nox":
        assert "Session type interrupted" in output, output
    time.sleep(0.5)
    assert _processes_in(project) == [], output  # no uv, no build backend left running
    assert not (project / ".nox" / "type").exists(), output  # nothing half built left behind
