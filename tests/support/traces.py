"""What the service code could leave behind: server processes, temp folders, containers.

Take a snapshot before a step and subtract it from one after: anything left is a leak.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from noxops.services.docker import LABEL, engine_problem
from noxops.services.local import TEMP_PREFIX

__all__ = ["Traces", "assert_clean", "traces"]


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
    """Server processes in noxops temp folders, those folders, and noxops's containers."""
    temp = tempfile.gettempdir()
    prefix = os.path.join(temp, TEMP_PREFIX)  # noqa: PTH118 - a string prefix
    processes = set()
    for proc in psutil.process_iter(["pid"]):
        with contextlib.suppress(psutil.Error):
            if proc.cwd().startswith(prefix):
                processes.add(proc.pid)
    folders = {str(p) for p in Path(temp).glob(f"{TEMP_PREFIX}*")}
    return Traces(frozenset(processes), frozenset(folders), _containers())


def assert_clean(before: Traces, timeout: float = 10) -> None:
    """Wait up to ``timeout`` for everything started since ``before`` to be gone."""
    deadline = time.monotonic() + timeout
    while traces() - before:
        assert time.monotonic() < deadline, f"left behind: {traces() - before}"
        time.sleep(0.2)
