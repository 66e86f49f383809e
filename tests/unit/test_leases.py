"""Leases: a reaper removes only what a provably dead owner left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from noxops.containers import leases


@pytest.fixture(autouse=True)
def _own_lease_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOXOPS_LEASE_DIR", str(tmp_path / "leases"))


def test_a_held_lease_is_alive_and_a_released_one_dead() -> None:
    lease = leases.Lease().acquire()
    try:
        assert not leases.owner_dead(lease.id)
    finally:
        lease.release()
    assert leases.owner_dead(lease.id)


def test_no_proof_no_death() -> None:
    assert not leases.owner_dead("0123456789abcdef0123")  # no such lease file here
    assert not leases.owner_dead("../../etc/passwd")  # not an id
    assert not leases.owner_dead("")


def test_a_sigkilled_owner_is_dead_a_live_one_in_another_process_is_not() -> None:
    code = (
        "import sys, time; from noxops.containers import leases; "
        "print(leases.process_lease().id, flush=True); time.sleep(60)"
    )
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        lease_id = proc.stdout.readline().strip()
        try:
            assert not leases.owner_dead(lease_id)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
    assert leases.owner_dead(lease_id)


def test_reap_dirs_removes_a_dead_owners_folder_only(tmp_path: Path) -> None:
    dead = leases.Lease().acquire()
    dead.release()
    tmp = Path(tempfile.gettempdir())
    dead_dir = Path(tempfile.mkdtemp(prefix=f"noxops-docker-{dead.id}-", dir=tmp))
    (dead_dir / "config.json").write_text('{"auths": {}}')
    unknown_dir = Path(tempfile.mkdtemp(prefix="noxops-docker-0123456789abcdef0123-", dir=tmp))
    with leases.private_dir("noxops-kube-") as live_dir:
        try:
            leases.reap_dirs()
            assert not dead_dir.exists()
            assert live_dir.exists()  # this process holds its lease
            assert unknown_dir.exists()  # no lease file: no proof
        finally:
            unknown_dir.rmdir()
    assert not live_dir.exists()


def test_interrupting_turns_sigterm_and_sighup_into_keyboard_interrupt() -> None:
    for signum in (signal.SIGTERM, signal.SIGHUP):
        before = signal.getsignal(signum)
        with pytest.raises(KeyboardInterrupt), leases.interrupting():
            os.kill(os.getpid(), signum)
            time.sleep(5)
        assert signal.getsignal(signum) == before


def test_a_dead_lease_is_kept_while_a_folder_names_it() -> None:
    """After an hour a dead owner's lease file goes, unless a folder still needs it as proof
    (a SIGKILLed run's local server folder, reaped only by the service reaper)."""
    tmp = Path(tempfile.gettempdir())
    named, unnamed = leases.Lease().acquire(), leases.Lease().acquire()
    named.release()
    unnamed.release()
    an_hour_ago = time.time() - 3700
    for lease in (named, unnamed):
        os.utime(lease.path, (an_hour_ago, an_hour_ago))
    service = Path(tempfile.mkdtemp(prefix=f"noxops-svc-{named.id}-redis-", dir=tmp))
    try:
        leases.reap_dirs()
        assert service.exists()  # not a folder reap_dirs removes: it may hold a server
        assert named.path.exists()
        assert not unnamed.path.exists()
    finally:
        service.rmdir()
