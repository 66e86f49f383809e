"""How the image the ``build`` job made reaches the ``smoke`` job, which runs on a fresh machine.

``python -m noxops.ci.handover save``  (build job, after ``nox -s build``)
    where the provider has a registry of its own and gives the job its credentials (GitLab's
    ``$CI_REGISTRY_IMAGE`` with ``CI_REGISTRY_PASSWORD``; GitHub's ghcr.io with
    ``GITHUB_TOKEN``), push the image the build manifest names there and keep only its
    digest (``image/pushed``, a line) as the artifact: a real service's image is a gigabyte,
    a ``docker save`` of it on every run costs that much storage and transfer. Elsewhere
    (Jenkins, gitlab-ci-local) ``docker save`` it gzip-compressed into ``image/image.tar.gz``;
``python -m noxops.ci.handover load``  (smoke job, before ``nox -s smoke``)
    pull the pushed image by that digest, or ``docker load`` the archive: either way the same
    content-addressed image id the manifest holds (checked), so the smoke session tests
    exactly the image that was built;
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

import gzip
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from noxops.ci import providers
from noxops.config import load as load_config
from noxops.containers import engine
from noxops.errors import NoxopsError
from noxops.image import manifest
from noxops.image.auth import logged_in, registry_credentials
from noxops.image.manifest import Manifest

__all__ = ["ARCHIVE", "PUSHED", "load", "main", "provider_repository", "pull", "save"]

# Relative to the project root, in the `image` artifact: the compressed archive, or the digest.
ARCHIVE = Path("image") / "image.tar.gz"
PUSHED = Path("image") / "pushed"


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


def provider_repository(project: str, env: Mapping[str, str]) -> str:
    """The repository in the CI provider's own registry the job may push ``project``'s image
    to with the credentials the provider gives it, or "" (none: the image is saved)."""
    return providers.registry_repository(env, project)


def _size(path: Path) -> str:
    return f"{path.stat().st_size / 1e6:.1f} MB"


def save(root: Path, env: Mapping[str, str] | None = None) -> Path:
    """Hand the built image over: pushed to the provider's registry (``root/image/pushed``
    holds the digest), else ``docker save``d, gzip-compressed, into ``root/image/image.tar.gz``."""
    env = os.environ if env is None else env
    built = _manifest(root)
    image_id = built.image_id
    if not image_id:
        raise NoxopsError(
            "the build manifest names no local image to hand over (a multi-platform build "
            "needs a registry: set [tool.noxops.image] registry)"
        )
    (root / PUSHED).unlink(missing_ok=True)
    (root / ARCHIVE).unlink(missing_ok=True)
    (root / ARCHIVE).parent.mkdir(parents=True, exist_ok=True)
    repository = provider_repository(built.project or "image", env)
    if repository:
        ref = f"{repository}:ci-{image_id.split(':')[-1][:12]}"
        creds = registry_credentials(repository.split("/", 1)[0], env)
        _docker("tag", image_id, ref)
        with logged_in(creds, env) as extra:
            _docker("push", ref, env=extra)
        digests = _docker("image", "inspect", "--format", "{{json .RepoDigests}}", image_id)
        pinned = next((d for d in json.loads(digests) if d.startswith(f"{repository}@")), "")
        if not pinned:
            raise NoxopsError(f"pushed {ref} but the engine records no digest for it")
        (root / PUSHED).write_text(pinned + "\n", encoding="utf-8")
        print(f"handover: saved {image_id} as {pinned} (artifact: {_size(root / PUSHED)})")
        return root / PUSHED
    target = root / ARCHIVE
    # docker save | gzip, streamed: the image may be gigabytes
    argv = [engine.docker_binary(), "save", image_id]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE)  # nosec B603
    with proc, gzip.open(target, "wb", compresslevel=6) as out:
        shutil.copyfileobj(proc.stdout or io.BytesIO(), out, 1 << 20)
    if proc.returncode != 0:
        target.unlink(missing_ok=True)
        raise NoxopsError(f"`docker save {image_id}` failed (exit {proc.returncode})")
    print(f"handover: saved {image_id} to {ARCHIVE} ({_size(target)}, gzip-compressed)")
    return target


def load(root: Path, env: Mapping[str, str] | None = None) -> str:
    """Pull the pushed image by digest, or ``docker load`` the archive the build job left;
    the image id, checked against the build manifest."""
    env = os.environ if env is None else env
    image_id = str(_manifest(root).image_id or "")
    archive, pushed = root / ARCHIVE, root / PUSHED
    if pushed.is_file():
        pinned = pushed.read_text(encoding="utf-8").strip()
        creds = registry_credentials(pinned.split("/", 1)[0], env)
        with logged_in(creds, env) as extra:
            _docker("pull", pinned, env=extra)
        where = pinned
    elif archive.is_file():
        _docker("load", "--input", str(archive))
        where = str(ARCHIVE)
    else:
        raise NoxopsError(
            f"{PUSHED} and {ARCHIVE} are missing: the build job's `image` artifact did not arrive"
        )
    _docker("image", "inspect", "--format", "{{.Id}}", image_id)  # fails when it is not it
    print(f"handover: loaded {image_id} from {where}")
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
