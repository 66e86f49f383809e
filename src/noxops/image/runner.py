"""One build, and one smoke run, start to finish.

:func:`run` builds the wheel and sdist, fills the wheelhouse, builds (and pushes) the image,
writes its SBOM and the build manifest; :func:`smoke` starts the built image (or takes a
deployed service) and runs the smoke tests against it. Independent of nox, so tests call them
directly: the long commands go through an injectable ``command`` (argv lists), packages
through ``install``, and the captured ``docker`` commands through ``docker``.
:mod:`noxops.stages.build` and :mod:`noxops.stages.smoke` wrap them in sessions, handing
them ``session.run`` and ``session.install``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

from noxops.containers import engine, leases
from noxops.errors import NoxopsError
from noxops.image import context as build_context
from noxops.image import manifest, packages, revision, sbom, tags
from noxops.image.auth import Credentials, credentials, logged_in
from noxops.image.command import Command, Install, no_install, run_command
from noxops.image.naming import ci_source, created, image_name, oci_labels, project_metadata
from noxops.image.settings import ImageConfig
from noxops.image.smoke import RunningService, SidecarSpec, SmokeError, http_status, is_http_url
from noxops.masking import mask, mask_urls, masked
from noxops.reports.outputs import Output
from noxops.runtime.distribution import __version__, requirement

if TYPE_CHECKING:
    from noxops.config import Config

__all__ = [
    "SBOM",
    "SMOKE_JUNIT",
    "build_args",
    "build_enabled",
    "built_image",
    "image_argv",
    "load_enabled",
    "run",
    "running_service",
    "smoke",
    "smoke_args",
    "smoke_enabled",
]


# The report files a build and a smoke run write (the build manifest: noxops.image.manifest).
SBOM = Output("sbom.cdx.json", kind="file")
SMOKE_JUNIT = Output("junit-smoke.xml", kind="junit", check="smoke")


# -- options ------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        raise NoxopsError(f"{self.prog}: {message}")


def build_args(posargs: Sequence[str]) -> argparse.Namespace:
    """``nox -s build -- [--push | --no-push] [--no-image]``."""
    parser = _Parser(prog="nox -s build --", add_help=False)
    parser.add_argument("--push", action="store_true", default=None)
    parser.add_argument("--no-push", dest="push", action="store_false")
    parser.add_argument("--no-image", action="store_true")
    return parser.parse_args(list(posargs))


def smoke_args(posargs: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    """``nox -s smoke -- [--image REF | --base-url URL] [--allow-other-revision] [pytest
    arguments]``."""
    parser = _Parser(prog="nox -s smoke --", add_help=False)
    parser.add_argument("--image")
    parser.add_argument("--base-url")
    parser.add_argument(revision.FLAG, dest="allow_other_revision", action="store_true")
    return parser.parse_known_args(list(posargs))


def _dockerfile(config: Config) -> Path:
    return config.root / config.image.dockerfile


def build_enabled(config: Config) -> bool:
    """Whether there is something to build: a Dockerfile, or a wheel (``[build-system]``)."""
    return _dockerfile(config).is_file() or (
        config.image.packages and packages.has_build_system(config.project)
    )


def smoke_enabled(config: Config) -> bool:
    """Whether there is something to smoke-test: a Dockerfile, or a deployed ``base_url``."""
    return _dockerfile(config).is_file() or bool(config.image.smoke.base_url)


def load_enabled(config: Config) -> bool:
    """Whether there is something to load-test: a Dockerfile (``load`` starts the image the
    build made; a project without one would get a session, and a CI job, that can only fail)."""
    return _dockerfile(config).is_file()


# -- the image ----------------------------------------------------------------------------


def _check_platforms(image_cfg: ImageConfig, push: bool, docker: engine.Docker | None) -> bool:
    """Whether buildx is used; errors for what the engine cannot do, before any work."""
    buildx = engine.has_buildx(docker)
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


def image_argv(
    config: Config,
    refs: Sequence[str],
    labels: Mapping[str, str],
    *,
    buildx: bool,
    push_multi: bool,
    iidfile: Path,
    context: Optional[Path] = None,
) -> list[str]:
    """The ``docker build`` (or ``docker buildx build``) command for the configured image,
    from ``context`` (default: the configured context folder)."""
    image_cfg = config.image
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
    argv.append(str(context or config.root / image_cfg.context))
    return argv


def _repo_digest(image_id: str, repository: str, docker: engine.Docker) -> Optional[str]:
    out = docker(
        "image", "inspect", "-f", "{{range .RepoDigests}}{{println .}}{{end}}", image_id
    ).stdout
    for line in out.split():
        name, _, digest = line.partition("@")
        if name == repository and digest:
            return digest
    return None


def _write_sbom(
    config: Config,
    image_id: str,
    repository: str,
    tag: str,
    *,
    docker: engine.Docker,
    log: Callable[[str], None],
) -> str:
    """The image's SBOM in the reports folder; returns its path relative to the project."""
    document = sbom.cyclonedx(
        sbom.inspect_image(image_id, docker=docker),
        image=repository,
        version=tag,
        project=config.project_name,
        tool_version=__version__,
    )
    sbom_file = SBOM.path(config)
    sbom_file.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    relative = os.path.relpath(sbom_file, config.root)
    log(f"SBOM: {relative} ({len(document['components'])} Python packages)")
    return relative


def _push(
    ref: str,
    env: Mapping[str, str],
    *,
    docker: engine.Docker,
    log: Callable[[str], None],
    timeout: float,
) -> None:
    """``docker push``, its output shown through the masker (a registry's error may echo the
    credentials), stopped after ``timeout`` seconds (a registry that never answers)."""
    try:
        proc = docker("push", ref, env=env, check=False, timeout=timeout)
    except engine.CommandTimeout:
        raise NoxopsError(
            f"`docker push {ref}` did not finish within {timeout:g}s and was stopped (does the "
            "registry answer?); raise [tool.noxops.image] push_timeout if a push needs longer"
        ) from None
    output = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0:
        raise NoxopsError(f"`docker push {ref}` failed (exit {proc.returncode}): {output}")
    lines = output.splitlines()
    for line in lines[-5:]:
        log(mask(line))


def _image(
    config: Config,
    result: manifest.Manifest,
    *,
    project: dict[str, Any],
    repository: str,
    tags: list[str],
    push: bool,
    creds: Optional[Credentials],
    buildx: bool,
    command: Command,
    docker: engine.Docker,
    log: Callable[[str], None],
    environ: Mapping[str, str],
) -> manifest.Manifest:
    """Build (and push) the image tagged ``result.tags``; ``result`` with what was made."""
    image_cfg = config.image
    labels = oci_labels(
        image_cfg, project, revision=result.revision, version=result.version,
        created=result.created, source=ci_source(environ),
    )  # fmt: skip
    refs = [f"{repository}:{tag}" for tag in tags]
    multi = len(image_cfg.platforms) > 1
    with (
        leases.private_dir("noxops-build-") as work,  # reaped if SIGKILLed
        logged_in(creds if multi and push else None, environ, docker=docker) as env,
    ):
        iidfile = Path(work) / "iid"
        sent = build_context.prepare(
            config.root / image_cfg.context, _dockerfile(config), Path(work),
            reports=config.root / config.reports_dir, buildx=buildx,
        )  # fmt: skip
        for line in build_context.describe(sent, image_cfg.context_warning_mb):
            log(line)
        argv = image_argv(
            config, refs, labels, buildx=buildx, push_multi=multi, iidfile=iidfile,
            context=sent.folder,
        )  # fmt: skip
        command(argv, env)
        image_id = iidfile.read_text().strip() if iidfile.is_file() else None
    sbom_rel = None
    if image_cfg.sbom and image_id and not multi:
        sbom_rel = _write_sbom(config, image_id, repository, tags[0], docker=docker, log=log)
    digest = None
    if push and not multi:
        with logged_in(creds, environ, docker=docker) as env:
            for pushed in refs:
                _push(pushed, env, docker=docker, log=log, timeout=image_cfg.push_timeout)
        digest = _repo_digest(image_id, repository, docker) if image_id else None
    elif multi:  # buildx pushed an image index; its id is the registry digest
        digest, image_id = image_id, None
    log(f"image {image_id}: {', '.join(refs)}")
    return dataclasses.replace(
        result, image=repository, tags=tags, image_id=image_id, digest=digest, pushed=push,
        sbom=sbom_rel, labels=labels,
    )  # fmt: skip


# -- build --------------------------------------------------------------------------------


def run(
    config: Config,
    posargs: Sequence[str] = (),
    *,
    command: Command = run_command,
    install: Install = no_install,
    python: Optional[str] = None,
    uv: bool = True,
    docker: engine.Docker | None = None,
    log: Callable[[str], None] = print,
    environ: Mapping[str, str] | None = None,
) -> manifest.Manifest:
    """Build what the project has; the build manifest says what. User mistakes raise
    :class:`NoxopsError` before the long work starts.

    ``python`` is the session's Python (the wheelhouse's default target), ``uv`` whether
    ``uv build`` makes the packages; ``docker`` runs captured docker commands (default:
    :func:`noxops.containers.engine.docker`, after checking the CLI is on PATH).
    """
    # An earlier build's manifest must not outlive a build that failed or was refused (even
    # for its arguments): `nox -s build smoke` would smoke-test the previous image. It is
    # written again once this build has succeeded.
    manifest.manifest_path(config).unlink(missing_ok=True)
    environ = os.environ if environ is None else environ
    log = masked(log)
    capture: engine.Docker = docker or engine.docker
    image_cfg = config.image
    opts = build_args(posargs)
    project = project_metadata(config.project)
    want_image = _dockerfile(config).is_file() and not opts.no_image
    push = image_cfg.push if opts.push is None else bool(opts.push)
    if push and not want_image:
        raise NoxopsError(f"--push: there is no image to push ({_dockerfile(config)} not found)")

    # Everything that can be refused is refused before the long work starts.
    creds = credentials(image_cfg, environ) if push and image_cfg.login else None
    ref = tags.detect(environ, config.root, image_cfg.default_branch)
    tag_list = tags.compute_tags(ref)
    repository = image_name(image_cfg, config.project_name)
    buildx = False
    if want_image:
        if engine.available(docker) is None:
            raise NoxopsError(
                "no Docker engine answers (`docker version` failed): start it, or build "
                "only the packages with `nox -s build -- --no-image`"
            )
        buildx = _check_platforms(image_cfg, push, docker)
    log(f"{ref.provider}: {ref.event} {ref.name or ''} at {ref.short_sha or '-'}")

    wheel = sdist = None
    if image_cfg.packages and packages.has_build_system(config.project):
        wheel, sdist = packages.build_packages(config, command=command, install=install, uv=uv)
    if want_image and image_cfg.wheelhouse:
        packages.fill_wheelhouse(
            config, wheel, command=command, install=install, python=python, log=log,
            docker=capture,
        )  # fmt: skip
    version = str(project.get("version") or (wheel.split("-")[1] if wheel else "0"))
    if ref.event == "tag":
        version = (tags.semver(ref.name) or [tags.sanitize(ref.name)])[0]

    when = created(environ)
    result = manifest.Manifest(
        project=config.project_name,
        version=version,
        wheel=wheel,
        sdist=sdist,
        revision=ref.sha,
        ref={"event": ref.event, "name": ref.name, "pr": ref.pr, "provider": ref.provider},
        created=when,
    )
    if want_image:
        result = _image(
            config, result, project=project, repository=repository, tags=tag_list, push=push,
            creds=creds, buildx=buildx, command=command, docker=capture, log=log, environ=environ,
        )  # fmt: skip
    path = manifest.manifest_path(config)
    manifest.write(path, result)
    if manifest.write_github_output(result, environ):
        log("build outputs appended to $GITHUB_OUTPUT")
    log(f"build manifest: {path}")
    return result


# -- smoke --------------------------------------------------------------------------------


def _wait_deployed(url: str, timeout: float, sleep: Callable[[float], None]) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = http_status(url)
        if last == 200:
            return
        sleep(1)
    raise SmokeError(
        f"{url} did not answer HTTP 200 within {timeout:g}s "
        f"({f'last answer HTTP {last}' if last else 'no HTTP answer'})"
    )


def built_image(
    config: Config,
    session: str = "smoke",
    *,
    allow_other_revision: bool = False,
    log: Callable[[str], None] = print,
) -> str:
    """The local image the last build made, from its manifest, for ``session``: refused when
    it was built from another revision than HEAD's, unless ``allow_other_revision``."""
    path = manifest.manifest_path(config)
    built = manifest.load(path)
    revision.check(config, built, path, session, allow=allow_other_revision, log=log)
    if not built.image_id:
        raise NoxopsError(
            f"the build manifest {path} has no image: "
            f"was {config.image.dockerfile} there when `nox -s build` ran?"
        )
    return built.image_id


def running_service(config: Config, image: str, log: Callable[[str], None]) -> RunningService:
    """``image`` with its helper containers, as ``[tool.noxops.image.smoke]`` describes them
    (not started yet: use it as a context manager). Smoke and load start it the same way."""
    sc = config.image.smoke
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
    return RunningService(
        image,
        port=sc.port,
        health_path=sc.health_path,
        ready_path=sc.ready_path,
        timeout=sc.timeout,
        env=sc.env,
        sidecars=sidecars,
        log=log,
        command=sc.command,
    )


def smoke(
    config: Config,
    posargs: Sequence[str] = (),
    *,
    command: Command = run_command,
    install: Install = no_install,
    log: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Run the smoke tests against the built image (started here unless ``serve = false``),
    a given image, or a deployed service. A failing test raises from ``command``."""
    sc = config.image.smoke
    opts, pytest_extra = smoke_args(posargs)
    tests_path = config.root / sc.tests
    if not tests_path.exists():
        raise NoxopsError(
            f"no smoke tests at {tests_path}: add some, or point [tool.noxops.image.smoke] "
            "tests at them"
        )
    base_url = (opts.base_url or sc.base_url or "").rstrip("/")
    if base_url and not is_http_url(base_url):
        where = (
            "nox -s smoke -- --base-url"
            if opts.base_url
            else f"{config.file}: tool.noxops.image.smoke.base_url"
        )
        raise NoxopsError(
            f"{where}: {mask_urls(base_url)!r} is not an http(s) URL; give the service's "
            "address, like http://localhost:8000 or https://staging.example.com"
        )
    image = opts.image
    if not base_url and not image:
        image = built_image(config, allow_other_revision=opts.allow_other_revision, log=log)
    install(["pytest", *sc.requirements, requirement()])
    junit = SMOKE_JUNIT.path(config)

    def run_tests(url: str) -> None:
        target = [f"--base-url={url}"] if url else []
        target += [f"--image={image}"] if image else []
        command(
            ["pytest", "-p", "noxops.image.smoke_plugin", *target, f"--junitxml={junit}",
             # only the smoke folder's own conftest.py files: a parent tests/conftest.py
             # imports the application, which the smoke environment does not have
             f"--confcutdir={tests_path if tests_path.is_dir() else tests_path.parent}",
             "-o", "junit_suite_name=smoke", *sc.pytest_args, str(tests_path), *pytest_extra],
            {"NOXOPS_BASE_URL": url, "NOXOPS_IMAGE": image or ""},
        )  # fmt: skip

    if not base_url and not sc.serve:
        log(f"smoke testing the image {image} (serve = false: the tests run it)")
        run_tests("")
        return
    if base_url:
        log(f"smoke testing the deployed service at {base_url}")
        _wait_deployed(base_url + sc.health_path, sc.timeout, sleep)
        run_tests(base_url)
        return
    if image is None:  # pragma: no cover - one of the two is always set above
        raise NoxopsError("no image to smoke-test")
    with running_service(config, image, log) as service:
        try:
            run_tests(service.base_url)
        except BaseException:
            service.print_logs()
            raise
