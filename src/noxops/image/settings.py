"""``[tool.noxops.image]`` and its ``smoke`` tables: how the image is built and smoke-tested.

Imported by :mod:`noxops.config`; the work is done by :mod:`noxops.image.runner` (the
``build`` and ``smoke`` stages' nox layers are :mod:`noxops.stages.build` and
:mod:`noxops.stages.smoke`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

from noxops.schema import image_ref, option, positive, python_version, time_limit

__all__ = ["ImageConfig", "SmokeConfig", "SmokeServiceConfig"]

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_NAME_RE = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")


def _port(value: Any) -> str | None:
    return None if 0 < value < 65536 else "must be a TCP port between 1 and 65535"


def _url_path(value: Any) -> str | None:
    return None if str(value).startswith("/") else "must be a URL path starting with '/'"


def _image_name(value: Any) -> str | None:
    if value == "" or _NAME_RE.match(value):
        return None
    return (
        "is not a valid image name: use lowercase letters, digits and . _ - separators, "
        "optionally with '/' for a namespace, like 'acme/notes'"
    )


def _registry(value: Any) -> str | None:
    pattern = r"^[A-Za-z0-9.-]+(:\d+)?(/[a-z0-9._/-]+)?$"
    if value == "" or ("://" not in value and re.match(pattern, value)):
        return None
    return "must be a registry host with an optional namespace, like 'ghcr.io/acme' (no scheme)"


@dataclass(frozen=True)
class SmokeServiceConfig:
    """``[tool.noxops.image.smoke.services.<alias>]``: a container the service needs to run."""

    image: str = option(
        "", check=image_ref, doc="Image of the helper container, like 'postgres:15' (required)."
    )
    env: dict[str, str] = option(factory=dict, doc="Environment of the helper container.")
    command: list[str] = option(factory=list, doc="Arguments replacing the image's CMD.")


def _services(value: Any) -> str | None:
    """Every helper container names its image: a table without one could never start."""
    for alias, service in value.items():
        if not service.image:
            return f"service {alias!r} has no image; set image = 'NAME:TAG' (like 'postgres:15')"
    return None


@dataclass(frozen=True)
class SmokeConfig:
    """``[tool.noxops.image.smoke]``: how the ``smoke`` session runs the built image."""

    serve: bool = option(
        True,
        doc=(
            "The image is a network service: start it and wait for its health path. False "
            "means the tests get the image (--image, $NOXOPS_IMAGE) and run it themselves, "
            "as for command-line tools and CI job images."
        ),
    )
    port: int = option(8000, check=_port, doc="The port the service listens on in the container.")
    command: list[str] = option(
        factory=list,
        doc=(
            "Arguments replacing the image's CMD when the smoke run starts it (for an image "
            "without CMD, like ['uvicorn', 'app.main:app', '--host', '0.0.0.0'])."
        ),
    )
    health_path: str = option(
        "/health", check=_url_path, doc="Path that must answer HTTP 200 before tests run."
    )
    ready_path: Optional[str] = option(
        None,
        check=_url_path,
        doc=(
            "Path that must also answer HTTP 200 before tests run (for example /ready once "
            "the helper services are reachable); unset means only the health path."
        ),
    )
    timeout: float = option(
        60.0, check=time_limit, doc="Seconds the service has to become healthy (and ready)."
    )
    tests: str = option("tests/smoke", doc="The smoke tests pytest runs against the service.")
    env: dict[str, str] = option(
        factory=dict,
        doc=(
            "Environment of the service's container. Values can name helper services by "
            "alias, like 'postgresql://app:app@db:5432/app'."
        ),
    )
    requirements: list[str] = option(
        factory=list, doc="Extra packages installed next to pytest for the smoke tests."
    )
    pytest_args: list[str] = option(factory=list, doc="Extra arguments for pytest.")
    services: dict[str, SmokeServiceConfig] = option(
        factory=dict,
        check=_services,
        doc=(
            "Helper containers started on a private network for the smoke run, by network "
            "alias: [tool.noxops.image.smoke.services.db] image = 'postgres:15'."
        ),
    )
    base_url: Optional[str] = option(
        None,
        doc=(
            "Run the smoke tests against this already deployed service instead of starting "
            "the image (also `nox -s smoke -- --base-url URL`)."
        ),
    )


@dataclass(frozen=True)
class ImageConfig:
    """``[tool.noxops.image]``: the ``build`` and ``smoke`` sessions."""

    enabled: bool = option(True, doc="Register the build and smoke sessions.")
    timeout: float = option(1800.0, check=time_limit, doc="Seconds before the stage is stopped.")
    name: str = option(
        "",
        check=_image_name,
        doc="Image name (repository), like 'acme/notes'; empty means the project's name.",
    )
    registry: str = option(
        "",
        check=_registry,
        doc="Registry (and namespace) the image is pushed to, like 'ghcr.io/acme'.",
    )
    dockerfile: str = option(
        "Dockerfile",
        path=True,
        doc=(
            "The Dockerfile, relative to the project; without it `build` makes only the "
            "wheel and sdist, and `smoke` and `load` are not registered. A path set here must "
            "exist."
        ),
    )
    context: str = option(
        ".",
        doc=(
            "The build context folder, relative to the project ('..' for a service whose "
            "Dockerfile needs the repository root). Its .nox, the reports folder and "
            "virtualenvs are never sent, whatever its .dockerignore says."
        ),
    )
    context_warning_mb: float = option(
        200.0,
        check=positive,
        doc=(
            "Megabytes of build context above which the build warns, naming the largest "
            "parts (the size is shown on every build)."
        ),
    )
    build_args: dict[str, str] = option(factory=dict, doc="Build arguments (--build-arg).")
    target: Optional[str] = option(None, doc="The Dockerfile stage to build (--target).")
    platforms: list[str] = option(
        factory=list,
        doc=(
            "Platforms, like ['linux/amd64', 'linux/arm64']; empty means the engine's own. "
            "More than one needs docker buildx."
        ),
    )
    push: bool = option(False, doc="Push the image after building (also `-- --push`).")
    login: bool = option(
        True,
        doc=(
            "Log in to the registry with credentials from the environment before pushing; "
            "false means use the engine's existing login."
        ),
    )
    push_timeout: float = option(
        600.0,
        check=time_limit,
        doc=(
            "Seconds one `docker push` may take before it is stopped and the build fails (a "
            "registry that never answers then fails in minutes, not at the stage's timeout)."
        ),
    )
    default_branch: Optional[str] = option(
        None,
        doc=(
            "The branch that gets the 'latest' tag; unset means the CI provider's default "
            "branch, else origin's HEAD, else 'main'."
        ),
    )
    source: Optional[str] = option(
        None,
        doc=(
            "The org.opencontainers.image.source label; unset means [project.urls] Source or "
            "Repository, else the CI provider's repository URL."
        ),
    )
    labels: dict[str, str] = option(
        factory=dict,
        doc=(
            "Extra or overriding labels; title, description and licenses default to "
            "[project] name, description and license."
        ),
    )
    packages: bool = option(
        True, doc="Build the wheel and sdist into dist/ (when the project has a build system)."
    )
    wheelhouse: Optional[str] = option(
        None,
        doc=(
            "A folder (like 'build/wheelhouse') filled before the image build with the wheel "
            "and all its dependencies, by pip on this machine with its index, proxy and "
            "certificate settings, so the Dockerfile installs with `pip install --no-index "
            "--find-links` and the image build needs no network. noxops empties it on every "
            "build, so it must be a folder of its own inside the project: new, empty, or "
            "marked .noxops-owned by an earlier build (never tracked by git)."
        ),
    )
    wheelhouse_python: Optional[str] = option(
        None,
        check=python_version,
        doc=(
            "The image's Python (major.minor) the wheelhouse is collected for; unset means "
            "the build session's. Binary wheels are those of this machine's platform."
        ),
    )
    sbom: bool = option(
        True, doc="Write a CycloneDX SBOM of the Python packages installed in the image."
    )
    manifest: str = option(
        "build-manifest.json",
        doc=(
            "The build manifest's file name, inside the reports folder (a path leading out "
            "of it is refused); smoke and deploy read it."
        ),
    )
    smoke: SmokeConfig = option(factory=SmokeConfig, doc="The smoke session.")
