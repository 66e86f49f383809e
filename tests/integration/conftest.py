"""Shared helpers for the service tests: what a run leaves behind, and a Docker engine check."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Callable

import pytest
from support.traces import Traces, traces

from noxops.services.docker import engine_problem


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
