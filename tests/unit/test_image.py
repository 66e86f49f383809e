"""[tool.noxops.image]: configuration, names, labels, the build manifest and credentials."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from noxops.config import load
from noxops.errors import ConfigError, NoxopsError
from noxops.image import manifest
from noxops.image.naming import image_name, oci_labels, project_metadata
from noxops.image.settings import ImageConfig


def _project(tmp_path: Path, noxops_table: str = "", project: str = "") -> Path:
    (tmp_path / "pyproject.toml").write_text(
        "[project]\nname = 'Notes_API'\nversion = '1.4.0'\n"
        "description = 'A notes service'\nlicense = 'Apache-2.0'\n"
        + project
        + "\n[tool.noxops]\n"
        + noxops_table
    )
    return tmp_path


def test_defaults_and_nested_tables(tmp_path: Path) -> None:
    config = load(
        _project(
            tmp_path,
            "[tool.noxops.image]\nregistry = 'ghcr.io/acme'\nplatforms = ['linux/amd64']\n"
            "build_args = { PYTHON = '3.11' }\n"
            "[tool.noxops.image.smoke]\nport = 8080\nready_path = '/ready'\n"
            "env = { DATABASE_URL = 'postgresql://app:app@db:5432/app' }\n"
            "[tool.noxops.image.smoke.services.db]\nimage = 'postgres:15'\n"
            "env = { POSTGRES_PASSWORD = 'app' }\n",
        )
    )
    image = config.image
    assert image.registry == "ghcr.io/acme"
    assert image.build_args == {"PYTHON": "3.11"}
    assert image.smoke.port == 8080
    assert image.smoke.health_path == "/health"
    assert image.smoke.services["db"].image == "postgres:15"
    assert image.smoke.services["db"].env == {"POSTGRES_PASSWORD": "app"}
    assert image_name(image, config.project_name) == "ghcr.io/acme/notes_api"


@pytest.mark.parametrize(
    ("table", "key", "problem"),
    [
        ("[tool.noxops.image]\nname = 'Acme/Notes'", "image.name", "not a valid image name"),
        ("[tool.noxops.image]\nregistry = 'https://ghcr.io'", "image.registry", "no scheme"),
        ("[tool.noxops.image.smoke]\nport = 70000", "image.smoke.port", "between 1 and 65535"),
        ("[tool.noxops.image.smoke]\nhealth_path = 'health'", "health_path", "starting with '/'"),
        ("[tool.noxops.image.smoke]\ntimeout = 0", "smoke.timeout", "greater than 0"),
        ("[tool.noxops.image]\npush = 'yes'", "image.push", "expected true or false"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, table: str, key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(_project(tmp_path, table))
    assert key in str(info.value)
    assert problem in str(info.value)


def test_image_name_defaults_to_the_project_name() -> None:
    assert image_name(ImageConfig(), "My.Project_X") == "my.project_x"
    assert image_name(ImageConfig(name="acme/notes"), "x") == "acme/notes"
    assert image_name(ImageConfig(registry="registry.example:5000/team/"), "x") == (
        "registry.example:5000/team/x"
    )


def test_oci_labels_default_from_project_and_config_wins(tmp_path: Path) -> None:
    _project(tmp_path, project="[project.urls]\nSource = 'https://git.example/acme/notes'\n")
    project = project_metadata(load(tmp_path).project)
    labels = oci_labels(
        ImageConfig(labels={"org.opencontainers.image.vendor": "Acme"}),
        project,
        revision="abc123",
        version="1.4.0",
        created="2026-01-02T03:04:05Z",
        source="https://ci.example/acme/notes",
    )
    assert labels == {
        "org.opencontainers.image.title": "Notes_API",
        "org.opencontainers.image.description": "A notes service",
        "org.opencontainers.image.source": "https://git.example/acme/notes",
        "org.opencontainers.image.revision": "abc123",
        "org.opencontainers.image.version": "1.4.0",
        "org.opencontainers.image.created": "2026-01-02T03:04:05Z",
        "org.opencontainers.image.licenses": "Apache-2.0",
        "org.opencontainers.image.vendor": "Acme",
    }
    # without [project.urls], the CI provider's repository URL; configured source wins over all
    bare = {"name": "x"}
    assert (
        oci_labels(
            ImageConfig(), bare, revision="r", version="v", created="c", source="https://ci"
        )["org.opencontainers.image.source"]
        == "https://ci"
    )
    configured = ImageConfig(source="https://mine")
    assert (
        oci_labels(configured, project, revision="r", version="v", created="c", source=None)[
            "org.opencontainers.image.source"
        ]
        == "https://mine"
    )


def _manifest() -> manifest.Manifest:
    return manifest.Manifest(
        project="notes",
        version="1.4.0",
        wheel="notes-1.4.0-py3-none-any.whl",
        sdist="notes-1.4.0.tar.gz",
        image="ghcr.io/acme/notes",
        tags=["main", "sha-1a2b3c4", "latest"],
        image_id="sha256:" + "a" * 64,
        sbom="reports/sbom.cdx.json",
        revision="1a2b3c4" + "0" * 33,
    )


def test_manifest_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "reports" / "build-manifest.json"
    manifest.write(path, _manifest())
    data = json.loads(path.read_text())
    assert data["image"] == "ghcr.io/acme/notes"
    assert data["tags"] == ["main", "sha-1a2b3c4", "latest"]
    assert data["wheel"] == "notes-1.4.0-py3-none-any.whl"
    assert data["schema_version"] == manifest.SCHEMA_VERSION
    loaded = manifest.load(path)
    assert loaded == _manifest()
    assert loaded.references[0] == "ghcr.io/acme/notes:main"
    assert loaded.pinned is None


def test_manifest_errors_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(NoxopsError, match="run `nox -s build` first"):
        manifest.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(NoxopsError, match="not a valid build manifest"):
        manifest.load(bad)
    bad.write_text(json.dumps({"schema_version": 99}))
    with pytest.raises(NoxopsError, match="schema_version 99"):
        manifest.load(bad)


def test_github_output(tmp_path: Path) -> None:
    out = tmp_path / "github_output"
    out.write_text("earlier=1\n")
    assert not manifest.write_github_output(_manifest(), env={})
    assert manifest.write_github_output(_manifest(), env={"GITHUB_OUTPUT": str(out)})
    text = out.read_text()
    assert text.startswith("earlier=1\nimage=ghcr.io/acme/notes\n")
    assert "tags<<noxops_" in text
    assert "ghcr.io/acme/notes:main\nghcr.io/acme/notes:sha-1a2b3c4\n" in text
    assert f"image-id=sha256:{'a' * 64}\n" in text


def test_push_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    from noxops.image.auth import credentials

    with pytest.raises(NoxopsError, match=r"needs \[tool.noxops.image\] registry"):
        credentials(ImageConfig(), {})
    with pytest.raises(NoxopsError) as info:
        credentials(ImageConfig(registry="registry.example/acme"), {"NOXOPS_REGISTRY_USER": "u"})
    assert "NOXOPS_REGISTRY_USER/NOXOPS_REGISTRY_PASSWORD" in str(info.value)
    assert "login = false" in str(info.value)

    env = {"NOXOPS_REGISTRY_USER": "bot", "NOXOPS_REGISTRY_PASSWORD": "s3cret"}
    creds = credentials(ImageConfig(registry="registry.example:5000/acme"), env)
    assert (creds.registry, creds.username, creds.password) == (
        "registry.example:5000",
        "bot",
        "s3cret",
    )
    assert "s3cret" not in repr(creds)

    gitlab = {"CI_REGISTRY": "registry.gitlab.com", "CI_REGISTRY_USER": "gitlab-ci-token",
              "CI_REGISTRY_PASSWORD": "job-token"}  # fmt: skip
    creds = credentials(ImageConfig(registry="registry.gitlab.com/acme/notes"), gitlab)
    assert (creds.username, creds.source) == ("gitlab-ci-token", "$CI_REGISTRY_PASSWORD")

    github = {"GITHUB_ACTOR": "octocat", "GITHUB_TOKEN": "ghs_x"}
    creds = credentials(ImageConfig(registry="ghcr.io/acme"), github)
    assert (creds.username, creds.password) == ("octocat", "ghs_x")
    # provider credentials are only used for their own registry
    with pytest.raises(NoxopsError):
        credentials(ImageConfig(registry="docker.io/acme"), {**github, **gitlab})


def test_posargs() -> None:
    from noxops.image.runner import build_args, smoke_args

    assert build_args([]).push is None
    assert build_args(["--push"]).push is True
    assert build_args(["--no-push"]).push is False
    with pytest.raises(NoxopsError, match="unrecognized arguments: --bogus"):
        build_args(["--bogus"])
    opts, rest = smoke_args(["--image", "app:1", "-k", "health", "-x"])
    assert opts.image == "app:1"
    assert rest == ["-k", "health", "-x"]


def test_stages_are_registered_only_with_something_to_build(tmp_path: Path) -> None:
    pytest.importorskip("nox")
    from noxops.stages import STAGES

    bare = tmp_path / "bare"
    bare.mkdir()
    _project(bare)
    config = load(bare)
    assert not STAGES["build"].enabled(config)
    assert not STAGES["smoke"].enabled(config)

    with (bare / "pyproject.toml").open("a") as fh:
        fh.write("[build-system]\nrequires = ['hatchling']\nbuild-backend = 'hatchling.build'\n")
    config = load(bare)
    assert STAGES["build"].enabled(config)
    assert not STAGES["smoke"].enabled(config)

    (bare / "Dockerfile").write_text("FROM python:3.11-slim\n")
    config = load(bare)
    assert STAGES["build"].enabled(config) and STAGES["smoke"].enabled(config)
    assert not STAGES["build"].default and not STAGES["smoke"].default


def test_noxops_requirement(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sessions install the noxops that runs nox: an override, this checkout, where pip
    installed it from (PEP 610), else the release of the same version."""
    from noxops.runtime import distribution

    assert (Path(distribution.requirement({})) / "src" / "noxops").is_dir()  # this checkout
    with pytest.raises(NoxopsError, match="without noxops-"):
        distribution.requirement({"NOXOPS_REQUIREMENT": str(tmp_path)})
    (tmp_path / "noxops-0.1.0-py3-none-any.whl").write_bytes(b"")
    assert distribution.requirement({"NOXOPS_REQUIREMENT": str(tmp_path)}) == str(
        tmp_path / "noxops-0.1.0-py3-none-any.whl"
    )
    assert distribution.requirement({"NOXOPS_REQUIREMENT": "noxops==9.9"}) == "noxops==9.9"
    # Installed (not a checkout): pip's record of a local wheel, else the same version.
    monkeypatch.setattr(distribution, "_source_checkout", lambda: None)
    wheel = tmp_path / "noxops-0.1.0-py3-none-any.whl"
    monkeypatch.setattr(distribution, "_recorded_origin", lambda: str(wheel))
    assert distribution.requirement({}) == str(wheel)
    monkeypatch.setattr(distribution, "_recorded_origin", lambda: None)
    assert distribution.requirement({}) == f"noxops=={distribution.__version__}"


def test_smoke_plugin_hands_the_target_to_tests(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text(
        "def test_url(base_url, image):\n"
        "    assert base_url == 'http://127.0.0.1:9'\n"
        "    assert image == 'app:1'\n"
    )
    env = {**os.environ, "NOXOPS_IMAGE": "app:1", "PYTHONDONTWRITEBYTECODE": "1"}
    argv = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "noxops.image.smoke_plugin",
        "-p",
        "no:cacheprovider",
    ]
    proc = subprocess.run(
        [*argv, "--base-url=http://127.0.0.1:9/", "test_x.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout
    assert "base URL: http://127.0.0.1:9; image: app:1" in proc.stdout
    # nothing given: skipped with the reason, not an error
    env.pop("NOXOPS_IMAGE")
    env.pop("NOXOPS_BASE_URL", None)
    proc = subprocess.run(
        [*argv, "-rs", "test_x.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout
    assert "no service to test: pass --base-url or set NOXOPS_BASE_URL" in proc.stdout
