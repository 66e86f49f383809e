"""docs/build.md describes the smoke reaper as the code works: by lease, with real labels."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from noxops.containers import engine, leases
from noxops.image.smoke import RunningService

BUILD_MD = Path(__file__).resolve().parents[2] / "docs" / "build.md"


def test_the_labels_the_docs_name_are_the_ones_a_smoke_run_sets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A lease of this test's own, not the process's (other tests may hold or need that one).
    monkeypatch.setenv("NOXOPS_LEASE_DIR", str(tmp_path / "leases"))
    monkeypatch.setattr(leases, "_process", {})
    monkeypatch.setenv(engine.OWNER_ENV, "docs-check")  # so the optional owner label is set
    try:
        args = RunningService("example/app:1", port=8000)._labels()
    finally:
        leases.process_lease().release()
    labels = {value.split("=", 1)[0] for value in args[1::2]}
    assert set(args[::2]) == {"--label"}
    named = set(re.findall(r"org\.noxops\.[a-z][a-z.]*[a-z]", BUILD_MD.read_text("utf-8")))
    assert named <= labels, f"docs/build.md names labels no smoke run sets: {named - labels}"
    # The reaper's only proof of a dead owner is its lease: the docs name that label.
    assert engine.LEASE_LABEL in named
