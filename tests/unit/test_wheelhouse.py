"""The wheelhouse resolves for the image's exact interpreter (issue 15, finding #6).

A dependency whose newer release needs a later patch version (Requires-Python >= 3.11.5) made
a universal resolution list it twice, split by ``python_full_version``, which one ``pip wheel
--no-deps -r`` refused. Real uv and pip run here, on local wheels (no index).
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from noxops.config import load
from noxops.image import packages
from noxops.image.command import no_install, run_command

# uv comes with noxops on Python 3.10+ only (nox, which runs the build, needs 3.10).
find_uv_bin = pytest.importorskip("uv", reason="uv installs with noxops on 3.10+ only").find_uv_bin


def _wheel(folder: Path, name: str, version: str, requires_python: str, *deps: str) -> Path:
    path = folder / f"{name}-{version}-py3-none-any.whl"
    info = f"{name}-{version}.dist-info"
    metadata = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        f"Requires-Python: {requires_python}\n" + "".join(f"Requires-Dist: {d}\n" for d in deps)
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{name}/__init__.py", "")
        zf.writestr(f"{info}/METADATA", metadata)
        zf.writestr(
            f"{info}/WHEEL",
            "Wheel-Version: 1.0\nGenerator: t\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        zf.writestr(f"{info}/RECORD", "")
    return path


def _command(argv: Sequence[str], env: Mapping[str, str]) -> None:
    tools = {"uv": find_uv_bin(), "python": sys.executable}
    run_command([tools.get(argv[0], argv[0]), *argv[1:]], env)


@pytest.mark.parametrize(("image", "expected"), [("3.11.4", "1.0"), ("3.11.9", "2.0")])
def test_a_split_resolution_gives_one_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, image: str, expected: str
) -> None:
    links = tmp_path / "links"
    links.mkdir()
    _wheel(links, "splitdep", "1.0", ">=3.8")
    _wheel(links, "splitdep", "2.0", ">=3.11.5")
    project = tmp_path / "svc"
    (project / "dist").mkdir(parents=True)
    _wheel(project / "dist", "svc", "0.1.0", ">=3.11", "splitdep")
    (project / "pyproject.toml").write_text(
        "[project]\nname = 'svc'\nversion = '0.1.0'\n"
        "[tool.noxops.image]\nwheelhouse = 'build/wheelhouse'\n"
    )
    (project / "Dockerfile").write_text(f"FROM python:{image}-slim\n")
    for variable, value in {
        "UV_NO_INDEX": "1",
        "UV_FIND_LINKS": str(links),
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(links),
    }.items():
        monkeypatch.setenv(variable, value)
    logged: list[str] = []
    packages.fill_wheelhouse(
        load(project),
        "svc-0.1.0-py3-none-any.whl",
        command=_command,
        install=no_install,
        python="3.11",
        log=logged.append,
    )
    found = sorted(p.name for p in (project / "build" / "wheelhouse").glob("*.whl"))
    assert found == [f"splitdep-{expected}-py3-none-any.whl", "svc-0.1.0-py3-none-any.whl"]
    assert f"wheelhouse: resolving for Python {image}" in logged


def test_image_python_asks_the_base_image(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'svc'\n")
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim AS base\n")
    calls: list[tuple[str, ...]] = []

    def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        calls.append(args)
        return subprocess.CompletedProcess(list(args), 0, stdout="3.11.7\n", stderr="")

    assert packages.image_python(load(tmp_path), "3.11", docker) == "3.11.7"
    assert "python:3.11-slim" in calls[0] and "--pull=never" in calls[0]
    assert packages.image_python(load(tmp_path), "3.12", docker) is None  # another minor
