"""``noxops doctor``: one screen saying what this machine offers the pipeline, and what is missing.

Each check is a function returning :class:`Finding` rows: what was looked at, what was found
(and where), and for each problem the command that fixes it. The exit code is non-zero when a
stage that the configuration enables cannot run here.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from noxops.config import Config, load
from noxops.errors import NoxopsError
from noxops.masking import mask
from noxops.project import install, interpreters
from noxops.runtime import distribution
from noxops.stages import STAGES
from noxops.stages.integration import services_for

if TYPE_CHECKING:
    from collections.abc import Mapping

    from noxops.stages.base import Stage

__all__ = ["Finding", "add_parser", "diagnose", "render"]

OK, WARN, FAIL = "ok", "warn", "FAIL"


@dataclass(frozen=True)
class Finding:
    """One line of the doctor's screen."""

    topic: str
    status: str  # OK, WARN (degraded but the stage can run) or FAIL (an enabled stage cannot run)
    detail: str
    fix: str = ""


# A check looks at the machine for the enabled stages' declarations.
Probe = Callable[[Config, "Mapping[str, Stage]"], Iterator[Finding]]


def _pythons(config: Config, stages: Mapping[str, Stage]) -> Iterator[Finding]:
    found = interpreters.find_all(config.pythons)
    for version, interp in found.items():
        if interp is not None:
            yield Finding(f"Python {version}", OK, f"{interp.executable} ({interp.source})")
    missing = [v for v, i in found.items() if i is None]
    for version in missing:
        all_missing = len(missing) == len(found)
        yield Finding(
            f"Python {version}",
            FAIL if all_missing or os.environ.get("CI") else WARN,
            "not found on PATH, in pyenv's versions folder or among uv's Pythons; "
            + ("tests cannot run" if all_missing else f"tests-{version} will be skipped"),
            fix=f"pyenv install {version}   (or: uv python install {version})",
        )
    tools = config.tools_python or interpreters.current()
    if tuple(int(p) for p in tools.split(".")) < (3, 10):
        yield Finding(
            "tools Python",
            FAIL,
            f"{tools} runs lint/type/security tools, which need 3.10+",
            fix='set tools_python = "3.12" in [tool.noxops]',
        )


def _uv(config: Config, stages: Mapping[str, Stage]) -> Iterator[Finding]:
    try:
        from uv import find_uv_bin

        path: str | None = find_uv_bin()
    except (ImportError, FileNotFoundError):
        path = shutil.which("uv")
    if path:
        yield Finding("uv", OK, f"{path}: environments are created with uv")
    else:
        yield Finding(
            "uv",
            WARN,
            "not found: environments fall back to virtualenv (about 3x slower)",
            fix="pip install uv",
        )


_NO_CLI = "the docker CLI is not on PATH"


def _engine() -> tuple[str | None, str | None]:
    """The engine's version, or why there is none: asked as the build and smoke ask it, through
    the docker CLI (:func:`noxops.containers.engine.available`), so doctor says what they will meet.
    """
    from noxops.containers import engine

    if not shutil.which("docker"):
        return None, _NO_CLI
    failures: list[str] = []

    def run(*args: str, **kwargs: Any) -> Any:
        try:
            proc = engine.docker(*args, **kwargs)
        except engine.EngineError as exc:
            failures.append(str(exc))
            raise
        failures.append(" ".join((proc.stderr or proc.stdout).split())[:300])
        return proc

    version = engine.available(run)
    if version:
        return version, None
    return None, mask(f"`docker version` got no answer from an engine: {failures[-1]}")


def _docker(config: Config, stages: Mapping[str, Stage]) -> Iterator[Finding]:
    version, problem = _engine()
    needing = [st.name for st in stages.values() if st.ci.needs_docker(config)]
    where = os.environ.get("DOCKER_HOST") or "local socket"
    if version:
        yield Finding("Docker engine", OK, f"{version}, answering the docker CLI ({where})")
    else:
        yield Finding(
            "Docker engine",
            FAIL if needing else WARN,
            str(problem) + (f"; {_and(needing)} {_needs(needing)} it" if needing else ""),
            fix=("install Docker (or a compatible CLI), then " if problem == _NO_CLI else "")
            + "start the engine (sudo systemctl start docker) or set DOCKER_HOST",
        )


def _testcontainers(config: Config, stages: Mapping[str, Stage]) -> Iterator[Finding]:
    """The docker SDK, apart from the engine: only the docker provider of the integration
    services (testcontainers) uses it, and it runs in the nox process, not in a session."""
    names, _why = services_for(config)
    if not names or not any(st.ci.services for st in stages.values()):
        return
    from importlib.util import find_spec

    if find_spec("docker") and find_spec("testcontainers"):
        yield Finding("testcontainers provider", OK, "the docker SDK and testcontainers are here")
        return
    yield Finding(
        "testcontainers provider",
        WARN,  # the services line says whether another provider serves them
        "needs noxops[docker] (docker SDK) in the environment that runs nox, where the "
        "integration services start; it is not installed there",
        fix="pip install 'noxops[docker]' where nox is installed",
    )


def _local_servers(config: Config, stages: Mapping[str, Stage]) -> Iterator[Finding]:
    try:
        from noxops.services import postgres, redis
    except ImportError:  # pragma: no cover
        return
    pg = postgres.find_binaries()
    yield (
        Finding("PostgreSQL binaries", OK, str(pg))
        if pg
        else Finding(
            "PostgreSQL binaries",
            WARN,
            "initdb/pg_ctl not found on PATH or in /usr/lib/postgresql/*/bin",
            fix="sudo apt-get install postgresql   (or: pip install 'noxops[local-servers]')",
        )
    )
    rs = redis.find_server()
    yield (
        Finding("redis-server", OK, rs)
        if rs
        else Finding(
            "redis-server",
            WARN,
            "not found on PATH",
            fix="sudo apt-get install redis-server   (or: pip install 'noxops[local-servers]')",
        )
    )


def _services(config: Config, stages: Mapping[str, Stage]) -> Iterator[Finding]:
    """Which provider would serve each configured service, or why none can."""
    from noxops.services.base import ServiceError
    from noxops.services.select import plan, requested_provider

    names, _why = services_for(config)
    if not names or not any(st.ci.services for st in stages.values()):
        return
    try:
        provider = requested_provider(config.integration.provider)
        choices = plan(names, provider, engine_timeout=config.integration.engine_timeout)
    except ServiceError as exc:
        yield Finding(
            "services",
            FAIL,
            str(exc),
            fix="start Docker, install the servers, or set DATABASE_URL / REDIS_URL",
        )
        return
    for choice in choices:
        yield Finding(f"service {choice.kind.name}", OK, f"{choice.provider} ({choice.why})")


def _noxops(config: Config, stages: Mapping[str, Stage]) -> Iterator[Finding]:
    """Which noxops the integration and smoke environments install (the one running here)."""
    needing = [name for name in ("integration", "smoke") if name in stages]
    if not needing or config.project_name == "noxops":
        return
    try:
        chosen = distribution.requirement()
    except NoxopsError as exc:
        yield Finding(
            "noxops for sessions",
            FAIL,
            f"{exc}; {_and(needing)} cannot install it",
            fix=f"unset ${distribution.ENV_VAR} or point it at a wheel or a source checkout",
        )
        return
    override = os.environ.get(distribution.ENV_VAR, "").strip()
    a_path = override and not re.match(r"^[A-Za-z0-9._-]+\s*([=<>!~;\[]|$)", override)
    if a_path and not Path(chosen).exists():
        yield Finding(
            "noxops for sessions",
            FAIL,
            f"${distribution.ENV_VAR}={override} does not exist; {_and(needing)} cannot "
            "install it",
            fix=f"point ${distribution.ENV_VAR} at a noxops wheel, a folder of wheels or a "
            "source checkout",
        )
        return
    if chosen == f"noxops=={distribution.__version__}":
        yield Finding(
            "noxops for sessions",
            WARN,
            f"{_and(needing)} install {chosen} from the package index: this noxops was not "
            "installed from a checkout or a local wheel that pip recorded, so the release "
            "must be on your index",
            fix=f"export {distribution.ENV_VAR}=<a noxops wheel, folder of wheels or checkout>",
        )
        return
    source = f"${distribution.ENV_VAR}" if override else "the noxops running here"
    yield Finding("noxops for sessions", OK, f"{_and(needing)} install {chosen} ({source})")


def _project_install(config: Config, stages: Mapping[str, Stage]) -> Iterator[Finding]:
    """How the sessions install the project, or that nothing says how."""
    ok, how = install.describe(config.project)
    yield Finding(
        "project install",
        OK if ok else WARN,
        how,
        fix="add [project] and [build-system] to pyproject.toml, or a requirements.txt",
    )


def _ci(config: Config, stages: Mapping[str, Stage]) -> Iterator[Finding]:
    from noxops.ci import providers  # the one detection rule per provider

    provider = providers.current(os.environ)
    variable = provider.detect(os.environ)
    if variable:
        yield Finding("CI provider", OK, f"{provider.title} ({variable} is set)")
        return
    detail = "CI is set: missing Pythons are errors" if os.environ.get("CI") else "none (local run)"
    yield Finding("CI provider", OK, detail)


# Providers that read their CI file only at the repository's top: one in a subfolder never
# runs. (Jenkins reads the Jenkinsfile its job's "Script Path" names, anywhere.)
_TOP_ONLY = {"github": "GitHub", "gitlab": "GitLab"}


def _ci_files(config: Config, stages: Mapping[str, Stage]) -> Iterator[Finding]:
    """Where the configured providers' CI files are expected (the repository's top, as
    ``noxops ci generate`` writes them), whether they are there, and a CI file left in the
    project's subfolder, where its provider never reads it. Only paths are looked at: the
    noxfile is not loaded (``noxops ci check`` compares the contents)."""
    from noxops.ci.command import path_of, repository_root

    try:
        top = repository_root(config)
    except NoxopsError as exc:
        yield Finding("CI files", WARN, str(exc), fix="correct [tool.noxops.ci] root")
        return
    project = config.root.resolve()
    folder = project.relative_to(top).as_posix() if project != top else ""
    where = f"the repository's top ({top})"
    files = {provider: path_of(config, provider) for provider in config.ci.providers}
    missing = [f"{rel} ({p})" for p, rel in files.items() if not (top / rel).is_file()]
    present = [f"{rel} ({p})" for p, rel in files.items() if (top / rel).is_file()]
    working = f", jobs working in {folder}/" if folder else ""
    if present:
        yield Finding("CI files", OK, f"{', '.join(present)} at {where}{working}")
    if missing:
        yield Finding(
            "CI files",
            WARN,
            f"missing at {where}, where the project's CI files are expected"
            + (f" (jobs working in {folder}/)" if folder else "")
            + f": {', '.join(missing)}",
            fix="noxops ci generate   "
            "(or name the providers you use in [tool.noxops.ci] providers)",
        )
    for provider, rel in files.items() if folder else ():
        name = _TOP_ONLY.get(provider)
        if not name or not (project / rel).is_file():
            continue
        stray = f"{folder}/{rel}"
        by_hand = f"delete {stray} by hand (noxops never deletes it)"
        yield Finding(
            "CI files",
            WARN,
            f"{stray} is in the project's folder, where {name} never reads it (only at the "
            "repository's top): its jobs never run",
            fix=(
                f"{by_hand}: the one at the top is the one {name} reads"
                if (top / rel).is_file()
                else f"`noxops ci generate` writes it at the top; then {by_hand}"
            ),
        )


PROBES: tuple[Probe, ...] = (
    _pythons,
    _uv,
    _docker,
    _testcontainers,
    _local_servers,
    _services,
    _project_install,
    _noxops,
    _ci,
    _ci_files,
)


def _and(names: list[str]) -> str:
    return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)


def _needs(names: list[str]) -> str:
    """The verb for :func:`_and`'s list: "needs" after one name, "need" after several."""
    return "needs" if len(names) == 1 else "need"


def diagnose(config: Config, stages: Mapping[str, Stage] | None = None) -> list[Finding]:
    """Every check's findings for the stages enabled by ``config`` (default: every stage
    declared for it)."""
    if stages is None:
        stages = STAGES.for_config(config)
    enabled = {name: st for name, st in stages.items() if st.enabled(config)}
    return [finding for check in PROBES for finding in check(config, enabled)]


def render(findings: list[Finding], color: bool = False) -> str:
    width = max((len(f.topic) for f in findings), default=10)
    colors = {OK: "\033[32m", WARN: "\033[33m", FAIL: "\033[31m"}
    lines = []
    for f in findings:
        status = f"{f.status:<4}"
        if color:
            status = f"{colors[f.status]}{status}\033[0m"
        lines.append(f"{status}  {f.topic:<{width}}  {f.detail}")
        if f.fix and f.status != OK:
            lines.append(f"      {'':<{width}}  fix: {f.fix}")
    failing = [f for f in findings if f.status == FAIL]
    lines.append("")
    lines.append(
        f"{len(failing)} problem(s) stop an enabled stage here"
        if failing
        else "every enabled stage can run here"
    )
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    config = load(Path(args.root))
    findings = diagnose(config)
    color = os.isatty(1) and not os.environ.get("NO_COLOR")
    print(f"noxops doctor: {config.file}")
    print(render(findings, color=color))
    return 1 if any(f.status == FAIL for f in findings) else 0


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "doctor", help="say what this machine offers the pipeline and how to fix what is missing"
    )
    parser.add_argument("--root", default=".", help="the project folder (default: %(default)s)")
    parser.set_defaults(func=_run)
