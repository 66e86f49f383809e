"""The project's wheel and sdist in ``dist/``, and the wheelhouse the image installs from."""

from __future__ import annotations

import os
import re
import shutil
import sys
from typing import TYPE_CHECKING, Any, Callable, Optional

from noxops.containers import leases
from noxops.errors import NoxopsError
from noxops.image.command import Command, Install
from noxops.project import owned

if TYPE_CHECKING:
    from noxops.config import Config
    from noxops.project.pyproject import Project

__all__ = ["build_packages", "fill_wheelhouse", "has_build_system", "image_python"]


def has_build_system(project: Project) -> bool:
    """Whether the project builds into packages: a ``[build-system]`` table or a setup.py."""
    return project.build_system is not None or (project.root / "setup.py").is_file()


def build_packages(
    config: Config, *, command: Command, install: Install, uv: bool = True
) -> tuple[Optional[str], Optional[str]]:
    """The wheel and sdist in dist/ (replacing the project's previous ones), checked. dist/
    is the project's tools' folder too: only the wheels and sdists replaced are removed, and
    a dist/ that leads out of the project is refused."""
    dist = config.root / "dist"
    why = owned.problem(config.root, dist)
    if why is not None:
        raise NoxopsError(
            f"{dist} {why}: noxops replaces the project's wheel and sdist there; make dist/ "
            "an untracked folder inside the project"
        )
    install(["twine"])
    with leases.private_dir("noxops-dist-") as tmp:
        if uv:
            command(
                ["uv", "build", "--sdist", "--wheel", "--out-dir", str(tmp), str(config.root)], {}
            )
        else:  # pragma: no cover - noxops always runs with uv installed
            install(["build"])
            command(["python", "-m", "build", "--outdir", str(tmp), str(config.root)], {})
        built = sorted(tmp.iterdir())
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


_FROM_PYTHON = re.compile(
    r"^\s*FROM\s+(?:--\S+\s+)*(\S*python:(\d+\.\d+(?:\.\d+)?)\S*)", re.I | re.M
)


def image_python(
    config: Config, minor: str, docker: Optional[Callable[..., Any]] = None
) -> Optional[str]:
    """The exact Python (X.Y.Z) of the image the Dockerfile builds from, when it can be told:
    the base image's tag (``python:3.11.9-slim``), else that image's own interpreter, asked
    through the engine when the image is there (never pulled); None otherwise."""
    try:
        text = (config.root / config.image.dockerfile).read_text(encoding="utf-8")
    except OSError:
        return None
    match = _FROM_PYTHON.search(text)
    if match is None or not match[2].startswith(minor):
        return None
    if match[2].count(".") == 2:
        return match[2]
    if docker is None:
        return None
    probe = "import platform; print(platform.python_version())"
    try:
        out = docker(
            "run", "--rm", "--pull=never", "--entrypoint", "python", match[1], "-c", probe,
            check=False,
        )  # fmt: skip
    except (OSError, NoxopsError):
        return None
    version = str(getattr(out, "stdout", "")).strip()
    return version if re.fullmatch(rf"{re.escape(minor)}\.\d+", version) else None


def fill_wheelhouse(
    config: Config,
    wheel: Optional[str],
    *,
    command: Command,
    install: Install,
    python: Optional[str],
    log: Callable[[str], None],
    docker: Optional[Callable[..., Any]] = None,
) -> None:
    """The project's wheel and every dependency, as wheels, in the configured folder.

    The dependencies are resolved for the image's exact interpreter (``uv pip compile
    --python-version X.Y.Z``): a universal resolution can split a package by patch version
    (``pkg==1 ; python_full_version < '3.11.5'`` and ``pkg==2 ; >= '3.11.5'``), which one
    ``pip wheel --no-deps -r`` cannot take. The exact version comes from the Dockerfile's
    base image (:func:`image_python`), else this machine's interpreter when it has the same
    minor version, else X.Y.0. ``python`` is the build session's (the default for
    ``wheelhouse_python``).
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
    here = ".".join(str(v) for v in sys.version_info[:3])
    exact = image_python(config, target, docker) or (
        here if here.startswith(target + ".") else f"{target}.0"
    )
    log(f"wheelhouse: resolving for Python {exact}")
    owned.empty_folder(config.root, folder, file=config.file, key="tool.noxops.image.wheelhouse")
    install(["pip"])
    with leases.private_dir("noxops-wheelhouse-") as tmp:
        wanted = tmp / "wanted.txt"
        wanted.write_text(f"{wheel.split('-')[0]} @ {wheel_path.as_uri()}\n", encoding="utf-8")
        pinned = tmp / "pinned.txt"
        command(
            ["uv", "pip", "compile", "--quiet", "--python-version", exact,
             "--no-header", "--no-annotate", "-o", str(pinned), str(wanted)],
            {},
        )  # fmt: skip
        lines = [line.split(";")[0].strip() for line in pinned.read_text().splitlines()]
        wanted_lines = sorted({ln for ln in lines if ln and not ln.startswith(("#", "-"))})
        names = [re.split(r"[=@ \[]", ln, maxsplit=1)[0].lower() for ln in wanted_lines]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:  # pragma: no cover - a resolution for one interpreter has one of each
            raise NoxopsError(f"the wheelhouse resolution lists {', '.join(twice)} twice")
        requirements = tmp / "requirements.txt"
        requirements.write_text("\n".join(wanted_lines) + "\n", encoding="utf-8")
        # Resolved above for the image's interpreter, which the session's may not satisfy:
        # pip must not refuse a wheel whose Requires-Python only the image's Python meets.
        command(
            ["python", "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check",
             "--no-deps", "--ignore-requires-python", "--wheel-dir", str(folder),
             "-r", str(requirements)],
            {},
        )  # fmt: skip
    count = len(list(folder.glob("*.whl")))
    log(f"wheelhouse: {count} wheels in {os.path.relpath(folder, config.root)}")
