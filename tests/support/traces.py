"""What the service code could leave behind: server processes, temp folders, containers.

Take a snapshot before a step and subtract it from one after: anything left is a leak.

Only what this test started counts, so two test runs sharing one machine or one Docker engine
cannot fail each other (tests/conftest.py gives every test its own ``TMPDIR`` and
``$NOXOPS_OWNER``, which the nox and noxops processes it starts inherit): server processes
whose working folder is in a noxops folder of this test's temp folder (also once their parent
exited and they were re-parented), those folders, and the containers labelled with this
test's owner.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from noxops.services.docker import LABEL, OWNER_ENV, engine_problem
from noxops.services.local import TEMP_PREFIX

__all__ = ["OWNER_ENV", "Traces", "assert_clean", "smoke_leftovers", "traces"]


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
    """noxops's containers with this test's owner label (all of them outside a test)."""
    if engine_problem(3.0) is not None:
        return frozenset()
    import docker

    owner = os.environ.get(OWNER_ENV)
    label = [LABEL, f"{LABEL}.owner={owner}"] if owner else LABEL
    client = docker.from_env(timeout=10)
    try:
        return frozenset(c.id for c in client.containers.list(all=True, filters={"label": label}))
    finally:
        client.close()


def traces() -> Traces:
    """Server processes in this test's noxops temp folders, those folders, its containers."""
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


def smoke_leftovers() -> list[str]:
    """The containers and networks of this test's smoke runs (``org.noxops.smoke.owner``)."""
    from noxops.containers import engine
    from noxops.containers.engine import SMOKE_LABEL as SMOKE

    owner = os.environ.get(OWNER_ENV)
    filters = ["--filter", f"label={SMOKE}"]
    if owner:
        filters += ["--filter", f"label={SMOKE}.owner={owner}"]
    containers = engine.docker("ps", "-aq", *filters).stdout.split()
    networks = engine.docker("network", "ls", "-q", *filters).stdout.split()
    return containers + networks
