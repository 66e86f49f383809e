"""Every use of nox's internals, in one module, checked once.

Two features reach past nox's public API: environments prepared ahead
(:mod:`noxops.incremental.prepare` looks at nox's queue of sessions, asks nox which environment each
would get and waits in
front of its venv step) and environment fingerprints (:mod:`noxops.incremental.fingerprint` wraps a
session's ``install`` and recreates its environment when it is stale). What they need of nox
is here, behind small functions, and nowhere else. So are the two other internals noxops
uses: nox's exception for a failed command (:data:`CommandFailed`, which a stage catches or
raises) and nox's session registry, which ``noxops ci`` empties while it loads a project's
noxfile (:func:`isolated_registry`).

:func:`check` runs once, when ``noxops.sessions()`` registers the pipeline: it builds the
objects nox would (a manifest, a session runner, a session, a virtualenv) and verifies that
every internal used below is there with the expected shape. When nox changed under noxops,
both features turn off with one warning line and the sessions run plainly, as nox runs them.

The nox versions noxops is tested with are :data:`NOX_SUPPORTED` (also the bound in
``pyproject.toml``).
"""

from __future__ import annotations

import contextlib
import inspect
import re
import sys
import types
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    import nox
    from nox.command import CommandFailed
    from nox.virtualenv import VirtualEnv
    from packaging.version import Version

__all__ = [
    "NOX_SUPPORTED",
    "CommandFailed",
    "RunOptions",
    "VirtualEnv",
    "check",
    "disable",
    "enabled",
    "find_uv",
    "isolated_registry",
    "log_debug",
    "log_info",
    "nox_version",
    "order_parallel_runs",
    "planned_uv_env",
    "queued_runners",
    "recreate_venv",
    "refuse_redefinition",
    "reset",
    "resolved_interpreter",
    "run_next",
    "run_options",
    "runner_envdir",
    "runner_function",
    "runner_name",
    "runner_python",
    "runner_requires",
    "session_env",
    "session_runner",
    "session_virtualenv",
    "stage_failure",
    "venv_reused",
    "wait_before_venv",
    "would_reuse_venv",
]

# The nox releases noxops is tested with; pyproject.toml's dependency carries the same bound.
NOX_SUPPORTED = ">=2026.8,<2027"

_state: dict[str, Any] = {"checked": False, "problem": None}
# Session names noxops.sessions() registered; a noxfile may not define them again.
_stage_sessions: set[str] = set()
_hook: dict[str, Any] = {"installed": False, "parallel": False}
# nox's warning when a session name is registered twice (the session it replaces is lost).
_REDEFINED = re.compile(r"^The session '(?P<name>[^']+)' has already been registered")


# -- the check ------------------------------------------------------------------------------


class _Changed(Exception):
    """One internal noxops relies on is missing or has another shape."""


def _expect(condition: bool, what: str) -> None:
    if not condition:
        raise _Changed(what)


def _params(module: Any, name: str, *params: str) -> None:
    """``module.name`` is a function taking (at least) ``params``."""
    where = f"{module.__name__}.{name}"
    func: Any = getattr(module, name, None)
    _expect(callable(func), where)
    found = inspect.signature(func).parameters
    missing = [p for p in params if p not in found]
    _expect(not missing, f"{where}({', '.join(missing)})")


def _verify() -> None:
    """Raise :class:`_Changed` (or whatever nox raises) unless every internal is as expected."""
    import nox
    import nox._options
    import nox.command
    import nox.logger
    import nox.manifest
    import nox.registry
    import nox.sessions
    import nox.virtualenv

    sessions, virtualenv = nox.sessions, nox.virtualenv
    for name in ("resolve_download_python", "resolve_reuse_existing_venv", "resolve_venv_backends"):
        _params(sessions, name, "global_config", "func")
    _params(
        virtualenv,
        "get_virtualenv",
        "download_python",
        "envdir",
        "reuse_existing",
        "interpreter",
        "venv_params",
    )
    _params(virtualenv, "find_uv")
    not_found = getattr(virtualenv, "InterpreterNotFound", None)
    _expect(
        isinstance(not_found, type) and issubclass(not_found, Exception),
        "nox.virtualenv.InterpreterNotFound",
    )
    failed = getattr(nox.command, "CommandFailed", None)
    _expect(isinstance(failed, type) and issubclass(failed, Exception), "nox.command.CommandFailed")
    _expect(isinstance(getattr(nox.registry, "_REGISTRY", None), dict), "nox.registry._REGISTRY")
    for level in ("info", "debug"):
        _expect(callable(getattr(nox.logger.logger, level, None)), f"nox.logger.logger.{level}")

    # The objects nox makes for a run, made the same way.
    config = nox._options.NoxConfig()
    for option in ("parallel", "no_install", "noxfile", "envdir"):
        _expect(hasattr(config, option), f"NoxConfig.{option}")
    manifest = nox.manifest.Manifest({}, config)
    _expect(isinstance(getattr(manifest, "_queue", None), list), "Manifest._queue")
    func = types.SimpleNamespace(python=None, venv_params=[], parametrize=None, reuse_venv=True)
    runner = sessions.SessionRunner("noxops-check", ["noxops-check"], func, config, manifest)
    for attr in ("func", "global_config", "manifest", "venv"):
        _expect(hasattr(runner, attr), f"SessionRunner.{attr}")
    _expect(runner.friendly_name == "noxops-check", "SessionRunner.friendly_name")
    _expect(isinstance(runner.envdir, str), "SessionRunner.envdir")
    _expect(callable(getattr(runner, "_create_venv", None)), "SessionRunner._create_venv")
    _expect(getattr(nox.Session(runner), "_runner", None) is runner, "Session._runner")

    venv_class: Any = getattr(virtualenv, "VirtualEnv", None)
    _expect(isinstance(venv_class, type), "nox.virtualenv.VirtualEnv")
    venv = venv_class(
        str(Path(config.envdir) / "noxops-check"), interpreter=None, venv_backend="uv"
    )
    for attr in ("location", "interpreter", "reuse_existing", "_reused"):
        _expect(hasattr(venv, attr), f"VirtualEnv.{attr}")
    _expect(venv.venv_backend == "uv", "VirtualEnv.venv_backend")
    _expect(callable(getattr(venv, "create", None)), "VirtualEnv.create")
    resolved = inspect.getattr_static(venv_class, "_resolved_interpreter", None)
    _expect(isinstance(resolved, property), "VirtualEnv._resolved_interpreter")


def check() -> bool:
    """Verify nox's internals once; ``False`` (after one warning line) turns the features off."""
    if not _state["checked"]:
        _state["checked"] = True
        try:
            _verify()
        except _Changed as exc:
            disable(f"{exc} is missing or has changed")
        except Exception as exc:  # any other surprise from nox means the same
            disable(f"{type(exc).__name__}: {exc}")
    return _state["problem"] is None


def enabled() -> bool:
    """Whether prepare-ahead and fingerprints may use nox's internals (checks on first use)."""
    return check()


def disable(problem: str) -> None:
    """Turn the features off for this run, saying why once (later problems are not repeated)."""
    if _state["problem"] is not None:
        return
    _state["checked"] = True
    _state["problem"] = problem
    sys.stderr.write(
        f"nox > noxops: nox {nox_version()} is not what noxops expects ({problem}); "
        "environments are not prepared ahead nor fingerprinted in this run "
        f"(noxops supports nox {NOX_SUPPORTED})\n"
    )


def reset() -> None:
    """Forget the check (for tests)."""
    _state.update(checked=False, problem=None)


def nox_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nox")
    except PackageNotFoundError:  # pragma: no cover - nox runs this
        return "?"


# -- sessions ---------------------------------------------------------------------------------


def session_runner(session: nox.Session) -> Any:
    """The nox ``SessionRunner`` behind a session (what a ``nox.Session`` subclass is made of)."""
    return session._runner


def session_env(session: nox.Session) -> Any:
    """The session's environment object (any backend), or None when it has none (yet)."""
    return getattr(getattr(session, "_runner", None), "venv", None)


def session_virtualenv(session: nox.Session) -> Optional[VirtualEnv]:
    """The session's environment when it is a virtualenv (virtualenv, venv or uv)."""
    from nox.virtualenv import VirtualEnv

    venv = session_env(session)
    return venv if isinstance(venv, VirtualEnv) else None


@dataclass(frozen=True)
class RunOptions:
    """The parts of nox's command line that noxops looks at."""

    parallel: int
    no_install: bool
    noxfile: Path


def run_options(session: nox.Session) -> RunOptions:
    config = session._runner.global_config
    return RunOptions(
        parallel=int(config.parallel or 1),
        no_install=bool(config.no_install),
        noxfile=Path(config.noxfile),
    )


def queued_runners(session: nox.Session) -> Optional[list[Any]]:
    """The sessions nox has yet to run, in order (None when that cannot be told)."""
    queue = getattr(session._runner.manifest, "_queue", None)
    return list(queue) if isinstance(queue, list) else None


def run_next(session: nox.Session, runner: Any) -> bool:
    """Make the queued ``runner`` the session nox runs next; False when it is not queued."""
    queue = getattr(session._runner.manifest, "_queue", None)
    if not isinstance(queue, list) or runner not in queue:
        return False
    queue.remove(runner)
    queue.insert(0, runner)
    return True


# -- queued sessions (nox SessionRunner objects) ---------------------------------------------


def runner_requires(runner: Any) -> list[str]:
    """The sessions ``runner`` requires (as declared; empty for most)."""
    return list(getattr(runner.func, "requires", None) or [])


def runner_name(runner: Any) -> str:
    return str(runner.friendly_name)


def runner_function(runner: Any) -> Any:
    """The session function as registered (it carries the attributes set on the original)."""
    return runner.func


def runner_python(runner: Any) -> Any:
    return runner.func.python


def runner_envdir(runner: Any) -> str:
    return str(runner.envdir)


def would_reuse_venv(runner: Any) -> bool:
    """Whether nox would reuse this session's environment (``reuse_venv`` and ``-r``/``-R``)."""
    from nox.sessions import resolve_reuse_existing_venv

    return bool(resolve_reuse_existing_venv(runner.global_config, runner.func))


def planned_uv_env(runner: Any) -> Optional[tuple[VirtualEnv, str]]:
    """The uv environment nox would make for ``runner`` and its resolved interpreter.

    None when nox would use another backend or cannot find the interpreter (the session
    reports that itself). Nothing is created.
    """
    from nox.sessions import resolve_download_python, resolve_venv_backends
    from nox.virtualenv import InterpreterNotFound, VirtualEnv, get_virtualenv

    gc, func = runner.global_config, runner.func
    try:
        venv = get_virtualenv(
            *resolve_venv_backends(gc, func),
            download_python=resolve_download_python(gc, func),
            envdir=runner.envdir,
            reuse_existing=True,
            interpreter=func.python,
            venv_params=func.venv_params,
        )
        if not isinstance(venv, VirtualEnv) or venv.venv_backend != "uv":
            return None
        return venv, str(venv._resolved_interpreter)
    except (InterpreterNotFound, ValueError, OSError):
        return None


def wait_before_venv(runner: Any, before: Callable[[], None]) -> bool:
    """Run ``before`` right before nox creates or reuses the queued session's environment.

    ``False`` when the runner has no such step to wrap.
    """
    original = getattr(runner, "_create_venv", None)
    if not callable(original):
        return False

    def create_venv() -> None:
        before()
        original()

    runner._create_venv = create_venv
    return True


# -- virtualenvs -------------------------------------------------------------------------------


def resolved_interpreter(venv: VirtualEnv) -> str:
    """The interpreter nox resolved for ``venv`` (raises when it finds none)."""
    return str(venv._resolved_interpreter)


def venv_reused(venv: VirtualEnv) -> bool:
    """Whether nox reused ``venv`` as it was instead of creating it."""
    return bool(getattr(venv, "_reused", False))


def recreate_venv(venv: VirtualEnv) -> None:
    """Create ``venv`` afresh, the way nox does without ``reuse_venv``."""
    venv.reuse_existing = False
    venv.create()
    venv._reused = False


# -- a failed command, nox's session registry ---------------------------------------------------


def __getattr__(name: str) -> Any:
    """``noxapi.CommandFailed``: what ``session.run`` raises when the command fails (a stage
    catches it to run its other tools, or raises it to fail the way a command does). Imported
    on first use: this module imports without nox (Python 3.9 test environments)."""
    if name == "CommandFailed":
        from nox.command import CommandFailed

        return CommandFailed
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@contextlib.contextmanager
def isolated_registry() -> Iterator[Callable[[], dict[str, Any]]]:
    """nox's session registry empty for the ``with`` block, and put back as it was after,
    whatever happens: ``noxops ci`` loads a project's noxfile to see its ``@nox.session``
    functions without leaking them. Yields a function returning the sessions registered
    meanwhile (name: the decorated function)."""
    import nox.registry

    registry: dict[str, Any] = nox.registry._REGISTRY
    saved = dict(registry)
    registry.clear()
    try:
        yield lambda: dict(registry)
    finally:
        registry.clear()
        registry.update(saved)


# -- uv and logging ---------------------------------------------------------------------------


def find_uv() -> tuple[bool, str, Version]:
    """nox's uv: whether it has one, its command and its version."""
    import nox.virtualenv

    has_uv, uv, uv_version = nox.virtualenv.find_uv()
    return bool(has_uv), str(uv), uv_version


def stage_failure(exc: BaseException) -> Optional[str]:
    """How a session failed, when it is a stage's own verdict: ``command`` (a command it ran
    failed), ``error`` (``session.error()``); None for anything else (Ctrl-C, a skip, a crash)."""
    from nox.command import CommandFailed

    if isinstance(exc, CommandFailed):
        return "command"
    if type(exc).__name__ == "_SessionQuit" and type(exc).__module__ == "nox.sessions":
        return "error"
    return None


def log_info(message: str) -> None:
    """A line in nox's log, outside a session's ``session.log``."""
    from nox.logger import logger

    logger.info(message)


def log_debug(message: str) -> None:
    from nox.logger import logger

    logger.debug(message)


# -- the order of a parallel run ---------------------------------------------------------------


def order_parallel_runs(order: Callable[[list[tuple[str, bool]]], Optional[list[int]]]) -> None:
    """Under ``nox -j``: start the queued sessions in the order ``order`` gives.

    ``order`` gets the queue as (session name, may run side by side) pairs when the parallel
    run starts, and returns their positions in the order to start them (None: leave it). nox's
    summary and ``--report`` still list the sessions in queue order. Nothing is done in the
    processes nox starts for each session (``--parallel-worker``: they run one session), nor
    when nox's parallel runner is not the one noxops knows: the order is only an optimisation.
    """
    if "--parallel-worker" in sys.argv:
        return
    _hook["order"] = order  # the latest noxops.sessions() call's (one per nox process)
    if _hook["parallel"]:
        return
    try:
        import nox._parallel as parallel
        from nox import sessions

        _params(parallel, "run_manifest_parallel", "manifest", "global_config", "jobs")
        _params(sessions, "resolve_allow_parallel", "global_config", "func")
        original = parallel.run_manifest_parallel
        resolve_allow_parallel = sessions.resolve_allow_parallel
    except (ImportError, AttributeError, _Changed) as exc:
        log_debug(f"noxops: nox -j keeps its own order ({exc})")
        return
    _hook["parallel"] = True

    def run_manifest_parallel(manifest: Any, global_config: Any, jobs: int) -> Any:
        queue = getattr(manifest, "_queue", None)
        if not isinstance(queue, list):
            return original(manifest, global_config, jobs)
        before = list(queue)
        items = [
            (runner_name(r), bool(resolve_allow_parallel(global_config, r.func))) for r in queue
        ]
        try:
            chosen = _hook["order"](items)
        except Exception as exc:  # an optimisation: never the reason a run fails
            log_debug(f"noxops: nox -j keeps its own order ({type(exc).__name__}: {exc})")
            chosen = None
        if chosen is not None and sorted(chosen) == list(range(len(before))):
            queue[:] = [before[i] for i in chosen]
        results = original(manifest, global_config, jobs)
        rank = {id(runner): i for i, runner in enumerate(before)}
        return sorted(results, key=lambda r: rank.get(id(getattr(r, "session", None)), len(rank)))

    parallel.run_manifest_parallel = run_manifest_parallel


# -- a noxfile redefining a stage's session ---------------------------------------------------


def refuse_redefinition(names: Iterable[str]) -> None:
    """After noxops registered ``names``: a noxfile defining a session of one of those names
    stops nox with one message saying to use ``exclude=`` instead.

    nox itself only warns (and will refuse it in a future release); that warning is how the
    redefinition is seen, so if nox words it differently, nox's own warning shows as before.
    noxops registering its sessions again (a second ``sessions()`` call) is not refused.
    """
    _stage_sessions.update(names)
    if _hook["installed"]:
        return
    _hook["installed"] = True
    previous = warnings.showwarning
    package = Path(__file__).resolve().parent

    def showwarning(message: Any, category: Any, filename: str, *args: Any, **kwargs: Any) -> None:
        match = _REDEFINED.match(str(message))
        ours = Path(filename).resolve().is_relative_to(package) if filename else False
        if (
            match
            and not ours
            and match["name"] in _stage_sessions
            and issubclass(category, FutureWarning)
        ):
            name = match["name"]
            sys.stderr.write(
                f"nox > noxops: the noxfile defines a session {name!r} after noxops.sessions() "
                f"registered the {name!r} stage; to replace a stage, leave it out with "
                f'noxops.sessions(exclude=["{name}"]) and define your own session\n'
            )
            raise SystemExit(2)
        previous(message, category, filename, *args, **kwargs)

    warnings.showwarning = showwarning
