"""What every test gets: the ``docker`` marker's skip, and its own temp folder and owner label.

``@pytest.mark.docker`` (or ``pytestmark``) skips a test, with what was tried, when no Docker
engine answers: the engine API (``DOCKER_HOST`` or the local socket, pinged through the docker
SDK as the ``docker`` provider does) and the ``docker`` CLI (``docker version``, as the build
and smoke stages do). It is checked once per run, on the first test that needs it, never at
import time. ``@pytest.mark.local_servers("postgres", ...)`` skips, with the product's own
reason, when the ``local`` provider finds no server binaries (system packages, or the
``local-servers`` extra that ``scripts/dev.py`` installs; it has no wheels for Python 3.13+).

Each test runs with its own ``TMPDIR`` and ``$NOXOPS_OWNER`` (inherited by the nox and noxops
processes it starts), so what it leaves behind can be told from what another test run on the
same machine or Docker engine is doing at the same time (see ``support.traces``); the
``snapshot`` and ``no_leaks`` fixtures check that.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Callable

import pytest
from support.example_ci import build_noxops_wheel
from support.traces import OWNER_ENV, Traces, traces

from noxops.containers import engine
from noxops.services.docker import engine_problem

RUN_ID = f"t{os.getpid()}-{uuid.uuid4().hex[:6]}"  # this pytest run, in owner labels
_counter = itertools.count(1)
_engine_checked: list[str | None] = []  # [] until checked, then [None] or [why not]


def docker_problem() -> str | None:
    """``None`` when a Docker engine answers both the API and the CLI, else what was tried."""
    if not _engine_checked:
        problems = []
        api = engine_problem(3.0)
        if api:
            problems.append(f"the API ping said: {api}")
        if not shutil.which("docker"):
            problems.append("the docker CLI is not on PATH")
        elif engine.available() is None:
            problems.append("`docker version` reported no server version")
        _engine_checked.append("; ".join(problems) or None)
    return _engine_checked[0]


def local_servers_problem(kinds: tuple[str, ...]) -> str | None:
    """``None`` when the ``local`` provider finds server binaries for ``kinds``, else why not."""
    from noxops.services.base import kind

    reasons = [f"{name}: {why}" for name in kinds if (why := kind(name).local_available())]
    return "; ".join(reasons) or None


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C reaches this run again when it was started with SIGINT ignored.

    The interrupt tests send SIGINT to this process and to the nox runs it starts. A job
    started in the background of a non-interactive shell has SIGINT ignored, every child
    inherits that, and Python then never raises KeyboardInterrupt. A handler set here is
    reset to the default in every child it starts.
    """
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("docker") is not None:
        problem = docker_problem()
        if problem:
            pytest.skip(f"needs a Docker engine: {problem}")
    marker = item.get_closest_marker("local_servers")
    if marker is not None:
        kinds = tuple(marker.args) or ("postgres", "redis")
        problem = local_servers_problem(kinds)
        if problem and marker.kwargs.get("or_docker") and docker_problem() is None:
            problem = None  # the services come from the Docker engine instead
        if problem:
            pytest.skip(f"the local provider has no server binaries: {problem}")


@pytest.fixture(scope="session")
def _run_temp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A short, world-searchable folder under the real temp folder for the per-test TMPDIRs.

    Short, because PostgreSQL's Unix socket lives in it (socket paths stop at 107 bytes);
    searchable (0711), because as root the local provider runs PostgreSQL as another user.
    """
    tmp_path_factory.getbasetemp()  # pytest's own tmp_path root, fixed before TMPDIR changes
    base = Path(tempfile.mkdtemp(prefix=f"noxops-{RUN_ID}-"))
    base.chmod(0o711)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(autouse=True)
def _isolated(_run_temp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """This test's own TMPDIR and owner label; the folder is removed after the test."""
    number = next(_counter)
    folder = _run_temp / str(number)
    folder.mkdir()
    folder.chmod(0o711)
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() reads TMPDIR again
    monkeypatch.setenv(OWNER_ENV, f"{RUN_ID}-{number}")
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def snapshot() -> Callable[[], Traces]:
    """Lists what this test has running now; subtract two snapshots to see what a step left."""
    return traces


@pytest.fixture
def no_leaks() -> Iterator[None]:
    """Fails the test if it leaves a server process, temp folder or container behind."""
    before = traces()
    yield
    left = traces() - before
    assert not left, f"left behind: {left}"


@pytest.fixture(scope="session")
def noxops_wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding this checkout's noxops wheel, built once per run (the CI files'
    jobs find it through ``UV_FIND_LINKS``: noxops is not published). Here, not in a
    tests/functional/conftest.py: mypy checks tests/ as one tree, where two modules named
    conftest collide."""
    wheels = tmp_path_factory.mktemp("noxops-wheels")
    build_noxops_wheel(wheels)
    return wheels
