"""``--changed-only``: skip a stage whose inputs are those of its last successful run.

A stage's inputs are the files it reads (``git ls-files`` of its paths plus every file at the
project's top level, where tool configuration lives), the noxops configuration, the session's
arguments, the noxops and nox versions, the tool-related environment variables, and its
environment: the environment fingerprint (interpreter, install calls, see
:mod:`noxops.fingerprint`) and the installed distributions with their versions. Their sha256
is the stage's *fingerprint*: written to ``reports/fingerprints/<session>.txt`` on every run,
printed and added to ``$GITHUB_OUTPUT`` (as ``fingerprint-<session>``) in CI or when asked, so
CI caches can key on it.

After a successful run the fingerprint and the report files the run wrote are recorded in
``reports/fingerprints/<session>.json``. With ``--changed-only`` (a session argument:
``nox -- --changed-only``), ``NOXOPS_CHANGED_ONLY=1`` or ``changed_only = true`` in
``[tool.noxops]``, a stage whose fingerprint equals that record, and whose recorded reports are
still there, is reported "up to date" and not run; it still succeeds, so sessions that require
it go ahead. Correctness first: stages whose declaration gives no ``inputs`` (integration,
build, deploy, ...), the security stage while it audits dependencies (the advisory data
changes on its own), and anything that cannot be fingerprinted always run.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from noxops import fingerprint
from noxops.distribution import __version__
from noxops.noxapi import session_env

if TYPE_CHECKING:
    import nox

    from noxops.config import Config
    from noxops.stages.base import Stage

__all__ = [
    "FLAG",
    "StageInputs",
    "requested",
    "stage_inputs",
    "tracking",
]

FLAG = "--changed-only"
ENV_VAR = "NOXOPS_CHANGED_ONLY"
_TOOL_ENV = re.compile(r"^(PYTEST_|MYPY|COVERAGE_|RUFF_|BLACK_|ISORT_|BANDIT|PYTHON(?!_KEYRING))")
_TRUE = {"1", "true", "yes", "on"}


def requested(session: nox.Session, config: Config) -> bool:
    """Whether ``--changed-only`` is on; the flag is taken out of the session's posargs."""
    posargs = session.posargs
    flagged = FLAG in posargs
    while FLAG in posargs:
        posargs.remove(FLAG)
    env = os.environ.get(ENV_VAR, "").strip().lower()
    if env:
        return flagged or env in _TRUE
    return flagged or bool(getattr(config, "changed_only", False))


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


def stage_inputs(session: nox.Session, st: Stage, config: Config) -> StageInputs:
    """Everything the stage's result depends on; raises LookupError when that cannot be told."""
    import nox as nox_module

    if st.inputs is None:
        raise LookupError(f"its declaration does not say which files {st.name} reads")
    paths = st.inputs(config)
    env = _environment(session)
    parts: dict[str, Any] = {
        "stage": st.name,
        "session": session.name,
        "posargs": list(session.posargs),
        "config": repr(config),
        "noxops": __version__,
        "nox": getattr(nox_module, "__version__", "?"),
        "python": str(session.python),
        "env_vars": fingerprint.digest(
            {k: v for k, v in sorted(os.environ.items()) if _TOOL_ENV.match(k)}
        ),
        "environment": env,
        "files": _files_digest(config, paths),
    }
    return StageInputs(parts)


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


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _report_snapshot(config: Config) -> dict[str, int]:
    reports = config.reports
    if not reports.is_dir():
        return {}
    found: dict[str, int] = {}
    for folder, dirs, files in os.walk(reports):
        if Path(folder) == reports:
            dirs[:] = [d for d in dirs if d != "fingerprints"]
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
    github_output = os.environ.get("GITHUB_OUTPUT")
    if github_output:
        name = re.sub(r"[^A-Za-z0-9_-]+", "_", session.name)
        with Path(github_output).open("a", encoding="utf-8") as fh:
            fh.write(f"fingerprint-{name}={inputs.key}\n")
    if show:
        session.log(f"noxops: fingerprint of {session.name}: {inputs.key}")


@contextlib.contextmanager
def tracking(session: nox.Session, st: Stage, config: Config) -> Iterator[bool]:
    """Around a stage: yields False when it is up to date (then do not run it), else True.

    On a normal exit after running, the fingerprint is recorded as the last successful run.
    """
    wanted = requested(session, config)
    show = wanted or bool(os.environ.get("CI"))
    try:
        before = stage_inputs(session, st, config)
    except (LookupError, OSError) as exc:
        if wanted:
            session.log(f"noxops: {session.name} runs: cannot fingerprint it ({exc})")
        yield True
        return
    _export(session, config, before, show)
    record_path = config.reports / "fingerprints" / f"{_safe_name(session.name)}.json"
    record = _load_record(record_path)
    if wanted:
        verdict = _verdict(config, before, record)
        if verdict is None:
            session.log(
                f"noxops: {session.name} is up to date: same inputs as its last successful run "
                f"(fingerprint {before.key[:16]}); not running it"
            )
            yield False
            return
        session.log(f"noxops: {session.name} runs: {verdict}")
    with contextlib.suppress(OSError):
        record_path.unlink()
    snapshot = _report_snapshot(config)
    started = time.time()
    yield True
    # Only a successful run gets here. Record what it was run from: the files as they were when
    # it started (an edit made meanwhile is then seen as a change) and the environment as it is
    # now (it may have been installed during the run).
    try:
        env_now = _environment(session)
    except (LookupError, OSError):
        return
    after = StageInputs({**before.parts, "environment": env_now})
    outputs = sorted(
        name for name, mtime in _report_snapshot(config).items() if snapshot.get(name) != mtime
    )
    data = {
        "fingerprint": after.key,
        "inputs": {k: fingerprint.digest(v) for k, v in after.parts.items()},
        "session": session.name,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": round(time.time() - started, 3),
        "outputs": outputs,
    }
    fingerprint_changed = after.key != before.key
    if fingerprint_changed:
        _export(session, config, after, show)
    record_path.parent.mkdir(parents=True, exist_ok=True)
    record_path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _verdict(
    config: Config, inputs: StageInputs, record: Optional[dict[str, Any]]
) -> Optional[str]:
    """None when the stage is up to date, else why it must run."""
    if record is None:
        return "no successful run recorded"
    if record.get("fingerprint") != inputs.key:
        previous = record.get("inputs")
        previous = previous if isinstance(previous, dict) else {}
        changed = [k for k, v in inputs.parts.items() if previous.get(k) != fingerprint.digest(v)]
        return "its inputs changed since the last successful run" + (
            f" ({', '.join(changed)})" if changed and previous else ""
        )
    missing = [o for o in record.get("outputs", []) if not (config.reports / o).exists()]
    if missing:
        return f"report {missing[0]} of its last run is gone"
    return None
