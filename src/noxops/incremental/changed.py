"""``--changed-only``: replay a stage's last completed run when its inputs are the same.

A stage's inputs are the files it reads (``git ls-files`` of its paths plus every file at the
project's top level, where tool configuration lives), the noxops configuration, the session's
arguments, the noxops and nox versions, the tool-related environment variables, and its
environment: the environment fingerprint (interpreter, install calls, see
:mod:`noxops.incremental.fingerprint`) and the installed distributions with their versions. Their
sha256 is the stage's *fingerprint*: written to ``reports/fingerprints/<session>.txt`` on every run,
printed and added to ``$GITHUB_OUTPUT`` (as ``fingerprint-<session>``) in CI or when asked, so
CI caches can key on it.

After a run that *completed* - it passed, or its tools or the stage said it failed; not
Ctrl-C, a timeout or a crash - the fingerprint, the outcome (with the failure's reason), the
commit it ran on and the report files the run wrote are recorded: the record
``reports/fingerprints/<session>.json`` (written last, in one step: it is the run's "finished"
marker) and a copy of those files and
of the session's log in ``reports/fingerprints/<session>.d/`` (later runs may overwrite
``reports/``). With ``--changed-only`` (a session argument: ``nox -- --changed-only``),
``NOXOPS_CHANGED_ONLY=1`` or ``changed_only = true`` in ``[tool.noxops]``, a stage whose
fingerprint equals that record is not run: its report files are restored, its log is shown,
and its outcome is re-emitted - "unchanged since <time>, not rerun", "replayed from <commit>"
- so a failure still fails the session with its original reason, and its session record is
marked ``replayed``. In a fresh environment (a CI job's) whose planned install calls would
give the recorded run's environment fingerprint, the replay installs nothing: that run's
installed distributions stand for the environment's, as they do for a reused environment
built from the same calls. A record that is not one noxops wrote for the session (truncated,
another tool's or session's, report paths outside ``reports/``: it may come from a CI cache)
is ignored with one line.
``-- --no-cache`` or ``NOXOPS_FORCE=1`` runs it afresh. Correctness first: stages whose
declaration gives no ``inputs`` (integration, build, deploy, ...), the security stage while it
audits dependencies (the advisory data changes on its own), anything that cannot be
fingerprinted, and a stage whose last run did not finish always run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from noxops.incremental import fingerprint
from noxops.runtime import noxapi
from noxops.runtime.distribution import __version__
from noxops.runtime.noxapi import session_env

if TYPE_CHECKING:
    import nox

    from noxops.config import Config
    from noxops.reports.records import Recorder
    from noxops.stages.base import EnvPlan, Install, Stage

__all__ = [
    "FLAG",
    "FORCE_ENV",
    "LOG",
    "NO_CACHE",
    "StageInputs",
    "forced",
    "last_seconds",
    "record_path",
    "replayed_commit",
    "requested",
    "shown_time",
    "stage_inputs",
    "stash_dir",
    "tracking",
    "unchanged_note",
    "was_forced",
    "was_requested",
]

FLAG = "--changed-only"
ENV_VAR = "NOXOPS_CHANGED_ONLY"
NO_CACHE = "--no-cache"  # a session argument: run afresh, replay nothing
FORCE_ENV = "NOXOPS_FORCE"
_TOOL_ENV = re.compile(r"^(PYTEST_|MYPY|COVERAGE_|RUFF_|BLACK_|ISORT_|BANDIT|PYTHON(?!_KEYRING))")
_TRUE = {"1", "true", "yes", "on"}


def _take(session: nox.Session, flag: str) -> bool:
    """Whether ``flag`` is in the session's posargs; taken out, so the tools never see it."""
    posargs = session.posargs
    found = flag in posargs
    while flag in posargs:
        posargs.remove(flag)
    return found


# What requested() and forced() found on, per session object: the stage asks again later
# (the flags are gone from its posargs by then). Keyed by id, checked by identity.
_FOUND: dict[int, tuple[object, set[str]]] = {}


def _remember(session: nox.Session, what: str) -> None:
    owner, found = _FOUND.get(id(session), (None, set()))
    if owner is not session:
        found = set()
    found.add(what)
    _FOUND[id(session)] = (session, found)


def _found(session: nox.Session, what: str) -> bool:
    owner, found = _FOUND.get(id(session), (None, set()))
    return owner is session and what in found


def requested(session: nox.Session, config: Config) -> bool:
    """Whether ``--changed-only`` is on; the flag is taken out of the session's posargs."""
    flagged = _take(session, FLAG)
    env = os.environ.get(ENV_VAR, "").strip().lower()
    wanted = flagged or env in _TRUE if env else flagged or bool(config.changed_only)
    if wanted:
        _remember(session, FLAG)
    return wanted


def was_requested(session: nox.Session) -> bool:
    """Whether :func:`requested` found ``--changed-only`` on for this session object."""
    return _found(session, FLAG)


def forced(session: nox.Session) -> bool:
    """Whether ``--no-cache`` (taken out of the posargs) or ``NOXOPS_FORCE=1`` asks for a run."""
    flagged = _take(session, NO_CACHE)
    force = flagged or os.environ.get(FORCE_ENV, "").strip().lower() in _TRUE
    if force:
        _remember(session, NO_CACHE)
    return force


def was_forced(session: nox.Session) -> bool:
    """Whether :func:`forced` found ``--no-cache`` or ``NOXOPS_FORCE`` on for this session."""
    return _found(session, NO_CACHE)


def _files_digest(config: Config, paths: Optional[list[str]]) -> dict[str, Any]:
    root = config.root.resolve()
    reports = os.path.relpath(config.reports.resolve(), root)
    exclude = [] if reports.startswith("..") else [Path(reports).as_posix()]
    if paths is None:
        everything, count = fingerprint.tree_digest(root, ["."], exclude=exclude)
        return {"project": everything, "files": count}
    top = [p.name for p in sorted(root.iterdir()) if p.is_file()]
    scoped, scoped_count = fingerprint.tree_digest(root, [*paths, *top], exclude=exclude)
    return {"paths": sorted(paths), "tree": scoped, "files": scoped_count}


class StageInputs:
    """A stage's inputs and their fingerprint."""

    def __init__(self, parts: dict[str, Any]) -> None:
        self.parts = parts
        self.key = fingerprint.digest(parts)


def stage_inputs(
    session: nox.Session,
    st: Stage,
    config: Config,
    environment: Optional[dict[str, Any]] = None,
) -> StageInputs:
    """Everything the stage's result depends on; raises LookupError when that cannot be told.

    ``environment`` stands for the session's environment (:func:`_environment`) when it is
    known without looking at it: a recorded run's, whose install plan this one has."""
    if st.inputs is None:
        raise LookupError(f"its declaration does not say which files {st.name} reads")
    paths = st.inputs(config)
    env = _environment(session) if environment is None else environment
    parts: dict[str, Any] = {
        "stage": st.name,
        "session": session.name,
        "posargs": list(session.posargs),
        "config": _config_text(config),
        "noxops": __version__,
        "nox": noxapi.nox_version(),
        "python": str(session.python),
        "env_vars": fingerprint.digest(
            {k: v for k, v in sorted(os.environ.items()) if _TOOL_ENV.match(k)}
        ),
        "environment": env,
        "files": _files_digest(config, paths),
    }
    return StageInputs(parts)


def _config_text(config: Config) -> str:
    """The configuration as the fingerprint compares it: its repr, with the project's folder
    left out. A CI job may work in another folder than the run it replays (GitLab's runner
    slots, Jenkins's per-branch workspaces); the replay restores that run's report files with
    this folder's paths (:func:`_rebase`)."""
    here = dataclasses.replace(config, root=Path(), file=os.path.relpath(config.file, config.root))
    return repr(here)


def _environment(session: nox.Session) -> dict[str, Any]:
    """The session's environment: its fingerprint record and installed distributions."""
    venv = session_env(session)
    location = getattr(venv, "location", None)
    if location is None:
        # No environment of its own (--no-venv, a conda env, ...): its tools are unknown.
        raise LookupError("it does not run in an environment noxops fingerprints")
    record = fingerprint.EnvRecord.load(location)
    if record is None:
        raise LookupError("its environment has no fingerprint yet")
    return {
        "kind": type(venv).__name__,
        "record": record.key,
        "distributions": fingerprint.installed_distributions(location),
    }


def _planned_calls(session: nox.Session, plan: EnvPlan, config: Config) -> Optional[list[Install]]:
    """The stage's planned install calls; None when its configuration is wrong (the stage
    says so itself, in one line, when it runs)."""
    from noxops.errors import NoxopsError

    try:
        return list(plan(config, None if session.python is None else str(session.python)))
    except NoxopsError:
        return None


def _recorded_environment(record: Optional[dict[str, Any]]) -> Optional[dict[str, Any]]:
    """The environment a recorded run had (its kind, fingerprint and distributions), when the
    record holds one in the shape :func:`_environment` gives; else None."""
    env = record.get("environment") if record is not None else None
    if not (
        isinstance(env, dict)
        and set(env) == {"kind", "record", "distributions"}
        and isinstance(env["kind"], str)
        and isinstance(env["record"], str)
        and _FINGERPRINT.fullmatch(env["record"])
        and isinstance(env["distributions"], list)
        and all(isinstance(d, str) for d in env["distributions"])
    ):
        return None
    return env


def _replay_as_planned(
    session: nox.Session,
    st: Stage,
    config: Config,
    *,
    calls: list[Install],
    record: Optional[dict[str, Any]],
    recorder: Optional[Recorder],
    show: bool,
) -> bool:
    """Replay the stage's last completed run without installing its environment, when the
    environment is fresh (a CI job's) and the install calls the stage plans, made in it, would
    give the environment fingerprint that run had: the same interpreter, installer settings,
    requirements, lock and project files. That run's installed distributions then stand for
    this environment's, as they do for a reused one built from the same calls. ``record``:
    the trusted record of that run, or None. False when any of it does not hold: the
    environment is installed and the stage decides as always."""
    from noxops.incremental import envguard

    recorded = _recorded_environment(record)
    if record is None or recorded is None:
        return False
    if envguard.planned_key(session, calls) != recorded["record"]:
        return False
    if recorded["kind"] != type(session_env(session)).__name__:
        return False
    try:
        inputs = stage_inputs(session, st, config, environment=recorded)
    except (LookupError, OSError):
        return False
    if _verdict(config, session.name, inputs, record) is not None:
        return False
    _export(session, config, inputs, show)
    session.log(
        f"noxops: {session.name}'s environment is not installed: the install calls it plans "
        "are the ones its recorded run was made with"
    )
    _replay(session, config, record, inputs, recorder)  # a failure raises here
    return True


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


# Folders under reports/ that are noxops's own bookkeeping, not a stage's report files.
_OWN = {"fingerprints", "sessions"}


def _report_snapshot(config: Config) -> dict[str, int]:
    reports = config.reports
    if not reports.is_dir():
        return {}
    found: dict[str, int] = {}
    for folder, dirs, files in os.walk(reports):
        if Path(folder) == reports:
            dirs[:] = [d for d in dirs if d not in _OWN]
        for name in files:
            path = Path(folder) / name
            with contextlib.suppress(OSError):
                found[path.relative_to(reports).as_posix()] = path.stat().st_mtime_ns
    return found


def _load_record(path: Path) -> Optional[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _export(session: nox.Session, config: Config, inputs: StageInputs, show: bool) -> None:
    folder = config.reports / "fingerprints"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{_safe_name(session.name)}.txt").write_text(inputs.key + "\n", encoding="utf-8")
    from noxops.ci import providers  # the CI provider's step outputs, when it has them

    step_outputs = providers.output_file(os.environ)
    if step_outputs is not None:
        name = re.sub(r"[^A-Za-z0-9_-]+", "_", session.name)
        with step_outputs.open("a", encoding="utf-8") as fh:
            fh.write(f"fingerprint-{name}={inputs.key}\n")
    if show:
        session.log(f"noxops: fingerprint of {session.name}: {inputs.key}")


def record_path(config: Config, session: str) -> Path:
    """``reports/fingerprints/<session>.json``: the session's last completed run."""
    return config.reports / "fingerprints" / f"{_safe_name(session)}.json"


def last_seconds(config: Config) -> dict[str, float]:
    """How long each session's last completed run took, from its record (a replay keeps the
    record of the run it replays)."""
    found: dict[str, float] = {}
    folder = config.reports / "fingerprints"
    for path in folder.glob("*.json") if folder.is_dir() else ():
        record = _load_record(path) or {}
        seconds = record.get("seconds")
        if isinstance(seconds, (int, float)) and record.get("session"):
            found[str(record["session"])] = float(seconds)
    return found


def stash_dir(config: Config, session: str) -> Path:
    """Where the report files and log of the session's last completed run are kept."""
    return config.reports / "fingerprints" / f"{_safe_name(session)}.d"


def shown_time(stamp: str) -> str:
    """``2026-11-27T09:12:03Z`` as ``2026-11-27 09:12:03 UTC``."""
    return stamp.replace("T", " ").replace("Z", " UTC") if stamp else "an earlier run"


def unchanged_note(record: dict[str, Any]) -> str:
    return f"unchanged since {shown_time(str(record.get('finished') or ''))}, not rerun"


def _commit(config: Config) -> str:
    """The commit the run ran on (the CI provider's, else git's HEAD; "" outside git): a
    replay says which commit's result it shows, which matters once records travel between
    CI jobs and branches through the provider's cache."""
    from noxops.ci import providers

    return providers.current(os.environ).run(os.environ, config.root).sha


def replayed_commit(record: dict[str, Any]) -> str:
    """The (short) commit a recorded run ran on, or "" when it is not recorded."""
    commit = record.get("commit")
    return (
        commit[:12] if isinstance(commit, str) and re.fullmatch(r"[0-9a-f]{7,64}", commit) else ""
    )


@contextlib.contextmanager
def tracking(
    session: nox.Session,
    st: Stage,
    config: Config,
    recorder: Optional[Recorder] = None,
    owners: Optional[Mapping[str, str]] = None,
) -> Iterator[bool]:
    """Around a stage: yields False when its last completed run is replayed, else True.

    A replayed success yields False (do not run it); a replayed failure raises the original
    failure here, so the session fails as it did. After a run that completed (it passed, or
    a tool or the stage said it failed; not Ctrl-C, not a timeout), the run is recorded with
    a copy of the report files it wrote and (through ``recorder``) of its log. ``owners``
    (:func:`noxops.stages.base.output_owners`) names the session that writes each declared
    report file: a file another session declares is not this run's, even when it changed
    during it (under ``nox -j`` sessions run side by side).
    """
    wanted = requested(session, config)
    force = forced(session)
    show = wanted or bool(os.environ.get("CI"))
    rec_path = record_path(config, session.name)
    record = _load_record(rec_path)
    untrusted = _untrusted(config, session.name, rec_path, record)
    if untrusted:
        record = None  # never replayed, and replaced by this run's
    if wanted and st.inputs is not None and st.env is not None:
        # The installed distributions are one of the inputs, and a CI job's environment is
        # fresh: unless the planned calls replay as they are, install them before the
        # fingerprint is taken (the stage's own identical calls then install nothing).
        from noxops.incremental import envguard  # it imports nox: only where a session runs

        calls = _planned_calls(session, st.env, config)
        if calls is not None:
            if not force and _replay_as_planned(
                session, st, config, calls=calls, record=record, recorder=recorder, show=show
            ):
                yield False
                return
            envguard.install_ahead(session, calls)
    try:
        before = stage_inputs(session, st, config)
    except (LookupError, OSError) as exc:
        if wanted:
            session.log(f"noxops: {session.name} runs: cannot fingerprint it ({exc})")
        yield True
        return
    _export(session, config, before, show)
    if wanted:
        forcing = "--no-cache or NOXOPS_FORCE asks for a fresh run" if force else ""
        verdict = forcing or untrusted or _verdict(config, session.name, before, record)
        if verdict is None and record is not None:
            _replay(session, config, record, before, recorder)  # a failure raises here
            yield False
            return
        session.log(f"noxops: {session.name} runs: {verdict}")
    with contextlib.suppress(OSError):
        rec_path.unlink()  # from here on, no completed run is on record
    complete = functools.partial(
        _complete,
        session,
        config,
        before=before,
        snapshot=_report_snapshot(config),
        started=time.time(),
        show=show,
        recorder=recorder,
        owners=owners or {},
    )
    try:
        yield True
    except BaseException as exc:
        kind = noxapi.stage_failure(exc)
        timer = recorder.expired if recorder is not None else None
        if kind is None or (timer is not None and timer.is_set()):
            raise  # Ctrl-C, a timeout, a crash: not a result to replay
        complete(outcome={"status": "failed", "reason": str(exc), "failure": kind})
        raise
    complete(outcome={"status": "success", "reason": "", "failure": ""})


def _complete(
    session: nox.Session,
    config: Config,
    *,
    before: StageInputs,
    snapshot: dict[str, int],
    started: float,
    outcome: dict[str, Any],
    show: bool,
    recorder: Optional[Recorder],
    owners: Mapping[str, str],
) -> None:
    """Record a completed run: what it was run from, its outcome and its report files.

    The files as they were when it started (an edit made meanwhile is then seen as a change)
    and the environment as it is now (it may have been installed during the run).
    """
    try:
        env_now = _environment(session)
    except (LookupError, OSError):
        return
    after = StageInputs({**before.parts, "environment": env_now})
    outputs = sorted(
        name
        for name, mtime in _report_snapshot(config).items()
        if snapshot.get(name) != mtime and not _theirs(name, session.name, owners)
    )
    stash = stash_dir(config, session.name)
    try:
        _keep(config.reports, stash, outputs)
    except OSError as exc:
        session.log(f"noxops: not keeping {session.name}'s result for --changed-only: {exc}")
        return
    data = {
        "fingerprint": after.key,
        "inputs": {k: fingerprint.digest(v) for k, v in after.parts.items()},
        "session": session.name,
        **outcome,
        "commit": _commit(config),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": round(time.time() - started, 3),
        "outputs": outputs,
        "stash": stash.name,
        "root": str(config.root),  # the folder it ran in: its report files name it
        # What the environment was: a fresh one planned the same way replays without installing.
        "environment": env_now,
    }
    if after.key != before.key:
        _export(session, config, after, show)
    path = record_path(config, session.name)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)  # the finished marker: whole, or not there at all
    if recorder is not None:
        recorder.keep_log = stash / LOG


LOG = "session.log"  # the run's log, in its stash


def _theirs(name: str, session: str, owners: Mapping[str, str]) -> bool:
    """Whether report file ``name`` is declared by another session (as a file or a folder),
    or is a companion of such a file while it is being written (``coverage-3.12.xml.partial``,
    a SQLite data file's ``-journal``)."""
    for declared, owner in owners.items():
        if owner == session:
            continue
        if declared.endswith("/"):
            if name.startswith(declared):
                return True
        elif name == declared or (name.startswith(declared) and name[len(declared)] in _COMPANION):
            return True
    return False


_COMPANION = ".-~"  # what follows a file's name in the name of its temporary companions


def _keep(reports: Path, stash: Path, outputs: list[str]) -> None:
    """Copy ``outputs`` (relative to ``reports``) into a fresh ``stash``."""
    fresh = stash.with_name(stash.name + ".tmp")
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir(parents=True)
    for name in outputs:
        target = fresh / name
        target.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):  # removed again by the stage
            shutil.copyfile(reports / name, target)
    shutil.rmtree(stash, ignore_errors=True)
    fresh.replace(stash)


def _replay(
    session: nox.Session,
    config: Config,
    record: dict[str, Any],
    inputs: StageInputs,
    recorder: Optional[Recorder],
) -> None:
    """Restore the recorded run's report files, show its log and re-emit its outcome."""
    stash = stash_dir(config, session.name)
    ran_in = str(record.get("root") or config.root)
    moved = ran_in != str(config.root)
    for name in record.get("outputs", []):
        target = config.reports / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(stash / name, target)  # a new mtime: the report sees a fresh file
        if moved:
            _rebase(target, ran_in, str(config.root))
    if moved:
        session.log(
            f"noxops: {session.name}'s recorded run was made in {ran_in}: its report files "
            f"are restored with this folder's paths ({config.root})"
        )
    status = str(record.get("status") or "success")
    note = unchanged_note(record)
    commit = replayed_commit(record)
    source = f"replayed from {commit}; " if commit else ""
    session.log(
        f"noxops: {session.name} is up to date: {note} ({source}same inputs as its last "
        f"completed run, fingerprint {inputs.key[:16]}); replaying its result: {status}"
    )
    if recorder is not None:
        recorder.replayed = str(record.get("finished") or "")
    log = stash / LOG
    if log.is_file() and status == "success":
        session.log(f"noxops: the log of that run is kept in {log}")
    elif log.is_file():  # a failure: its findings belong in this log too
        when = shown_time(str(record.get("finished")))
        session.log(f"noxops: ---- the log of that run ({when}) ----")
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        with contextlib.suppress(OSError):
            # nox logs to stderr: the same stream keeps the log between its two markers (the
            # session's log copies stdout and stderr through two pipes, which reorder).
            os.write(2, log.read_bytes())
        session.log("noxops: ---- end of that log ----")
    if status == "success":
        return
    reason = str(record.get("reason") or "")
    message = f"{reason} ({note})" if reason else f"{session.name} failed ({note})"
    if record.get("failure") == "command":
        from noxops.runtime.noxapi import CommandFailed

        session.log(message)
        raise CommandFailed(message)
    session.error(message)


_FINGERPRINT = re.compile(r"[0-9a-f]{64}")


def _rebase(path: Path, old: str, new: str) -> None:
    """Report file ``path``, written by a run in the folder ``old``, with ``new`` in place of
    ``old`` wherever it names that folder or a path in it (a tool's absolute file names, a
    Cobertura ``<source>``). Binary files are left as they are (coverage's data, which the
    coverage stage moves itself: :mod:`noxops.reports.coveragedata`)."""
    if Path(old).parent == Path(old):
        return  # a filesystem root: every path would match
    try:
        data = path.read_bytes()
        text = "" if b"\0" in data else data.decode("utf-8")  # NUL: a binary file
    except (UnicodeDecodeError, OSError):
        return
    # The folder as a path of its own: not the tail of a longer one or of a URL
    # (https://host/app/...), nor the start of a longer name (/builds/shop2).
    pattern = re.compile(r"(?<![\w.:/-])" + re.escape(old) + r"(?![\w.-])")
    rebased = pattern.sub(lambda _: new, text)
    if rebased != text:
        path.write_bytes(rebased.encode("utf-8"))


def _untrusted(config: Config, session: str, path: Path, record: Optional[dict[str, Any]]) -> str:
    """Why the record at ``path`` is not one of this session's completed runs as noxops
    writes them ("" when it is, or when there is none): a truncated file, another tool's or
    another session's, or report paths outside ``reports/`` (a record may come from a CI
    cache: it is never trusted, and it is ignored, with this one line)."""
    if record is None:
        if not path.exists():
            return ""
        problem = "truncated, or not a JSON object"
    elif record.get("session") != session:
        problem = f"it is the record of {str(record.get('session'))[:40]!r}"
    elif not isinstance(record.get("fingerprint"), str) or not _FINGERPRINT.fullmatch(
        record["fingerprint"]
    ):
        problem = "no fingerprint"
    elif record.get("status") not in ("success", "failed") or not record.get("finished"):
        problem = "no completed run"
    elif not isinstance(record.get("outputs", []), list) or not all(
        _inside(name) for name in record.get("outputs", [])
    ):
        problem = "report files outside reports/"
    elif (
        not isinstance(record.get("root", ""), str)
        or not Path(record.get("root") or "/").is_absolute()
    ):
        problem = "the folder it ran in is not an absolute path"
    else:
        return ""
    shown = os.path.relpath(path, config.root) if path.is_absolute() else str(path)
    return f"ignoring {Path(shown).as_posix()}, not a record noxops wrote for it: {problem}"


def _inside(name: object) -> bool:
    """Whether ``name`` is a plain relative path under ``reports/``."""
    if not isinstance(name, str) or not name or "\\" in name:
        return False
    parts = Path(name).parts
    return not Path(name).is_absolute() and ".." not in parts and parts[0] not in _OWN


def _verdict(
    config: Config, session: str, inputs: StageInputs, record: Optional[dict[str, Any]]
) -> Optional[str]:
    """None when the last completed run can be replayed, else why the stage must run."""
    if record is None or not record.get("finished"):
        return "no completed run recorded"
    if record.get("fingerprint") != inputs.key:
        previous = record.get("inputs")
        previous = previous if isinstance(previous, dict) else {}
        changed = [k for k, v in inputs.parts.items() if previous.get(k) != fingerprint.digest(v)]
        return "its inputs changed since its last completed run" + (
            f" ({', '.join(changed)})" if changed and previous else ""
        )
    stash = stash_dir(config, session)
    missing = [o for o in record.get("outputs", []) if not (stash / o).is_file()]
    if missing:
        return f"the saved copy of {missing[0]} from its last run is gone"
    return None
