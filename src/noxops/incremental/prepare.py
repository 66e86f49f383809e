"""Environments prepared ahead: while one session runs, the next sessions' environments are built.

A sequential ``nox`` run builds each session's environment when that session's turn comes, so
on a cold run the tools keep waiting for installs while the second CPU idles. Stages declare
the install calls their environment is made of (``Stage.env``), so noxops knows them before a
session starts. When the first noxops session of a sequential run starts, one background worker
builds the environments of the noxops sessions queued after it, one at a time and in queue
order, the way nox and the session would: the same interpreter, ``uv venv``, the same
``uv pip install`` calls in the project folder. It then stores their fingerprint
(:mod:`noxops.incremental.fingerprint`). When a session's turn comes, nox reuses that environment
and the fingerprint guard finds every install already done (``environment up to date, skipped``).

Correctness first:

- only environments that do not exist yet are prepared (a stale one is recreated by its own
  session, as always), only with the uv backend, and only when nox would reuse them;
- nox never touches an environment while it is being built: the queued session's own venv
  step waits for it, whatever ran before (a noxfile's own sessions, a reordered queue);
- whatever fails in the background is removed, so the session builds its environment itself
  and shows the real error; Ctrl-C, a failure that ends nox, and nox's exit stop the worker,
  kill its install and remove the half-built environment;
- Ctrl-C in a terminal reaches the background installer too. nox goes on with its next
  session when the command it was running exits 0 despite the Ctrl-C; the next session waiting
  for an environment whose installer died of that Ctrl-C then stops the run as nox would have,
  instead of building that environment again in the foreground;
- the session's fingerprint guard still checks every install call.

It is off under ``nox -j`` (sessions overlap already), with ``-R``/``--no-install``, with
``NOXOPS_PREPARE_AHEAD=0`` or ``prepare_ahead = false`` in ``[tool.noxops]``, and when nox's
internals are not what :mod:`noxops.runtime.noxapi` (the only module that touches them) expects.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from noxops.incremental import envguard, fingerprint
from noxops.runtime import noxapi

if TYPE_CHECKING:
    import nox

    from noxops.config import Config
    from noxops.stages.base import Install, Stage

__all__ = [
    "ENV_VAR",
    "JOBS_VAR",
    "Preparation",
    "Worker",
    "begin",
    "builders",
    "enabled",
    "jobs_for",
    "promote_ready",
    "stop",
]

ENV_VAR = "NOXOPS_PREPARE_AHEAD"
JOBS_VAR = "NOXOPS_PREPARE_JOBS"
_FALSE = {"0", "false", "no", "off"}
# The attribute registry.py sets on each stage's session function: the stage's name.
MARK = "noxops_stage"


@dataclass
class Preparation:
    """One environment to build: where, from which interpreter, with which installs."""

    session: str
    location: str
    interpreter: str
    record: fingerprint.EnvRecord  # what the session's guard will expect, stored when done
    installs: list[Install]
    runner: Any = field(default=None, repr=False)  # the queued nox SessionRunner
    state: str = "pending"  # pending, running, done, failed, cancelled, interrupted
    error: str = ""

    @property
    def finished(self) -> bool:
        return self.state in {"done", "failed", "cancelled", "interrupted"}


@dataclass
class Worker:
    """One background thread building :class:`Preparation` environments in order, with uv."""

    uv: str
    cwd: Path
    venv_params: Sequence[str] = ("--clear",)
    jobs: list[Preparation] = field(default_factory=list)
    parallel: int = 1  # environments built at once

    def __post_init__(self) -> None:
        self._cond = threading.Condition()
        self._procs: dict[int, subprocess.Popen[bytes]] = {}  # per builder thread
        self._stopping = False
        self.interrupted = False  # an installer died of SIGINT: Ctrl-C in the terminal
        self._environ = dict(os.environ)  # taken here: sessions may change os.environ later
        self._environ.setdefault("UV_LINK_MODE", "hardlink")  # link from uv's cache, no copies
        self._threads = [
            threading.Thread(target=self._loop, name=f"noxops-prepare-{i}", daemon=True)
            for i in range(max(1, self.parallel))
        ]

    # -- control, from the main thread -----------------------------------------------------

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def wait(self, job: Preparation) -> float:
        """Block until ``job`` is finished; returns how long that took."""
        started = time.monotonic()
        with self._cond:
            while not (job.finished or self._stopping):
                self._cond.wait(0.2)  # short waits: Ctrl-C gets through at once
        return time.monotonic() - started

    def stop(self, grace: float = 3.0) -> None:
        """Cancel what has not started, end the running install, remove what it left."""
        with self._cond:
            self._stopping = True
            for job in self.jobs:
                if job.state == "pending":
                    job.state = "cancelled"
            procs = list(self._procs.values())
            self._cond.notify_all()
        for proc in procs:
            if proc.poll() is None:
                _stop_tree(proc, grace)
        for thread in self._threads:
            if thread.is_alive() and thread is not threading.current_thread():
                thread.join(grace + 10)

    # -- the worker thread -----------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            with self._cond:
                job = next((j for j in self.jobs if j.state == "pending"), None)
                if job is None or self._stopping:
                    return
                job.state = "running"
            ok = self._build(job)
            with self._cond:
                if ok:
                    job.state = "done"
                elif self.interrupted:
                    job.state = "interrupted"
                else:
                    job.state = "cancelled" if self._stopping else "failed"
                self._cond.notify_all()

    def _env(self, location: str) -> dict[str, str]:
        env = {k: v for k, v in self._environ.items() if k != "CONDA_PREFIX"}
        env.update(VIRTUAL_ENV=location, UV_PROJECT_ENVIRONMENT=location, UV_PYTHON=location)
        env["PATH"] = os.pathsep.join([str(Path(location) / "bin"), env.get("PATH", "")])
        return env

    def _build(self, job: Preparation) -> bool:
        commands: list[tuple[list[str], Optional[dict[str, str]]]] = [
            ([self.uv, "venv", "-p", job.interpreter, job.location, *self.venv_params], None)
        ]
        env = self._env(job.location)
        commands += [([self.uv, "pip", "install", *args], env) for args in job.installs]
        for argv, cmd_env in commands:
            with self._cond:
                if self._stopping:
                    break
                try:
                    proc = self._procs[threading.get_ident()] = subprocess.Popen(
                        argv,
                        cwd=self.cwd,
                        env=cmd_env or self._environ,
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE,
                    )
                except OSError as exc:
                    job.error = str(exc)
                    break
            _, err = proc.communicate()
            with self._cond:
                self._procs.pop(threading.get_ident(), None)
                if proc.returncode == -signal.SIGINT and not self._stopping:
                    # Ctrl-C reached the whole process group: build nothing more.
                    self.interrupted = self._stopping = True
                    for other in self.jobs:
                        if other.state == "pending":
                            other.state = "interrupted"
                    self._cond.notify_all()
                stopped = self._stopping  # stopped mid-command: never trust its exit code
            if proc.returncode != 0 or stopped:
                job.error = err.decode("utf-8", "replace").strip()[-2000:]
                break
        else:
            job.record.save(job.location)
            return True
        shutil.rmtree(job.location, ignore_errors=True)  # the session builds it itself
        return False


def _stop_tree(proc: subprocess.Popen[bytes], grace: float) -> None:
    """Terminate a process and everything it started (uv runs build backends), then kill.

    The process itself is waited for through its ``Popen`` only: were psutil to reap it, the
    worker's ``communicate()`` would find no child and report exit code 0.
    """
    import psutil

    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        children = []
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.terminate()
    proc.terminate()
    _, alive = psutil.wait_procs(children, timeout=grace)
    for child in alive:
        with contextlib.suppress(psutil.Error):
            child.kill()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()


def enabled(config: Config) -> bool:
    """``NOXOPS_PREPARE_AHEAD`` (0/1) wins over ``prepare_ahead`` in the configuration."""
    value = os.environ.get(ENV_VAR, "").strip().lower()
    if value:
        return value not in _FALSE
    return bool(getattr(config, "prepare_ahead", True))


def _stage_name(runner: Any) -> Optional[str]:
    """The noxops stage a queued nox session runs (None for a noxfile's own sessions)."""
    name = getattr(noxapi.runner_function(runner), MARK, None)
    return name if isinstance(name, str) else None


def jobs_for(
    runners: Sequence[Any], stages: dict[str, tuple[Stage, Config]], cwd: Path
) -> list[Preparation]:
    """The environments worth preparing for the queued ``runners``: noxops sessions with a
    known environment plan whose environment nox would create with uv and then reuse, and
    which does not exist yet."""
    from noxops.errors import NoxopsError

    jobs: list[Preparation] = []
    seen: set[str] = set()
    for runner in runners:
        st, config = stages.get(_stage_name(runner) or "", (None, None))
        plan = None if st is None else st.env
        if plan is None or config is None:
            continue
        location = os.path.realpath(noxapi.runner_envdir(runner))
        if location in seen or os.path.lexists(location):
            continue
        if not noxapi.would_reuse_venv(runner):
            continue  # nox would build it afresh anyway
        planned = noxapi.planned_uv_env(runner)
        if planned is None:
            continue  # another backend, or no interpreter (the session reports it itself)
        venv, interpreter = planned
        python = noxapi.runner_python(runner)
        try:
            installs = plan(config, None if python is None else str(python))
        except (NoxopsError, ValueError, OSError):
            continue  # the session reports it itself
        if not installs or any(not args for args in installs):
            continue
        base = fingerprint.digest(
            fingerprint.base_parts(envguard.requested_interpreter(venv), "uv")
        )
        keys = [fingerprint.digest(fingerprint.install_key(args, {}, cwd)) for args in installs]
        seen.add(location)
        jobs.append(
            Preparation(
                session=noxapi.runner_name(runner),
                location=location,
                interpreter=interpreter,
                record=fingerprint.EnvRecord(base, keys),
                installs=installs,
                runner=runner,
            )
        )
    return jobs


# -- the hooks registry.py calls around every noxops session -----------------------------------

_state: dict[str, Any] = {"begun": False, "worker": None}


def _uv() -> Optional[str]:
    has_uv, uv, _ = noxapi.find_uv()
    if not has_uv:
        return None
    return uv if uv != "uv" else shutil.which("uv")


def _venv_params() -> list[str]:
    """What nox adds to ``uv venv`` (``--clear`` from uv 0.8 on, where uv asks otherwise)."""
    from packaging import version

    _, _, uv_version = noxapi.find_uv()
    return ["--clear"] if version.Version("0.8") <= uv_version else []


def begin(session: nox.Session, stages: dict[str, tuple[Stage, Config]], config: Config) -> None:
    """At the first noxops session of a sequential run: start preparing the queued ones."""
    if _state["begun"]:
        return
    _state["begun"] = True
    if not enabled(config) or not noxapi.enabled():
        return
    options = noxapi.run_options(session)
    queue = noxapi.queued_runners(session)
    if not queue or options.parallel > 1 or options.no_install:
        return
    uv = _uv()
    if uv is None:
        return
    cwd = Path(os.path.realpath(options.noxfile.parent))  # where nox runs sessions
    jobs = jobs_for(queue, stages, cwd)
    if not jobs:
        return
    worker = Worker(uv=uv, cwd=cwd, venv_params=_venv_params(), jobs=jobs, parallel=builders())
    jobs = [job for job in jobs if _wait_before_creating(job, worker)]
    if not jobs:
        return
    worker.jobs = jobs
    _state["worker"] = worker
    atexit.register(stop)
    session.log(
        "noxops: preparing the environments of "
        f"{', '.join(j.session for j in jobs)} in the background ({ENV_VAR}=0 turns this off)"
    )
    worker.start()


def _wait_before_creating(job: Preparation, worker: Worker) -> bool:
    """Make nox wait for ``job`` right before it looks at that session's environment.

    Wrapping the queued session's own venv step (not the end of the session before it) keeps
    this right whatever runs in between: a noxfile's own sessions, a session that fails before
    its function runs, a reordered queue. ``False`` when nox has no such step to wrap (then
    the job is not prepared).
    """

    def before_venv() -> None:
        if not job.finished and not worker.interrupted:
            waited = worker.wait(job)
            if waited >= 0.5:
                noxapi.log_info(
                    f"noxops: waited {waited:.1f}s for this environment, being prepared in the "
                    "background"
                )
        if worker.interrupted:
            # nox went on after the Ctrl-C (its command exited 0 anyway): stop here as it
            # would have, rather than install this environment again in the foreground.
            raise KeyboardInterrupt("Ctrl-C reached the environment being prepared")
        if job.state == "failed":
            noxapi.log_info(
                "noxops: preparing this environment in the background failed; building it "
                "here, with the installer's messages"
            )
            noxapi.log_debug(f"noxops: the background attempt said: {job.error}")

    return noxapi.wait_before_venv(job.runner, before_venv)


def builders() -> int:
    """How many environments are built at once: two, or one on a single CPU
    (``NOXOPS_PREPARE_JOBS`` sets it)."""
    value = os.environ.get(JOBS_VAR, "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    return max(1, min(2, os.cpu_count() or 1))


def promote_ready(session: nox.Session) -> None:
    """After a session: when the next queued session's environment is still being built,
    run a later one whose environment is ready (and that requires no other session) first."""
    worker: Optional[Worker] = _state["worker"]
    queue = noxapi.queued_runners(session) if worker is not None else None
    if worker is None or not queue:
        return
    by_runner = {id(job.runner): job for job in worker.jobs}
    head = by_runner.get(id(queue[0]))
    if head is None or head.finished:
        return
    for runner in queue[1:]:
        job = by_runner.get(id(runner))
        if job is None or job.state != "done" or noxapi.runner_requires(runner):
            continue
        if noxapi.run_next(session, runner):
            session.log(
                f"noxops: {job.session} next: its environment is ready, "
                f"{head.session}'s is still being prepared"
            )
        return


def stop() -> None:
    """Stop preparing (Ctrl-C, nox's exit): nothing is left running or half built."""
    worker: Optional[Worker] = _state["worker"]
    if worker is not None:
        _state["worker"] = None
        worker.stop()
