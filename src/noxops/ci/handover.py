"""How the image the ``build`` job made reaches the ``smoke`` job, which runs on a fresh machine.

``python -m noxops.ci.handover save``  (build job, after ``nox -s build``)
    ``docker save`` the image the build manifest names into ``image/image.tar``, an artifact;
``python -m noxops.ci.handover load``  (smoke job, before ``nox -s smoke``)
    ``docker load`` it back: the same content-addressed image id the manifest holds, so the
    smoke session tests exactly the image that was built;
``python -m noxops.ci.handover pull``  (smoke job, when the build job pushed to a registry)
    log in with the registry's read credentials and pull the image by the digest the manifest
    records (``image@sha256:...``): again the very image that was pushed. A multi-platform
    push records an image index; the engine pulls the runner's own platform from it.

Credentials, for ``pull``: ``NOXOPS_REGISTRY_USER``/``NOXOPS_REGISTRY_PASSWORD``, else GitLab's
``CI_REGISTRY_USER``/``CI_REGISTRY_PASSWORD`` for ``$CI_REGISTRY``, else ``GITHUB_ACTOR``/
``GITHUB_TOKEN`` on ghcr.io; none set means an anonymous pull. Passwords go to
``docker login --password-stdin`` and are never printed.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from noxops.build import engine, manifest
from noxops.build.auth import logged_in, registry_credentials
from noxops.build.manifest import Manifest
from noxops.config import load as load_config
from noxops.errors import NoxopsError

__all__ = ["ARCHIVE", "load", "main", "pull", "save"]

ARCHIVE = Path("image") / "image.tar"  # relative to the project root; the `image` artifact


def _docker(*args: str, env: Mapping[str, str] | None = None) -> str:
    """``docker *args`` (long: images are large); a clear error when there is no CLI."""
    if shutil.which(engine.docker_binary()) is None:
        raise NoxopsError(
            "no docker CLI on this machine: run the job in an image that has one "
            "([tool.noxops.ci] docker_image)"
        )
    out: str = engine.docker(*args, env=env, timeout=1800).stdout
    return out


def _manifest(root: Path) -> Manifest:
    config = load_config(root)
    return manifest.load(manifest.manifest_path(config))


def save(root: Path) -> Path:
    """``docker save`` the built image into ``root/image/image.tar``."""
    image_id = _manifest(root).image_id
    if not image_id:
        raise NoxopsError(
            "the build manifest names no local image to hand over (a multi-platform build "
            "needs a registry: set [tool.noxops.image] registry)"
        )
    target = root / ARCHIVE
    target.parent.mkdir(parents=True, exist_ok=True)
    _docker("save", "--output", str(target), image_id)
    print(f"handover: saved {image_id} to {ARCHIVE}")
    return target


def load(root: Path) -> str:
    """``docker load`` the archive the build job left; the image id, checked."""
    archive = root / ARCHIVE
    if not archive.is_file():
        raise NoxopsError(f"{ARCHIVE} is missing: the build job's `image` artifact did not arrive")
    _docker("load", "--input", str(archive))
    image_id = str(_manifest(root).image_id or "")
    _docker("image", "inspect", "--format", "{{.Id}}", image_id)  # fails when it is not it
    print(f"handover: loaded {image_id} from {ARCHIVE}")
    return image_id


def pull(root: Path, env: Mapping[str, str] | None = None) -> str:
    """Pull the pushed image by digest (logging in first when credentials are set)."""
    env = os.environ if env is None else env
    pinned = str(_manifest(root).pinned or "")
    if not pinned:
        raise NoxopsError(
            "the build manifest records no registry digest: did the build job push "
            "(`nox -s build -- --push`)?"
        )
    registry = pinned.split("/", 1)[0]
    creds = registry_credentials(registry, env)
    with logged_in(creds, env) as extra:  # read credentials, never the user's own config
        _docker("pull", pinned, env=extra)
    print(f"handover: pulled {pinned}")
    return pinned


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    actions = {"save": save, "load": load, "pull": pull}
    if len(args) != 1 or args[0] not in actions:
        print("usage: python -m noxops.ci.handover save|load|pull", file=sys.stderr)
        return 2
    try:
        actions[args[0]](Path.cwd())
    except NoxopsError as exc:
        print(f"noxops handover: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
