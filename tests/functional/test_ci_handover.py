"""How the built image reaches the smoke job (issue #26 item 7), with the real engine.

Where the provider has a registry of its own and gives the job its credentials, the build job
pushes there and hands on only the digest; elsewhere it saves the image gzip-compressed, not
as a raw ``docker save`` tarball, and the smoke job loads the very image the manifest names.
"""

from __future__ import annotations

import gzip
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from noxops.ci import handover
from noxops.config import load
from noxops.errors import NoxopsError
from noxops.image import manifest

pytestmark = [pytest.mark.docker]


@pytest.fixture
def built(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A project whose build manifest names a small image of its own, removed at the end."""
    project = tmp_path / "svc"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "svc"\n', encoding="utf-8")
    context = tmp_path / "context"
    context.mkdir()
    # 4 MB of zeros: compresses to almost nothing, as the repeated layers of real images do
    (context / "Dockerfile").write_text(
        f"FROM debian:bookworm-slim\nRUN head -c 4000000 /dev/zero > /zeros && echo {uuid.uuid4()}"
        " > /id\n",
        encoding="utf-8",
    )
    tag = f"noxops-handover-test:{uuid.uuid4().hex[:12]}"
    subprocess.run(
        ["docker", "build", "-q", "-t", tag, str(context)], check=True, capture_output=True
    )
    image_id = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Id}}", tag],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    config = load(project)
    manifest.write(
        manifest.manifest_path(config), manifest.Manifest(project="svc", image_id=image_id)
    )
    try:
        yield project, image_id
    finally:
        subprocess.run(["docker", "rmi", "-f", image_id], capture_output=True, check=False)


def test_without_a_provider_registry_the_image_is_saved_compressed_and_loaded_back(
    built: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    project, image_id = built
    env = {"CI_REGISTRY_IMAGE": "registry.example.invalid/acme/svc"}  # no password: no push
    archive = handover.save(project, env)
    assert archive == project / "image" / "image.tar.gz"
    assert not (project / "image" / "pushed").exists()
    with gzip.open(archive) as fh:  # a gzip stream holding a docker save tarball
        raw = sum(len(chunk) for chunk in iter(lambda: fh.read(1 << 20), b""))
    assert archive.stat().st_size < raw / 2, (archive.stat().st_size, raw)  # 132 -> 42 MB here
    assert f"handover: saved {image_id} to image/image.tar.gz" in capsys.readouterr().out

    subprocess.run(["docker", "rmi", "-f", image_id], check=True, capture_output=True)
    assert handover.load(project, env) == image_id
    assert f"handover: loaded {image_id} from image/image.tar.gz" in capsys.readouterr().out


def test_the_provider_registry_is_used_only_with_the_job_credentials() -> None:
    gitlab = {"CI_REGISTRY_IMAGE": "registry.gitlab.com/Acme/Shop", "CI_REGISTRY_PASSWORD": "t"}
    assert handover.provider_repository("svc", gitlab) == "registry.gitlab.com/acme/shop/svc"
    github = {"GITHUB_REPOSITORY": "Acme/Shop", "GITHUB_TOKEN": "t"}
    assert handover.provider_repository("svc", github) == "ghcr.io/acme/shop/svc"
    # gitlab-ci-local sets CI_REGISTRY_IMAGE without a password; a fork's PR has no token
    assert handover.provider_repository("svc", {"CI_REGISTRY_IMAGE": "r/a/b"}) == ""
    assert (
        handover.provider_repository("svc", {"GITHUB_REPOSITORY": "a/b", "GITHUB_TOKEN": ""}) == ""
    )


def test_nothing_handed_over_is_one_clear_error(tmp_path: Path) -> None:
    project = tmp_path / "svc"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "svc"\n', encoding="utf-8")
    manifest.write(
        manifest.manifest_path(load(project)), manifest.Manifest(project="svc", image_id="sha256:x")
    )
    with pytest.raises(NoxopsError, match=r"image/pushed and image/image\.tar\.gz are missing"):
        handover.load(project, {})
