"""The project's wheel and sdist in ``dist/``, and the wheelhouse the image installs from."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

from noxops.build.command import Command, Install
from noxops.errors import NoxopsError

if TYPE_CHECKING:
    from noxops.config import Config
    from noxops.project import Project

__all__ = ["build_packages", "fill_wheelhouse", "has_build_system"]


def has_build_system(project: Project) -> bool:
    """Whether the project builds into packages: a ``[build-system]`` table or a setup.py."""
    return project.build_system is not None or (project.root / "setup.py").is_file()


def build_packages(
    config: Config, *, command: Command, install: Install, uv: bool = True
) -> tuple[Optional[str], Optional[str]]:
    """The wheel and sdist in dist/ (replacing the project's previous ones), checked."""
    dist = config.root / "dist"
    install(["twine"])
    with tempfile.TemporaryDirectory(prefix="noxops-dist-") as tmp:
        if uv:
            command(["uv", "build", "--sdist", "--wheel", "--out-dir", tmp, str(config.root)], {})
        else:  # pragma: no cover - noxops always runs with uv installed
            install(["build"])
            command(["python", "-m", "build", "--outdir", tmp, str(config.root)], {})
        built = sorted(Path(tmp).iterdir())
        wheels = [p for p in built if p.suffix == ".whl"]
        sdists = [p for p in built if p.name.endswith(".tar.gz")]
        command(["twine", "check", *map(str, wheels + sdists)], {})
        dist.mkdir(exist_ok=True)
        prefixes = {p.name.split("-", 1)[0] for p in wheels + sdists}
        for old in dist.iterdir():
            stale = old.name.split("-", 1)[0] in prefixes
            if stale and (old.suffix == ".whl" or old.name.endswith(".tar.gz")):
                old.unlink()
        for path in wheels + sdists:  # (uv also writes a .gitignore there)
            shutil.move(str(path), str(dist / path.name))
    return (wheels[0].name if wheels else None, sdists[0].name if sdists else None)


def fill_wheelhouse(
    config: Config,
    wheel: Optional[str],
    *,
    command: Command,
    install: Install,
    python: Optional[str],
    log: Callable[[str], None],
) -> None:
    """The project's wheel and every dependency, as wheels, in the configured folder.

    The dependencies are resolved for every Python from the image's minor version up (uv's
    universal resolution): markers like ``python_full_version < '3.11.3'`` are decided
    inside the image, whose patch version can differ from this machine's, so every
    candidate is collected and ``pip install --no-index`` there picks what applies.
    ``python`` is the build session's (the default for ``wheelhouse_python``).
    """
    folder = config.root / str(config.image.wheelhouse)
    if wheel is None:
        raise NoxopsError(
            "[tool.noxops.image] wheelhouse needs the project's wheel: the project has no "
            "[build-system], or packages = false"
        )
    wheel_path = config.root / "dist" / wheel
    minor = python or f"{sys.version_info[0]}.{sys.version_info[1]}"
    target = config.image.wheelhouse_python or ".".join(minor.split(".")[:2])
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    install(["pip"])
    with tempfile.TemporaryDirectory(prefix="noxops-wheelhouse-") as tmp:
        wanted = Path(tmp) / "wanted.txt"
        wanted.write_text(f"{wheel.split('-')[0]} @ {wheel_path.as_uri()}\n", encoding="utf-8")
        pinned = Path(tmp) / "pinned.txt"
        command(
            ["uv", "pip", "compile", "--quiet", "--universal", "--python-version", target,
             "--no-header", "--no-annotate", "-o", str(pinned), str(wanted)],
            {},
        )  # fmt: skip
        lines = [line.split(";")[0].strip() for line in pinned.read_text().splitlines()]
        requirements = Path(tmp) / "requirements.txt"
        requirements.write_text(
            "\n".join(sorted({ln for ln in lines if ln and not ln.startswith(("#", "-"))})) + "\n",
            encoding="utf-8",
        )
        command(
            ["python", "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check",
             "--no-deps", "--wheel-dir", str(folder), "-r", str(requirements)],
            {},
        )  # fmt: skip
    count = len(list(folder.glob("*.whl")))
    log(f"wheelhouse: {count} wheels in {os.path.relpath(folder, config.root)}")
