"""noxops.image without nox: the build manifest's one reader, and the build runner's commands."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Optional

import pytest

from noxops.config import load
from noxops.errors import NoxopsError
from noxops.image import manifest, runner
from noxops.image.manifest import Manifest, ManifestError

DIGEST = "sha256:" + "d" * 64
SHA = "1a2b3c4" + "0" * 33

# -- the manifest -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("built", "expected"),
    [
        (Manifest(), None),
        (Manifest(image="reg.test/web"), "reg.test/web"),
        (Manifest(image="reg.test/web", tags=["1.2.3", "latest"]), "reg.test/web:1.2.3"),
        (Manifest(image="reg.test/web", tags=["9"], digest=DIGEST), f"reg.test/web@{DIGEST}"),
        (Manifest(image="reg.test:5000/web", tags=["9"]), "reg.test:5000/web:9"),
        (Manifest(image="reg.test:5000/web:9", tags=["1"]), "reg.test:5000/web:9"),
        (Manifest(image="reg.test:5000/web:9", digest=DIGEST), f"reg.test:5000/web@{DIGEST}"),
        (Manifest(image=f"reg.test/web@{DIGEST}", tags=["1"]), f"reg.test/web@{DIGEST}"),
        # the local image id is not a registry reference
        (Manifest(image="web", tags=["main"], image_id=DIGEST), "web:main"),
    ],
)
def test_deploy_ref(built: Manifest, expected: Optional[str]) -> None:
    assert built.deploy_ref == expected


def test_load_takes_a_hand_written_manifest(tmp_path: Path) -> None:
    path = tmp_path / "build-manifest.json"
    path.write_text(json.dumps({"image": "reg.test/web", "tags": ["1.0.0"], "digest": None}))
    built = manifest.load(path)
    assert (built.image, built.tags, built.project) == ("reg.test/web", ["1.0.0"], "")
    assert built.deploy_ref == "reg.test/web:1.0.0"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "is not a valid build manifest (Expecting property name"),
        (b"\xff\xfe{}", "is not a valid build manifest ("),
        (b"[1, 2]", "expected a JSON object, found list"),
        (b'"image"', "expected a JSON object, found str"),
        (b"{}", "has no 'image' entry; rerun the build session"),
        (b'{"image": "web", "schema_version": 99}', "schema_version 99, expected 1"),
        (b'{"image": "w", "image_id": 12345}', "'image_id' must be a string or null, not 12345"),
        (b'{"image": ["web"]}', "'image' must be a string or null"),
        (b'{"image": "web", "tags": "latest"}', "'tags' must be strings"),
        (b'{"image": "web", "tags": [1]}', "'tags' must be strings"),
        (b'{"image": "web", "pushed": "yes"}', "'pushed' must be true or false"),
        (b'{"image": "web", "labels": {"a": 1}}', "'labels' must be an object of strings"),
        (b'{"image": "web", "schema_version": true}', "'schema_version' must be a number"),
    ],
)
def test_load_refuses_a_malformed_manifest_in_one_line(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "build-manifest.json"
    path.write_bytes(content)
    with pytest.raises(ManifestError) as info:
        manifest.load(path)
    text = str(info.value)
    assert message in text
    assert "\n" not in text
    assert str(path) in text and str(path) not in info.value.why


def test_load_of_a_missing_manifest_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="run `nox -s build` first"):
        manifest.load(tmp_path / "nothing.json")
    with pytest.raises(ManifestError, match="run `nox -s build` first"):
        manifest.load(tmp_path)  # a folder


def test_deploy_uses_the_manifest_reader(tmp_path: Path) -> None:
    from noxops.deploy.runner import resolve_image
    from noxops.deploy.settings import DeployEnvConfig

    path = tmp_path / "reports" / "build-manifest.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"image": "web", "image_id": 12345}))
    with pytest.raises(NoxopsError, match="'image_id' must be a string or null"):
        resolve_image(tmp_path, DeployEnvConfig())


# -- the build runner, with fake commands ---------------------------------------------------


class FakeEngine:
    """Records the commands the runner would run; answers the captured docker ones."""

    def __init__(self, *, buildx: bool = False, image_id: str = DIGEST) -> None:
        self.buildx = buildx
        self.image_id = image_id
        self.commands: list[tuple[list[str], dict[str, str]]] = []
        self.captured: list[tuple[str, ...]] = []
        self.installed: list[list[str]] = []
        self.pushes: list[tuple[str, dict[str, str]]] = []
        self.push_answer = (0, "latest: digest: sha256:abc size: 1234\n")

    def command(self, argv: Sequence[str], env: Mapping[str, str]) -> None:
        self.commands.append((list(argv), dict(env)))
        if "--iidfile" in argv:
            Path(argv[list(argv).index("--iidfile") + 1]).write_text(self.image_id + "\n")

    def install(self, requirements: Sequence[str]) -> None:
        self.installed.append(list(requirements))

    def docker(
        self,
        *args: str,
        input: Optional[str] = None,
        env: Optional[Mapping[str, str]] = None,
        check: bool = True,
        timeout: Optional[float] = 120,
    ) -> subprocess.CompletedProcess[str]:
        self.captured.append(args)
        if args[0] == "version":
            return subprocess.CompletedProcess(list(args), 0, "27.1.0\n", "")
        if args[:2] == ("buildx", "version"):
            return subprocess.CompletedProcess(list(args), 0 if self.buildx else 1, "", "")
        if args[:2] == ("image", "inspect"):
            return subprocess.CompletedProcess(list(args), 0, f"reg.test/acme/notes@{DIGEST}\n", "")
        if args[0] == "login":
            assert input == "s3cret\n" and "s3cret" not in args
            return subprocess.CompletedProcess(list(args), 0, "Login Succeeded\n", "")
        if args[0] == "push":
            assert env is not None and Path(env["DOCKER_CONFIG"]).is_dir()
            self.pushes.append((args[1], dict(env)))
            code, out = self.push_answer
            return subprocess.CompletedProcess(list(args), code, out, "")
        raise AssertionError(f"unexpected docker {args}")


def _project(root: Path, image_table: str = "") -> Path:
    (root / "pyproject.toml").write_text(
        "[project]\nname = 'notes'\nversion = '1.4.0'\ndescription = 'Notes'\n"
        "[tool.noxops.image]\nsbom = false\npackages = false\n" + image_table
    )
    (root / "Dockerfile").write_text("FROM python:3.12-slim\n")
    return root


GITLAB = {
    "GITLAB_CI": "true",
    "CI_COMMIT_SHA": SHA,
    "CI_COMMIT_BRANCH": "main",
    "CI_DEFAULT_BRANCH": "main",
    "CI_PROJECT_URL": "https://gitlab.example/acme/notes",
    "SOURCE_DATE_EPOCH": "1700000000",
}


def test_build_runs_docker_build_with_tags_and_labels(tmp_path: Path) -> None:
    config = load(_project(tmp_path, "build_args = {PY = '3.12'}\ntarget = 'runtime'\n"))
    fake = FakeEngine()
    lines: list[str] = []
    built = runner.run(
        config, [], command=fake.command, install=fake.install, docker=fake.docker,
        log=lines.append, environ=GITLAB,
    )  # fmt: skip

    assert len(fake.commands) == 1
    argv, env = fake.commands[0]
    assert env == {}
    assert argv[:3] == ["docker", "build", "--force-rm"]
    assert argv[argv.index("--file") + 1] == str(tmp_path / "Dockerfile")
    # no .dockerignore: a lean copy of the context, outside the project (issue 15, #10)
    assert Path(argv[-1]).name == "context" and tmp_path not in Path(argv[-1]).parents
    assert any("no .dockerignore" in line for line in lines)
    tags = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--tag"]
    assert tags == ["notes:main", "notes:main-1a2b3c4", "notes:sha-1a2b3c4", "notes:latest"]
    labels = dict(argv[i + 1].split("=", 1) for i, arg in enumerate(argv) if arg == "--label")
    assert labels == {
        "org.opencontainers.image.title": "notes",
        "org.opencontainers.image.description": "Notes",
        "org.opencontainers.image.source": "https://gitlab.example/acme/notes",
        "org.opencontainers.image.revision": SHA,
        "org.opencontainers.image.version": "1.4.0",
        "org.opencontainers.image.created": "2023-11-14T22:13:20Z",
    }
    assert argv[argv.index("--build-arg") + 1] == "PY=3.12"
    assert argv[argv.index("--target") + 1] == "runtime"
    assert "--push" not in argv and "--load" not in argv
    assert fake.installed == []  # no packages, no wheelhouse

    assert built.image_id == DIGEST and built.digest is None and not built.pushed
    assert built.tags == [t.split(":")[1] for t in tags]
    assert built.labels == labels
    assert manifest.load(manifest.manifest_path(config)) == built
    assert lines[0] == "gitlab: branch main at 1a2b3c4"
    assert f"image {DIGEST}: {', '.join(tags)}" in lines


def test_build_pushes_every_tag_logged_in_privately(tmp_path: Path) -> None:
    config = load(_project(tmp_path, "registry = 'reg.test/acme'\n"))
    fake = FakeEngine()
    environ = {**GITLAB, "NOXOPS_REGISTRY_USER": "bot", "NOXOPS_REGISTRY_PASSWORD": "s3cret"}
    lines: list[str] = []
    built = runner.run(
        config, ["--push"], command=fake.command, docker=fake.docker, log=lines.append,
        environ=environ,
    )  # fmt: skip
    pushes = fake.pushes
    assert [ref for ref, _ in pushes] == [f"reg.test/acme/notes:{t}" for t in built.tags]
    config_dir = pushes[0][1]["DOCKER_CONFIG"]
    assert not Path(config_dir).exists()  # the private login is gone afterwards
    login = next(args for args in fake.captured if args[0] == "login")
    assert login[-1] == "reg.test" and "--password-stdin" in login
    assert built.pushed and built.digest == DIGEST
    assert built.deploy_ref == f"reg.test/acme/notes@{DIGEST}"
    assert not any("s3cret" in line for line in lines)


def test_a_push_error_echoing_the_credentials_is_masked(tmp_path: Path) -> None:
    """Registries' errors may echo what they were sent; noxops prints them masked."""
    config = load(_project(tmp_path, "registry = 'reg.test/acme'\n"))
    fake = FakeEngine()
    pair = base64.b64encode(b"bot:s3cret").decode()
    fake.push_answer = (
        1,
        f"denied: bad auth {pair} (password s3cret) for https://bot:s3cret@reg.test",
    )
    environ = {**GITLAB, "NOXOPS_REGISTRY_USER": "bot", "NOXOPS_REGISTRY_PASSWORD": "s3cret"}
    with pytest.raises(NoxopsError) as err:
        runner.run(config, ["--push"], command=fake.command, docker=fake.docker, environ=environ)
    message = str(err.value)
    assert "denied: bad auth" in message
    assert "s3cret" not in message and pair not in message
    assert not (config.reports / "build-manifest.json").exists()  # the build failed


def test_build_refuses_before_any_work(tmp_path: Path) -> None:
    config = load(_project(tmp_path, "registry = 'reg.test/acme'\n"))
    fake = FakeEngine()
    with pytest.raises(NoxopsError, match="needs credentials"):
        runner.run(config, ["--push"], command=fake.command, docker=fake.docker, environ=GITLAB)
    multi = load(_project(tmp_path, "platforms = ['linux/amd64', 'linux/arm64']\n"))
    with pytest.raises(NoxopsError, match="needs docker buildx"):
        runner.run(multi, [], command=fake.command, docker=fake.docker, environ=GITLAB)
    with pytest.raises(NoxopsError, match="cannot be loaded into the local engine"):
        runner.run(multi, [], command=fake.command, docker=FakeEngine(buildx=True).docker,
                   environ=GITLAB)  # fmt: skip
    with pytest.raises(NoxopsError, match="unrecognized arguments: --bogus"):
        runner.run(config, ["--bogus"], command=fake.command, docker=fake.docker, environ=GITLAB)
    assert fake.commands == []


def test_build_multi_platform_pushes_with_buildx(tmp_path: Path) -> None:
    table = (
        "registry = 'reg.test/acme'\nlogin = false\nplatforms = ['linux/amd64', 'linux/arm64']\n"
    )
    config = load(_project(tmp_path, table))
    fake = FakeEngine(buildx=True)
    built = runner.run(
        config, ["--push"], command=fake.command, docker=fake.docker, log=lambda _: None,
        environ=GITLAB,
    )  # fmt: skip
    (argv, _), *others = fake.commands
    assert argv[:3] == ["docker", "buildx", "build"] and others == []
    assert argv[argv.index("--platform") + 1] == "linux/amd64,linux/arm64"
    assert "--push" in argv
    assert (built.digest, built.image_id) == (DIGEST, None)


def test_no_image_builds_only_the_manifest(tmp_path: Path) -> None:
    config = load(_project(tmp_path))
    fake = FakeEngine()
    built = runner.run(
        config, ["--no-image"], command=fake.command, docker=fake.docker, log=lambda _: None,
        environ=GITLAB,
    )  # fmt: skip
    assert fake.commands == [] and fake.captured == []
    assert built.image is None and built.deploy_ref is None


def test_a_failed_build_leaves_no_manifest_for_smoke_to_trust(tmp_path: Path) -> None:
    """`nox -s build smoke` after a failed build must not smoke-test the previous image."""
    config = load(_project(tmp_path))
    fake = FakeEngine()
    runner.run(config, [], command=fake.command, docker=fake.docker, environ=GITLAB)
    path = config.reports / "build-manifest.json"
    assert path.is_file()

    def failing(argv: Sequence[str], env: Mapping[str, str]) -> None:
        raise NoxopsError("`docker build` failed with exit code 1")

    with pytest.raises(NoxopsError):
        runner.run(config, [], command=failing, docker=fake.docker, environ=GITLAB)
    assert not path.exists()
    (tmp_path / "tests" / "smoke").mkdir(parents=True)
    with pytest.raises(NoxopsError) as err:
        runner.smoke(config, [], command=fake.command)
    assert "build-manifest.json" in str(err.value) and "\n" not in str(err.value)


class NoEngine(FakeEngine):
    """An engine that does not answer ``docker version``."""

    def docker(self, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
        if args[0] == "version":
            return subprocess.CompletedProcess(list(args), 1, "", "Cannot connect")
        return super().docker(*args, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("table", "posargs", "engine", "refusal"),
    [
        ("registry = 'reg.test/acme'\n", ["--push"], FakeEngine, "needs credentials"),
        ("", [], NoEngine, "no Docker engine answers"),
        ("platforms = ['linux/amd64', 'linux/arm64']\n", [], FakeEngine, "needs docker buildx"),
        ("", ["--bogus"], FakeEngine, "unrecognized arguments: --bogus"),
    ],
    ids=["no-credentials", "no-engine", "no-buildx", "bad-argument"],
)
def test_a_refused_build_leaves_no_manifest_for_smoke_to_trust(
    tmp_path: Path, table: str, posargs: list[str], engine: type[FakeEngine], refusal: str
) -> None:
    """`nox -s build smoke` where the build was refused (issue #25, 3): smoke had tested the
    previous build's image, `build: aborted`, `smoke: success`."""
    config = load(_project(tmp_path))
    runner.run(config, [], command=FakeEngine().command, docker=FakeEngine().docker,
               log=lambda _: None, environ=GITLAB)  # fmt: skip
    path = manifest.manifest_path(config)
    assert path.is_file()
    refused = load(_project(tmp_path, table))
    fake = engine()
    with pytest.raises(NoxopsError, match=refusal):
        runner.run(refused, posargs, command=fake.command, docker=fake.docker, environ=GITLAB)
    assert fake.commands == []  # refused before any work
    assert not path.exists()


@pytest.mark.parametrize(
    ("posargs", "table", "where"),
    [
        (["--base-url=notaurl"], "", "nox -s smoke -- --base-url"),
        (["--base-url", "localhost:8000"], "", "nox -s smoke -- --base-url"),
        (["--base-url=http://"], "", "nox -s smoke -- --base-url"),
        (["--base-url=http://web:port"], "", "nox -s smoke -- --base-url"),
        (
            [],
            "[tool.noxops.image.smoke]\nbase_url = 'ftp://web'\n",
            "tool.noxops.image.smoke.base_url",
        ),
    ],
)
def test_a_base_url_that_is_not_a_url_is_refused_at_once(
    tmp_path: Path, posargs: list[str], table: str, where: str
) -> None:
    """`smoke -- --base-url=notaurl` had waited the health timeout (60 s) for no answer."""
    config = load(_project(tmp_path, table))
    (tmp_path / "tests" / "smoke").mkdir(parents=True)
    fake = FakeEngine()

    def sleep(seconds: float) -> None:
        raise AssertionError("waited for a URL that cannot answer")

    with pytest.raises(NoxopsError) as err:
        runner.smoke(config, posargs, command=fake.command, install=fake.install, sleep=sleep)
    message = str(err.value)
    assert where in message and "is not an http(s) URL" in message and "\n" not in message
    assert fake.commands == [] and fake.installed == []
