"""Every container label noxops writes lives under ``org.noxops``; a service container a dead
run of an older release left (labelled ``noxops.run``) is still reaped by the next run, and a
live run's never is. Real docker engine, real leases."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from noxops.containers import engine
from noxops.containers.leases import Lease
from noxops.services.docker import engine_problem, reap_leftovers

IMAGE = "debian:bookworm-slim"


@pytest.fixture
def docker_engine() -> Iterator[None]:
    if shutil.which("docker") is None or engine_problem(timeout=10.0):
        pytest.skip("needs a running docker engine (sh ../shared/env/container-engine.sh)")
    yield


def _create(label: str, lease_id: str) -> str:
    return engine.docker(
        "create", "--label", f"{label}=x", "--label", f"{engine.LEASE_LABEL}={lease_id}", IMAGE
    ).stdout.strip()


def _exists(container: str) -> bool:
    return bool(engine.docker("ps", "-aq", "--filter", f"id={container}").stdout.strip())


def test_labels_live_under_one_namespace() -> None:
    labels = [engine.SERVICE_LABEL, engine.SMOKE_LABEL, engine.LEASE_LABEL]
    assert all(label.startswith("org.noxops.") for label in labels), labels


@pytest.mark.usefixtures("docker_engine")
def test_an_older_releases_dead_service_container_is_reaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOXOPS_LEASE_DIR", str(tmp_path / "leases"))  # this test's leases only
    dead = Lease().acquire()
    dead.release()  # its owner is gone: the lock can be taken
    with Lease() as alive:
        made = {
            "old label, dead owner": _create(engine.LEGACY_SERVICE_LABEL, dead.id),
            "new label, dead owner": _create(engine.SERVICE_LABEL, dead.id),
            "old label, live owner": _create(engine.LEGACY_SERVICE_LABEL, alive.id),
        }
        try:
            reap_leftovers()
            left = {what for what, container in made.items() if _exists(container)}
            assert left == {"old label, live owner"}
        finally:
            for container in made.values():
                if _exists(container):
                    engine.docker("rm", "-f", container)
