"""Turning the enabled stages into nox sessions: the one call a noxfile makes."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nox

from noxops import masking
from noxops.ci import providers
from noxops.config import Config, closest, load
from noxops.containers import leases
from noxops.errors import ConfigError, NoxopsError
from noxops.incremental import changed, envguard, prepare
from noxops.project import interpreters
from noxops.reports.records import recording
from noxops.runtime import noxapi, schedule
from noxops.runtime.watchdog import Watchdog
from noxops.stages import STAGES, Stage
from noxops.stages.base import output_owners

__all__ = ["Pipeline", "collecting", "sessions"]

# While :func:`collecting` runs, :func:`sessions` only records what it would register.
_COLLECTED: list[list[Pipeline]] = []


@dataclass
class Pipeline:
    """What :func:`sessions` registered, for noxfiles that want to look or adjust."""

    config: Config
    stages: dict[str, Stage]
    missing_pythons: list[str]

    def session_names(self, name: str) -> list[str]:
        return self.stages[name].sessions(self.config.pythons)


def _python_for(st: Stage, config: Config) -> Any:
    if st.python == "matrix":
        return config.pythons
    if st.python == "none":
        return False
    return st.tools_python(config) or interpreters.current()


def _make_session(
    st: Stage,
    config: Config,
    registered: dict[str, tuple[Stage, Config]],
    owners: Mapping[str, str],
) -> Any:
    def run(session: nox.Session) -> None:
        # Sequential runs: build the environments of the sessions queued after this one while
        # this one runs (noxops.incremental.prepare); each waits for its own; Ctrl-C stops the
        # building.
        prepare.begin(session, registered, config)
        try:
            _run(session)
        except BaseException as exc:
            if not isinstance(exc, Exception):  # Ctrl-C, SystemExit: at once, not at exit
                prepare.stop()
                raise
            prepare.promote_ready(session)  # a failed stage: nox goes on with the next one
            raise
        prepare.promote_ready(session)

    def _run(session: nox.Session) -> None:
        limit = st.timeout(config)
        # reports/sessions/<session>.json and .log: the outcome and full output, for `report`
        # SIGTERM/SIGHUP (a cancelled CI job) unwind like Ctrl-C: every clean-up runs.
        with (
            leases.interrupting(),
            recording(session, config) as record,
            Watchdog(limit, label=session.name) as dog,
        ):
            record.expired = dog.expired
            try:
                session = envguard.guard(session)  # reuse the env only while it is right
                with changed.tracking(session, st, config, record, owners) as needed:
                    if needed:
                        st.func(session, config)
            except BaseException:
                if dog.expired.is_set():
                    session.error(
                        f"{st.name} timed out after {limit:g}s and was stopped with its "
                        "child processes; raise [tool.noxops."
                        f"{st.section or st.name}] timeout if it needs longer"
                    )
                raise
            if dog.expired.is_set():  # pragma: no cover - the stage swallowed the kill
                session.error(f"{st.name} timed out after {limit:g}s")

    setattr(run, prepare.MARK, st.name)
    run.__name__ = st.name.replace("-", "_")
    run.__qualname__ = run.__name__
    run.__doc__ = st.doc
    return run


# NOXOPS_LONGEST_FIRST=0: `nox -j` starts sessions in queue order, as nox does.
LONGEST_FIRST_ENV = "NOXOPS_LONGEST_FIRST"


def _parallel_order(config: Config, queue: list[tuple[str, bool]]) -> list[int] | None:
    """Under ``nox -j``, in the nox process that starts one per session: the longest sessions
    first, by their last completed runs. And the run's commit and branch, which every
    session's record carries, asked of git here once for all of them (they check it is
    still right: :func:`noxops.ci.providers.git_head`)."""
    providers.hand_over(config.root)
    if os.environ.get(LONGEST_FIRST_ENV, "1").strip().lower() in {"0", "false", "no", "off"}:
        return None
    seconds = changed.last_seconds(config)
    order = schedule.longest_first(queue, seconds)
    if order != sorted(order):
        names = [queue[i][0] for i in order]
        shown = ", ".join(f"{n} {seconds[n]:.1f}s" if n in seconds else f"{n} ?" for n in names)
        noxapi.log_info(
            f"noxops: starting the longest sessions first, by their last runs: {shown} "
            f"({LONGEST_FIRST_ENV}=0 keeps the queue order)"
        )
    return order


@contextlib.contextmanager
def collecting() -> Iterator[list[Pipeline]]:
    """While inside, :func:`sessions` registers nothing with nox and changes nothing (no
    interpreter search, no nox options): it appends what it would register to the list
    yielded, and a mistake raises :class:`NoxopsError`. ``noxops ci`` loads a project's
    noxfile this way to learn its stages."""
    found: list[Pipeline] = []
    _COLLECTED.append(found)
    try:
        yield found
    finally:
        _COLLECTED.remove(found)


def _fail(message: str) -> None:
    """Stop the noxfile with one clear message: no traceback for a user's mistake."""
    if _COLLECTED:
        raise NoxopsError(message)
    sys.stderr.write(f"nox > noxops: {message}\n")
    raise SystemExit(2)


def _check_default_sessions(config: Config, stages: list[str]) -> None:
    """``default_sessions`` names stages (a stage left out here, like smoke without a
    Dockerfile, is fine); a name of no stage would silently leave the plain `nox` short."""
    for name in config.default_sessions or ():
        if name not in stages:
            hint = closest(name, stages)
            did = f"did you mean {hint!r}? " if hint else ""
            problem = f"{name!r} names no stage; {did}stages: {', '.join(stages)}"
            _fail(str(ConfigError(config.file, "tool.noxops.default_sessions", problem)))


def sessions(
    root: str | os.PathLike[str] | None = None,
    *,
    only: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
    overrides: Mapping[str, Any] | None = None,
) -> Pipeline:
    """Register the project's pipeline stages as nox sessions.

    ``root`` defaults to the folder of the calling noxfile (nox runs from there). ``only`` and
    ``exclude`` pick stages by name; ``overrides`` is merged over ``[tool.noxops]`` (for
    example ``{"tests": {"pytest_args": ["-x"]}}``). A noxfile can still define its own
    sessions. To replace a stage, leave it out with ``exclude=["lint"]`` and define a session
    of that name: defining a session whose name this call registered stops nox with a message
    (nox warns that redefining a session will become an error).
    """
    project_root = Path(root) if root is not None else Path.cwd()
    only = None if only is None else set(only)
    exclude = set(exclude)
    try:
        # The noxfile has imported its stage modules: a table no stage declares is a mistake.
        config = load(project_root, overrides, stages_declared=True)
    except NoxopsError as exc:
        _fail(str(exc))
        raise  # pragma: no cover - _fail exits

    # Every declared stage, plus the per-environment ones (deploy-<env>, rollback-<env>).
    candidates = STAGES.for_config(config)
    chosen = {
        name: st
        for name, st in candidates.items()
        if st.enabled(config) and (only is None or name in only) and name not in exclude
    }
    unknown = (set(only or ()) | set(exclude)) - set(candidates)
    if unknown:
        _fail(f"unknown stage(s) {', '.join(sorted(unknown))}; stages: {', '.join(candidates)}")
    _check_default_sessions(config, list(candidates))

    if _COLLECTED:
        pipeline = Pipeline(config=config, stages=chosen, missing_pythons=[])
        _COLLECTED[-1].append(pipeline)
        return pipeline

    # Every secret the sessions may meet is masked in what they print and record, and what
    # a SIGKILLed run left (a private DOCKER_CONFIG, a kubeconfig copy) goes now, whatever
    # this run does.
    masking.register_environ(
        os.environ, [name for st in chosen.values() for name in st.ci.secret_names(config)]
    )
    leases.reap_dirs()

    # Prepare-ahead and environment fingerprints use nox internals: off, with one warning
    # line, when they are not what noxops expects.
    noxapi.check()
    noxapi.order_parallel_runs(functools.partial(_parallel_order, config))

    found = interpreters.find_all(config.pythons)
    interpreters.expose(found)
    missing = [v for v, interp in found.items() if interp is None]
    if missing and not os.environ.get("CI"):
        sys.stderr.write(
            f"nox > noxops: Python {', '.join(missing)} not found on this machine "
            "(PATH, pyenv, uv); their test sessions will be skipped\n"
        )

    # Never download interpreters: a missing one is skipped locally and an error in CI.
    nox.options.download_python = "never"
    os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
    nox.options.default_venv_backend = "uv|virtualenv"
    nox.options.error_on_missing_interpreters = bool(os.environ.get("CI"))
    default = config.default_sessions

    registered = {name: (st, config) for name, st in chosen.items()}
    owners = output_owners(chosen, config)
    for name, st in chosen.items():
        requires = [r for r in st.requires if r in chosen]
        requires = [
            f"{r}-{{python}}" if chosen[r].python == "matrix" and st.python == "matrix" else r
            for r in requires
        ]
        nox.session(
            _make_session(st, config, registered, owners),
            name=name,
            python=_python_for(st, config),
            requires=requires or None,
            default=st.default if default is None else name in default,
            # noxops.incremental.fingerprint recreates an environment when it is stale
            reuse_venv=True,
            allow_parallel=st.allow_parallel,
        )
    noxapi.refuse_redefinition(chosen)
    return Pipeline(config=config, stages=chosen, missing_pythons=missing)
