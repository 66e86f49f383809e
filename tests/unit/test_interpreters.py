"""Interpreter discovery: PATH, pyenv's versions folder behind shims, uv-managed Pythons."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from noxops.project import interpreters


def _fake_python(directory: Path, version: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    exe = directory / f"python{version}"
    exe.write_text(f"#!/bin/sh\necho {version}\n")
    exe.chmod(0o755)
    return exe


def test_pyenv_versions_are_found_behind_shims(tmp_path: Path) -> None:
    shims = tmp_path / "pyenv" / "shims"
    _fake_python(shims, "3.9")  # a shim that would refuse: must be passed over
    real = _fake_python(tmp_path / "pyenv" / "versions" / "3.9.18" / "bin", "3.9")
    env = {"PATH": str(shims), "PYENV_ROOT": str(tmp_path / "pyenv"), "HOME": str(tmp_path)}
    found = interpreters.find("3.9", env)
    assert found == interpreters.Interpreter("3.9", real, "pyenv")


def test_path_first_then_uv_and_missing_is_none(tmp_path: Path) -> None:
    on_path = _fake_python(tmp_path / "bin", "3.12")
    uv_exe = _fake_python(tmp_path / "uv" / "cpython-3.10.14-linux-x86_64-gnu" / "bin", "3.10")
    env = {
        "PATH": str(tmp_path / "bin"),
        "PYENV_ROOT": str(tmp_path / "none"),
        "UV_PYTHON_INSTALL_DIR": str(tmp_path / "uv"),
        "HOME": str(tmp_path),
    }
    found = interpreters.find_all(["3.12", "3.10", "3.7"], env)
    assert found["3.12"] == interpreters.Interpreter("3.12", on_path, "PATH")
    assert found["3.10"] == interpreters.Interpreter("3.10", uv_exe, "uv")
    assert found["3.7"] is None


def test_expose_links_only_versioned_names_first_on_path(tmp_path: Path) -> None:
    real = _fake_python(tmp_path / "pyenv" / "versions" / "3.9.18" / "bin", "3.9")
    (real.parent / "python").symlink_to(real)  # must not be exposed
    env = {"PATH": "/usr/bin", "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    found = {"3.9": interpreters.Interpreter("3.9", real, "pyenv"), "3.8": None}
    links = interpreters.expose(found, env)
    assert links is not None and links.parent == tmp_path / "cache" / "noxops"
    assert links.name.startswith("pythons-")
    assert env["PATH"].split(os.pathsep) == [str(links), "/usr/bin"]
    assert sorted(p.name for p in links.iterdir()) == ["python3.9"]
    out = subprocess.run(
        ["python3.9"], env={"PATH": env["PATH"]}, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "3.9"
    # Idempotent: a second call neither duplicates the PATH entry nor breaks the link.
    interpreters.expose(found, env)
    assert env["PATH"].split(os.pathsep) == [str(links), "/usr/bin"]
    # A run that found another 3.9 gets a folder of its own: neither repoints the other.
    other = _fake_python(tmp_path / "elsewhere" / "bin", "3.9")
    other_links = interpreters.expose(
        {"3.9": interpreters.Interpreter("3.9", other, "PATH")},
        {"PATH": "/usr/bin", "XDG_CACHE_HOME": str(tmp_path / "cache")},
    )
    assert other_links is not None and other_links != links
    assert (links / "python3.9").readlink() == real


def test_expose_with_nothing_found_changes_nothing(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin"}
    assert interpreters.expose({"3.9": None}, env, link_dir=tmp_path / "links") is None
    assert env == {"PATH": "/usr/bin"}
    assert not (tmp_path / "links").exists()


def test_the_real_machine_finds_the_running_python() -> None:
    found = interpreters.find(interpreters.current())
    assert found is not None
    out = subprocess.run(
        [str(found.executable), "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == str(tuple(int(p) for p in interpreters.current().split(".")))
