"""Shared helpers for the service tests: what a run leaves behind, and a Docker engine check."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import psutil
import pytest

from noxops.services.docker import LABEL, engine_problem
from noxops.services.local import TEMP_PREFIX


@dataclass(frozen=True)
class Traces:
    """Everything the service code could leave behind."""

    processes: frozenset[int]  # processes running in a noxops temp folder
    folders: frozenset[str]
    containers: frozenset[str]

    def __sub__(self, other: Traces) -> Traces:
        return Traces(
            self.processes - other.processes,
            self.folders - other.folders,
            self.containers - other.containers,
        )

    def __bool__(self) -> bool:
        return bool(self.processes or self.folders or self.containers)


def _containers() -> frozenset[str]:
    if engine_problem(3.0) is not None:
        return frozenset()
    import docker

    client = docker.from_env(timeout=10)
    try:
        return frozenset(c.id for c in client.containers.list(all=True, filters={"label": LABEL}))
    finally:
        client.close()


def traces() -> Traces:
    temp = tempfile.gettempdir()
    prefix = os.path.join(temp, TEMP_PREFIX)  # noqa: PTH118 - a string prefix
    processes = set()
    for proc in psutil.process_iter(["pid"]):
        with contextlib.suppress(psutil.Error):
            if proc.cwd().startswith(prefix):
                processes.add(proc.pid)
    folders = {str(p) for p in Path(temp).glob(f"{TEMP_PREFIX}*")}
    return Traces(frozenset(processes), frozenset(folders), _containers())


@pytest.fixture
def snapshot() -> Callable[[], Traces]:
    """Lists what is running now; subtract two snapshots to see what a step left behind."""
    return traces


@pytest.fixture
def no_leaks() -> Iterator[None]:
    """Fails the test if it leaves a server process, temp folder or container behind."""
    before = traces()
    yield
    left = traces() - before
    assert not left, f"left behind: {left}"


@pytest.fixture(scope="session")
def docker_engine() -> None:
    problem = engine_problem(3.0)
    if problem:
        pytest.skip(f"no Docker engine: {problem}")
    os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
