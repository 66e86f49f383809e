"""Smoke tests of this repository's image (the noxops runner): run by ``nox -s smoke``.

The smoke stage hands the image it built over as ``--image``/``$NOXOPS_IMAGE`` (this
repository sets ``[tool.noxops.image.smoke] serve = false``: the image is a CI job image,
not a network service, so the tests run it themselves). Under the plain test suite, which
has no image to test, they are skipped with that reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
# CI machines behind a TLS-intercepting proxy: the container trusts what the host trusts, so
# sessions inside it can install their tools from the package index.
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


@pytest.fixture(scope="session")
def runner_image(pytestconfig: pytest.Config) -> str:
    value = pytestconfig.getoption("--image", default=None) or os.environ.get("NOXOPS_IMAGE")
    if not value:
        pytest.skip("no image under test: these run in `nox -s smoke` (after `nox -s build`)")
    return str(value)


def _trust_args() -> list[str]:
    if not HOST_CA_BUNDLE.is_file():
        return []
    target = "/etc/ssl/certs/ca-certificates.crt"
    return [
        "-v", f"{HOST_CA_BUNDLE}:{target}:ro",
        "-e", f"SSL_CERT_FILE={target}", "-e", f"PIP_CERT={target}",
    ]  # fmt: skip


def project_copy(name: str, tmp_path: Path) -> Path:
    """A fixture project, writable by the image's non-root user."""
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target, ignore=shutil.ignore_patterns(".nox", "reports"))
    for path in [target, *target.rglob("*")]:
        path.chmod(0o777 if path.is_dir() else 0o666)
    return target


def run_image(
    image: str, *command: str, project: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``docker run --rm`` the image (with ``project`` mounted at /workspace)."""
    mount: Sequence[str] = ["-v", f"{project}:/workspace"] if project else []
    return subprocess.run(
        ["docker", "run", "--rm", *mount, *_trust_args(), image, *command],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
