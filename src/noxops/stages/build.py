"""The ``build`` stage (wheel, sdist, container image) and ``smoke`` (tests against the image).

``build`` is registered when there is something to build: a Dockerfile, or a
``[build-system]`` for the wheel and sdist. ``smoke`` is registered when there is a Dockerfile
(or a configured ``base_url`` of a deployed service). Neither runs on a plain ``nox``: the
release part of a pipeline is asked for by name (``nox -s build smoke``) or listed in
``default_sessions``. See docs/build.md.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from noxops import engine, manifest, sbom, tags
from noxops.errors import NoxopsError
from noxops.image import ImageConfig, image_name, oci_labels, project_metadata
from noxops.smoke import RunningService, SidecarSpec, SmokeError, http_status, noxops_requirement
from noxops.stages.base import CI, Output, stage, write_json

if TYPE_CHECKING:
    import nox

    from noxops.config import Config
    from noxops.project import Project

__all__ = [
    "Credentials",
    "build",
    "build_args",
    "credentials",
    "has_build_system",
    "smoke",
    "smoke_args",
]


# -- options ------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        raise NoxopsError(f"{self.prog}: {message}")


def build_args(posargs: list[str]) -> argparse.Namespace:
    """``nox -s build -- [--push | --no-push] [--no-image]``."""
    parser = _Parser(prog="nox -s build --", add_help=False)
    parser.add_argument("--push", action="store_true", default=None)
    parser.add_argument("--no-push", dest="push", action="store_false")
    parser.add_argument("--no-image", action="store_true")
    return parser.parse_args(posargs)


def smoke_args(posargs: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """``nox -s smoke -- [--image REF | --base-url URL] [pytest arguments]``."""
    parser = _Parser(prog="nox -s smoke --", add_help=False)
    parser.add_argument("--image")
    parser.add_argument("--base-url")
    return parser.parse_known_args(posargs)


def has_build_system(project: Project) -> bool:
    """Whether the project builds into packages: a ``[build-system]`` table or a setup.py."""
    return project.build_system is not None or (project.root / "setup.py").is_file()


def _dockerfile(config: Config) -> Path:
    return config.root / config.image.dockerfile


# -- credentials --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Credentials:
    registry: str  # host[:port]
    username: str
    password: str = dataclasses.field(repr=False)
    source: str  # which variables they came from (for messages; never the values)


def credentials(image_cfg: ImageConfig, env: dict[str, str] | os._Environ[str]) -> Credentials:
    """Registry credentials from the environment; a clear error naming what to set."""
    if not image_cfg.registry:
        raise NoxopsError(
            "pushing needs [tool.noxops.image] registry, like 'ghcr.io/acme' or "
            "'registry.gitlab.com/acme/app'"
        )
    host = image_cfg.registry.split("/", 1)[0]
    candidates = [("NOXOPS_REGISTRY_USER", "NOXOPS_REGISTRY_PASSWORD")]
    if env.get("CI_REGISTRY") == host:
        candidates.append(("CI_REGISTRY_USER", "CI_REGISTRY_PASSWORD"))
    if host == "ghcr.io":
        candidates.append(("GITHUB_ACTOR", "GITHUB_TOKEN"))
    for user_var, password_var in candidates:
        if env.get(user_var) and env.get(password_var):
            return Credentials(host, env[user_var], env[password_var], f"${password_var}")
    names = " and ".join(f"{u}/{p}" for u, p in candidates)
    raise NoxopsError(
        f"pushing to {host} needs credentials: set {names} in the environment (or log in with "
        "`docker login` yourself and set [tool.noxops.image] login = false)"
    )


def _login(creds: Credentials, config_dir: str) -> None:
    """``docker login --password-stdin`` into a private config folder (mode 0700)."""
    proc = engine.docker(
        "login", "--username", creds.username, "--password-stdin", creds.registry,
        input=creds.password + "\n", env={"DOCKER_CONFIG": config_dir}, check=False, timeout=60,
    )  # fmt: skip
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).replace(creds.password, "****").strip()
        raise NoxopsError(
            f"docker login to {creds.registry} as {creds.username} (password from "
            f"{creds.source}) failed: {detail}"
        )


# -- packages -----------------------------------------------------------------------------


def _build_packages(session: nox.Session, config: Config) -> tuple[Optional[str], Optional[str]]:
    """The wheel and sdist in dist/ (replacing the project's previous ones), checked."""
    dist = config.root / "dist"
    session.install("twine")
    with tempfile.TemporaryDirectory(prefix="noxops-dist-") as tmp:
        if getattr(session, "venv_backend", "") == "uv":
            session.run("uv", "build", "--sdist", "--wheel", "--out-dir", tmp, str(config.root))
        else:  # pragma: no cover - noxops always runs with uv installed
            session.install("build")
            session.run("python", "-m", "build", "--outdir", tmp, str(config.root))
        built = sorted(Path(tmp).iterdir())
        wheels = [p for p in built if p.suffix == ".whl"]
        sdists = [p for p in built if p.name.endswith(".tar.gz")]
        session.run("twine", "check", *map(str, wheels + sdists))
        dist.mkdir(exist_ok=True)
        prefixes = {p.name.split("-", 1)[0] for p in wheels + sdists}
        for old in dist.iterdir():
            stale = old.name.split("-", 1)[0] in prefixes
            if stale and (old.suffix == ".whl" or old.name.endswith(".tar.gz")):
                old.unlink()
        for path in wheels + sdists:  # (uv also writes a .gitignore there)
            shutil.move(str(path), str(dist / path.name))
    return (wheels[0].name if wheels else None, sdists[0].name if sdists else None)


def _fill_wheelhouse(session: nox.Session, config: Config, wheel: Optional[str]) -> None:
    """The project's wheel and every dependency, as wheels, in the configured folder.

    The dependencies are resolved for every Python from the image's minor version up (uv's
    universal resolution): markers like ``python_full_version < '3.11.3'`` are decided
    inside the image, whose patch version can differ from this machine's, so every
    candidate is collected and ``pip install --no-index`` there picks what applies.
    """
    folder = config.root / str(config.image.wheelhouse)
    if wheel is None:
        raise NoxopsError(
            "[tool.noxops.image] wheelhouse needs the project's wheel: the project has no "
            "[build-system], or packages = false"
        )
    wheel_path = config.root / "dist" / wheel
    python = config.image.wheelhouse_python or ".".join(
        str(session.python or _current_minor()).split(".")[:2]
    )
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    session.install("pip")
    with tempfile.TemporaryDirectory(prefix="noxops-wheelhouse-") as tmp:
        wanted = Path(tmp) / "wanted.txt"
        wanted.write_text(f"{wheel.split('-')[0]} @ {wheel_path.as_uri()}\n", encoding="utf-8")
        pinned = Path(tmp) / "pinned.txt"
        session.run(
            "uv", "pip", "compile", "--quiet", "--universal", "--python-version", python,
            "--no-header", "--no-annotate", "-o", str(pinned), str(wanted),
        )  # fmt: skip
        lines = [line.split(";")[0].strip() for line in pinned.read_text().splitlines()]
        requirements = Path(tmp) / "requirements.txt"
        requirements.write_text(
            "\n".join(sorted({ln for ln in lines if ln and not ln.startswith(("#", "-"))})) + "\n",
            encoding="utf-8",
        )
        session.run(
            "python", "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check",
            "--no-deps", "--wheel-dir", str(folder), "-r", str(requirements),
        )  # fmt: skip
    count = len(list(folder.glob("*.whl")))
    session.log(f"wheelhouse: {count} wheels in {os.path.relpath(folder, config.root)}")


def _current_minor() -> str:
    import sys

    return f"{sys.version_info[0]}.{sys.version_info[1]}"


# -- image --------------------------------------------------------------------------------


def _created() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = (
        datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc)
        if epoch and epoch.isdigit()
        else datetime.datetime.now(datetime.timezone.utc)
    )
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _ci_source(env: os._Environ[str]) -> Optional[str]:
    if env.get("GITHUB_SERVER_URL") and env.get("GITHUB_REPOSITORY"):
        return f"{env['GITHUB_SERVER_URL']}/{env['GITHUB_REPOSITORY']}"
    return env.get("CI_PROJECT_URL") or None


def _check_platforms(image_cfg: ImageConfig, push: bool) -> bool:
    """Whether buildx is used; errors for what the engine cannot do, before any work."""
    buildx = engine.has_buildx()
    if len(image_cfg.platforms) > 1:
        if not buildx:
            raise NoxopsError(
                f"building for several platforms ({', '.join(image_cfg.platforms)}) needs "
                "docker buildx, which this engine does not have: install the buildx plugin "
                "(docker-buildx-plugin), or build one platform at a time with "
                "[tool.noxops.image] platforms = ['linux/amd64']"
            )
        if not push:
            raise NoxopsError(
                "a multi-platform image cannot be loaded into the local engine: push it "
                "(`nox -s build -- --push`) or list one platform in [tool.noxops.image] platforms"
            )
    return buildx


def _build_image(
    session: nox.Session,
    config: Config,
    refs: list[str],
    labels: dict[str, str],
    *,
    buildx: bool,
    push_multi: bool,
    workdir: Path,
    env: Optional[dict[str, str]] = None,
) -> Optional[str]:
    image_cfg = config.image
    iidfile = workdir / "iid"
    # The classic builder keeps a failed step's container unless told not to.
    argv = ["docker", "buildx", "build"] if buildx else ["docker", "build", "--force-rm"]
    argv += ["--file", str(_dockerfile(config)), "--iidfile", str(iidfile)]
    for ref in refs:
        argv += ["--tag", ref]
    argv += engine.labels_args(labels)
    for key, value in image_cfg.build_args.items():
        argv += ["--build-arg", f"{key}={value}"]
    if image_cfg.target:
        argv += ["--target", image_cfg.target]
    if image_cfg.platforms:
        argv += ["--platform", ",".join(image_cfg.platforms)]
    if buildx:
        argv += ["--push"] if push_multi else ["--load"]
    argv.append(str(config.root / image_cfg.context))
    session.run(*argv, external=True, env=env or {})
    return iidfile.read_text().strip() if iidfile.is_file() else None


@contextlib.contextmanager
def _logged_in(creds: Optional[Credentials]) -> Iterator[dict[str, str]]:
    """The environment for docker commands that talk to the registry.

    With credentials: a private, temporary ``DOCKER_CONFIG`` (mode 0700) logged in by stdin,
    deleted afterwards (the user's CLI plugins, like buildx, stay reachable through a link).
    """
    if creds is None:
        yield {}
        return
    config_dir = tempfile.mkdtemp(prefix="noxops-docker-")  # mode 0700
    try:
        plugins = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "cli-plugins"
        if plugins.is_dir():
            (Path(config_dir) / "cli-plugins").symlink_to(plugins)
        _login(creds, config_dir)
        yield {"DOCKER_CONFIG": config_dir}
    finally:
        shutil.rmtree(config_dir, ignore_errors=True)


def _push(session: nox.Session, refs: list[str], creds: Optional[Credentials]) -> None:
    with _logged_in(creds) as env:
        for ref in refs:
            session.run("docker", "push", ref, external=True, env=env)


def _repo_digest(image_id: str, repository: str) -> Optional[str]:
    out = engine.docker(
        "image", "inspect", "-f", "{{range .RepoDigests}}{{println .}}{{end}}", image_id
    ).stdout
    for line in out.split():
        name, _, digest = line.partition("@")
        if name == repository and digest:
            return digest
    return None


# Registered only when there is something to build or smoke-test (see the module docstring).
def _build_enabled(config: Config) -> bool:
    return config.image.enabled and (
        _dockerfile(config).is_file()
        or (config.image.packages and has_build_system(config.project))
    )


def _smoke_enabled(config: Config) -> bool:
    return config.image.enabled and (
        _dockerfile(config).is_file() or bool(config.image.smoke.base_url)
    )


def _wants_image(config: Config) -> bool:
    return _dockerfile(config).is_file()


MANIFEST = Output(lambda config: str(config.image.manifest), kind="manifest", check="build")
SBOM = Output("sbom.cdx.json", kind="file")
SMOKE_JUNIT = Output("junit-smoke.xml", kind="junit", check="smoke")


@stage(
    "build",
    default=False,
    section="image",
    enabled=_build_enabled,
    allow_parallel=False,
    outputs=[MANIFEST],
    ci=CI(stage="build", docker=_wants_image, artifacts=("reports", "dist")),
)
def build(session: nox.Session, config: Config) -> None:
    """Build the wheel, sdist and container image; write its SBOM and the build manifest."""
    try:
        _build(session, config)
    except NoxopsError as exc:
        session.error(str(exc))


def _build(session: nox.Session, config: Config) -> None:
    image_cfg = config.image
    opts = build_args(list(session.posargs))
    project = project_metadata(config.project)
    want_image = _dockerfile(config).is_file() and not opts.no_image
    push = image_cfg.push if opts.push is None else bool(opts.push)
    if push and not want_image:
        raise NoxopsError(f"--push: there is no image to push ({_dockerfile(config)} not found)")

    # Everything that can be refused is refused before the long work starts.
    creds = credentials(image_cfg, os.environ) if push and image_cfg.login else None
    ref = tags.detect(os.environ, config.root, image_cfg.default_branch)
    tag_list = tags.compute_tags(ref)
    repository = image_name(image_cfg, config.project_name)
    buildx = False
    if want_image:
        if engine.available() is None:
            raise NoxopsError(
                "no Docker engine answers (`docker version` failed): start it, or build "
                "only the packages with `nox -s build -- --no-image`"
            )
        buildx = _check_platforms(image_cfg, push)
    session.log(f"{ref.provider}: {ref.event} {ref.name or ''} at {ref.short_sha or '-'}")

    wheel = sdist = None
    if image_cfg.packages and has_build_system(config.project):
        wheel, sdist = _build_packages(session, config)
    if want_image and image_cfg.wheelhouse:
        _fill_wheelhouse(session, config, wheel)
    version = str(project.get("version") or (wheel.split("-")[1] if wheel else "0"))
    if ref.event == "tag":
        version = (tags.semver(ref.name) or [tags.sanitize(ref.name)])[0]

    created = _created()
    result = manifest.Manifest(
        project=config.project_name,
        version=version,
        wheel=wheel,
        sdist=sdist,
        revision=ref.sha,
        ref={"event": ref.event, "name": ref.name, "pr": ref.pr, "provider": ref.provider},
        created=created,
    )
    if want_image:
        labels = oci_labels(
            image_cfg, project, revision=ref.sha, version=version, created=created,
            source=_ci_source(os.environ),
        )  # fmt: skip
        refs = [f"{repository}:{tag}" for tag in tag_list]
        multi = len(image_cfg.platforms) > 1
        with (
            tempfile.TemporaryDirectory(prefix="noxops-build-") as work,
            _logged_in(creds if multi and push else None) as env,
        ):
            image_id = _build_image(
                session, config, refs, labels, buildx=buildx, push_multi=multi,
                workdir=Path(work), env=env,
            )  # fmt: skip
        sbom_rel = None
        if image_cfg.sbom and image_id and not multi:
            sbom_rel = _write_sbom(session, config, image_id, repository, tag_list[0])
        digest = None
        if push and not multi:
            _push(session, refs, creds)
            digest = _repo_digest(image_id, repository) if image_id else None
        elif multi:  # buildx pushed an image index; its id is the registry digest
            digest, image_id = image_id, None
        result = dataclasses.replace(
            result, image=repository, tags=tag_list, image_id=image_id, digest=digest,
            pushed=push, sbom=sbom_rel, labels=labels,
        )  # fmt: skip
        session.log(f"image {image_id}: {', '.join(refs)}")
    path = MANIFEST.path(config)
    manifest.write(path, result)
    if manifest.write_github_output(result):
        session.log("build outputs appended to $GITHUB_OUTPUT")
    session.log(f"build manifest: {path}")


def _write_sbom(
    session: nox.Session, config: Config, image_id: str, repository: str, tag: str
) -> str:
    """The image's SBOM in the reports folder; returns its path relative to the project."""
    document = sbom.cyclonedx(
        sbom.inspect_image(image_id),
        image=repository,
        version=tag,
        project=config.project_name,
        tool_version=_noxops_version(),
    )
    sbom_file = SBOM.path(config)
    write_json(sbom_file, document)
    relative = os.path.relpath(sbom_file, config.root)
    session.log(f"SBOM: {relative} ({len(document['components'])} Python packages)")
    return relative


def _noxops_version() -> str:
    import noxops

    return noxops.__version__


# -- smoke --------------------------------------------------------------------------------


def _wait_deployed(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = http_status(url)
        if last == 200:
            return
        time.sleep(1)
    raise SmokeError(
        f"{url} did not answer HTTP 200 within {timeout:g}s "
        f"({f'last answer HTTP {last}' if last else 'no HTTP answer'})"
    )


@stage(
    "smoke",
    default=False,
    section="image",
    enabled=_smoke_enabled,
    allow_parallel=False,
    outputs=[SMOKE_JUNIT],
    ci=CI(stage="smoke", docker=True),
)
def smoke(session: nox.Session, config: Config) -> None:
    """Start the built image, wait for its health check, run tests/smoke against it."""
    try:
        _smoke(session, config)
    except NoxopsError as exc:
        session.error(str(exc))


def _smoke(session: nox.Session, config: Config) -> None:
    sc = config.image.smoke
    opts, pytest_extra = smoke_args(list(session.posargs))
    tests_path = config.root / sc.tests
    if not tests_path.exists():
        raise NoxopsError(
            f"no smoke tests at {tests_path}: add some, or point [tool.noxops.image.smoke] "
            "tests at them"
        )
    base_url = (opts.base_url or sc.base_url or "").rstrip("/")
    image = opts.image
    if not base_url and not image:
        image = manifest.load(manifest.manifest_path(config)).image_id
        if not image:
            raise NoxopsError(
                f"the build manifest {manifest.manifest_path(config)} has no image: "
                f"was {config.image.dockerfile} there when `nox -s build` ran?"
            )
    session.install("pytest", *sc.requirements, noxops_requirement())
    junit = SMOKE_JUNIT.path(config)

    def run_tests(url: str) -> None:
        target = [f"--base-url={url}"] if url else []
        target += [f"--image={image}"] if image else []
        session.run(
            "pytest", "-p", "noxops.smoke_plugin", *target, f"--junitxml={junit}",
            "-o", "junit_suite_name=smoke", *sc.pytest_args, str(tests_path), *pytest_extra,
            env={"NOXOPS_BASE_URL": url, "NOXOPS_IMAGE": image or ""},
        )  # fmt: skip

    if not base_url and not sc.serve:
        session.log(f"smoke testing the image {image} (serve = false: the tests run it)")
        run_tests("")
        return
    if base_url:
        session.log(f"smoke testing the deployed service at {base_url}")
        _wait_deployed(base_url + sc.health_path, sc.timeout)
        run_tests(base_url)
        return
    if image is None:  # pragma: no cover - one of the two is always set above
        raise NoxopsError("no image to smoke-test")
    missing = [alias for alias, spec in sc.services.items() if not spec.image]
    if missing:
        raise NoxopsError(
            f"{config.file}: tool.noxops.image.smoke.services.{missing[0]}: no image; set "
            "image = 'NAME:TAG' (like 'postgres:15')"
        )
    sidecars = tuple(
        SidecarSpec(alias, spec.image, dict(spec.env), tuple(spec.command))
        for alias, spec in sc.services.items()
    )
    with RunningService(
        image,
        port=sc.port,
        health_path=sc.health_path,
        ready_path=sc.ready_path,
        timeout=sc.timeout,
        env=sc.env,
        sidecars=sidecars,
        log=session.log,
    ) as service:
        try:
            run_tests(service.base_url)
        except BaseException:
            service.print_logs()
            raise
