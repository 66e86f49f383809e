"""Each noxops session's own record: ``reports/sessions/<session>.json`` and its full log.

The session wrapper in :mod:`noxops.runtime.declare` runs every stage inside :func:`recording`, so
the report knows each session's outcome and duration however nox was called (``nox``,
``nox -s ...``, in parallel, with or without ``--report``).

Nox has no option to write a session's output to a file (2026.10 has ``--report`` for
results only), and the tools a session runs write straight to the inherited stdout and
stderr. So the log is kept at the file-descriptor level: for the session's duration, file
descriptors 1 and 2 are pipes whose reader threads copy every line both to the real
terminal (or CI log) and to ``reports/sessions/<session>.log``, with every secret masked
(:mod:`noxops.masking`: a test that prints its ``DATABASE_URL`` shows no password). Nothing
else changes on the terminal except that the tools no longer see a TTY (some drop their
colours).

The record is written as ``started`` before the session's work and replaced at its end, so
a run killed on the way (SIGKILL, a lost runner) reads as not finished, never as the
previous run's outcome. A run that failed keeps in its record the lines of its log that
say what ended it (``errors``: :func:`failure_lines`), which the report shows for a check
that has no finding or failing test to show. Each session run has an id (``run`` in the record, and
``NOXOPS_RUN_ID`` in the environment while it runs) that its stages write into the reports
that must be this run's own (the audit). A record that cannot be read counts as a session
that did not pass.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Optional

from noxops.masking import mask
from noxops.reports.files import display, read_json
from noxops.reports.model import ReadProblem

if TYPE_CHECKING:
    import nox

    from noxops.config import Config

__all__ = [
    "RUN_ID_ENV",
    "Record",
    "Recorder",
    "SessionRecord",
    "failure_lines",
    "read_nox_report",
    "read_records",
    "recording",
    "sessions_dir",
]


RUN_ID_ENV = "NOXOPS_RUN_ID"
NOT_FINISHED = "did not finish (killed, or still running)"
_PARTIAL_WAIT = 0.05  # seconds an unfinished line waits for its end before it is copied
_ERROR_LINES = 5  # kept in a failed run's record
_LOG_TAIL = 64 * 1024  # bytes of the log's end read for them
_COMMAND_FAILED = re.compile(r"^nox > Command .* failed with exit code -?\d+")
_RULE = re.compile(r"^\s*[=_-]{3,}.*[=_-]{3,}\s*$|^\s*[=_~^-]+\s*$")  # pytest's rules
_ERROR = re.compile(
    r"(?:error|exception|failed|failure|fatal|traceback)s?\b|\bfail\b|not found|denied"
    r"|refused|cannot|could not|no such|timed? ?out|invalid|missing",
    re.IGNORECASE,
)


def failure_lines(log: str, limit: int = _ERROR_LINES) -> list[str]:
    """The lines of a failed session's log that say what ended it: the last ``limit`` that
    read as an error before nox's "Command ... failed" (nox's own lines, blank lines and
    pytest's rules left out), else the last lines before it."""
    lines = log.splitlines()
    end = next(
        (i for i in range(len(lines) - 1, -1, -1) if _COMMAND_FAILED.match(lines[i])), len(lines)
    )
    body = [
        " ".join(line.split())[:300]
        for line in lines[:end]
        if line.strip() and not line.startswith("nox > ") and not _RULE.match(line)
    ]
    errors = [line for line in body if _ERROR.search(line)]
    return (errors or body)[-limit:]


def _log_errors(log: Path) -> list[str]:
    """:func:`failure_lines` of the end of a session's log (already masked as written)."""
    try:
        with log.open("rb") as fh:
            fh.seek(max(0, log.stat().st_size - _LOG_TAIL))
            tail = fh.read().decode("utf-8", "replace")
    except OSError:
        return []
    return [mask(line) for line in failure_lines(tail)]


def sessions_dir(config: Config) -> Path:
    return config.reports / "sessions"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _more_soon(fd: int) -> bool:
    """Whether more output arrives on ``fd`` within a moment (False where that cannot be
    asked: Windows has no poll on pipes)."""
    if not hasattr(select, "poll"):
        return False
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(_PARTIAL_WAIT * 1000))


class _Tee:
    """Copies what is written to file descriptors 1 and 2 into a log file as well."""

    def __init__(self, log: Path) -> None:
        self.log_path = log
        self._lock = threading.Lock()
        self._saved: dict[int, int] = {}
        self._threads: list[threading.Thread] = []
        self._log: Optional[IO[bytes]] = None

    def start(self) -> None:
        self._log = self.log_path.open("wb")
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        try:
            for fd in (1, 2):
                saved = os.dup(fd)
                self._saved[fd] = saved
                read_end, write_end = os.pipe()
                os.dup2(write_end, fd)
                os.close(write_end)
                thread = threading.Thread(
                    target=self._copy, args=(read_end, saved), name=f"noxops-tee-{fd}", daemon=True
                )
                thread.start()
                self._threads.append(thread)
        except OSError:
            self.stop()
            raise

    def _copy(self, read_end: int, target: int) -> None:
        """Copy whole lines, masked (:mod:`noxops.masking`), so a secret split across two
        reads is still masked; a line that stays unfinished (a progress bar, pytest's dots)
        is copied once nothing more arrives for a moment."""
        pending = b""
        try:
            while True:
                if pending and not _more_soon(read_end):
                    self._emit(pending, target)
                    pending = b""
                chunk = os.read(read_end, 65536)
                if not chunk:
                    break
                pending += chunk
                cut = pending.rfind(b"\n") + 1 if len(pending) < 1 << 20 else len(pending)
                if cut:
                    self._emit(pending[:cut], target)
                    pending = pending[cut:]
            if pending:
                self._emit(pending, target)
        finally:
            os.close(read_end)

    def _emit(self, data: bytes, target: int) -> None:
        data = mask(data.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
        with contextlib.suppress(OSError):
            os.write(target, data)
        with self._lock:
            if self._log is not None:
                self._log.write(data)
                self._log.flush()

    def stop(self) -> None:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        for fd, saved in self._saved.items():
            os.dup2(saved, fd)  # closes the pipe's last writer we hold: the reader sees EOF
        # A process the session left running may still hold a pipe: do not wait for it.
        deadline = time.monotonic() + 2.0
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        alive = any(t.is_alive() for t in self._threads)
        with self._lock:
            if self._log is not None:
                self._log.close()
                self._log = None
        if not alive:
            for saved in self._saved.values():
                os.close(saved)
        self._saved.clear()
        self._threads.clear()


@dataclass
class Recorder:
    """Handed to the session wrapper; it sets ``expired`` to the watchdog's event.

    :mod:`noxops.incremental.changed` sets ``replayed`` (when the recorded run it replays finished)
    and
    ``keep_log`` (where a completed run's log is copied, for a later replay).
    """

    expired: Optional[threading.Event] = None
    replayed: Optional[str] = None
    keep_log: Optional[Path] = None


def _status(exc: Optional[BaseException], recorder: Recorder) -> tuple[str, str]:
    if exc is None:
        return "success", ""
    if recorder.expired is not None and recorder.expired.is_set():
        return "timed-out", str(exc)
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted", "interrupted (Ctrl-C)"
    if type(exc).__name__ == "_SessionSkip":
        return "skipped", str(exc)
    return "failed", str(exc) or type(exc).__name__


@contextlib.contextmanager
def recording(session: nox.Session, config: Config) -> Iterator[Recorder]:
    """Record the session's outcome (and, when configured, its full log) under reports/."""
    name = str(session.name)
    folder = sessions_dir(config)
    log_path = folder / f"{name}.log"
    recorder = Recorder()
    tee: Optional[_Tee] = None
    started = _now()
    start = time.monotonic()
    run = os.urandom(16).hex()  # 32 hex digits, as uuid4's were (uuid: 6 ms to import)
    record_path = folder / f"{name}.json"
    record: dict[str, Any] = {
        "name": name,
        "status": "started",
        "reason": NOT_FINISHED,
        "run": run,
        "duration": None,
        "started": started,
        "finished": None,
        "log": None,
    }
    try:
        folder.mkdir(parents=True, exist_ok=True)
        keep = config.report.session_logs
        if keep is None:
            keep = not sys.stdout.isatty()
        if keep:
            record["log"] = display(log_path, config.root)
        _write_record(record_path, record, name)  # replaced at the end: killed reads "started"
        if keep:
            tee = _Tee(log_path)
            tee.start()
    except OSError as exc:
        tee = None
        record["log"] = None
        sys.stderr.write(f"nox > noxops: not keeping the log of {name}: {exc}\n")
    error: Optional[BaseException] = None
    saved_run = os.environ.get(RUN_ID_ENV)
    os.environ[RUN_ID_ENV] = run
    try:
        yield recorder
    except BaseException as exc:
        error = exc
        raise
    finally:
        if saved_run is None:
            os.environ.pop(RUN_ID_ENV, None)
        else:
            os.environ[RUN_ID_ENV] = saved_run
        if tee is not None:
            tee.stop()
        _outcome(record, _status(error, recorder), start, log_path if tee is not None else None)
        if recorder.replayed is not None:
            record.update(replayed=True, replayed_from=recorder.replayed)
        _write_record(record_path, record, name)
        if recorder.keep_log is not None and tee is not None:
            with contextlib.suppress(OSError):
                shutil.copyfile(log_path, recorder.keep_log)


def _outcome(
    record: dict[str, Any], outcome: tuple[str, str], start: float, log: Optional[Path]
) -> None:
    """The run's outcome in its record; for a failed run with a log, also what ended it."""
    status, reason = outcome
    record.update(
        status=status,
        reason=mask(reason),  # a failure's message may quote a secret
        duration=round(time.monotonic() - start, 3),
        finished=_now(),
    )
    if status in ("failed", "timed-out") and log is not None:
        record["errors"] = _log_errors(log)


def _write_record(path: Path, record: dict[str, Any], name: str) -> None:
    """Write the record whole (a temporary file renamed over it), never half."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        partial.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        partial.replace(path)
    except OSError as exc:
        sys.stderr.write(f"nox > noxops: could not record {name}: {exc}\n")


@dataclass
class SessionRecord:
    """One session's outcome, from noxops's record or nox's ``--report``."""

    name: str
    # success, failed, timed-out, interrupted, skipped, aborted; started (did not finish);
    # unreadable (its record is corrupt)
    status: str
    duration: Optional[float] = None
    reason: str = ""
    started: str = ""
    log: Optional[str] = None
    source: str = ""
    run: str = ""
    replayed_from: Optional[str] = None  # a replayed result: when the run it replays finished
    errors: list[str] = field(default_factory=list)  # a failed run: what ended it (its log)

    @property
    def ok(self) -> bool:
        return self.status == "success"

    @property
    def started_epoch(self) -> float:
        try:
            return datetime.fromisoformat(self.started).timestamp()
        except ValueError:
            return 0.0


Record = SessionRecord


def read_records(config: Config) -> tuple[dict[str, SessionRecord], list[str]]:
    """Every session record under reports/sessions, and the records that could not be read."""
    records: dict[str, SessionRecord] = {}
    problems: list[str] = []
    folder = sessions_dir(config)
    if not folder.is_dir():
        return records, problems
    for path in sorted(folder.glob("*.json")):
        try:
            data = read_json(path, config.root)
            records[str(data["name"])] = SessionRecord(
                name=str(data["name"]),
                status=str(data["status"]),
                duration=float(data["duration"]) if data.get("duration") is not None else None,
                reason=str(data.get("reason") or ""),
                started=str(data.get("started") or ""),
                log=data.get("log"),
                source=display(path, config.root),
                run=str(data.get("run") or ""),
                replayed_from=(
                    str(data.get("replayed_from") or "") if data.get("replayed") else None
                ),
                errors=[str(x) for x in _listed(data.get("errors")) if x],
            )
        except ReadProblem as exc:
            problems.append(str(exc))
            records[path.stem] = _unreadable(path, config, str(exc))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            problem = f"could not read {display(path, config.root)}: bad record ({exc})"
            problems.append(problem)
            records[path.stem] = _unreadable(path, config, problem)
    return records, problems


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _unreadable(path: Path, config: Config, problem: str) -> SessionRecord:
    """A corrupt record: the session's outcome is unknown, so it did not pass."""
    return SessionRecord(
        name=path.stem,
        status="unreadable",
        reason=f"its record is unreadable: {problem}",
        source=display(path, config.root),
    )


def read_nox_report(path: Path, root: Path) -> dict[str, SessionRecord]:
    """Nox's ``--report`` JSON: one record per session, under the name nox shows."""
    shown = display(path, root)
    data: dict[str, Any] = read_json(path, root)
    sessions = data.get("sessions")
    if not isinstance(sessions, list):
        raise ReadProblem(shown, "not a nox --report file (no 'sessions' list)")
    records: dict[str, SessionRecord] = {}
    for entry in sessions:
        if not isinstance(entry, dict) or "result" not in entry:
            raise ReadProblem(shown, "a session entry has no 'result'")
        signatures = entry.get("signatures") or [entry.get("name", "?")]
        # A parametrized session is listed under its base name; its signature is the full one.
        name = str(entry.get("name", "?"))
        full = next((s for s in signatures if s == name), None) or str(signatures[0])
        result = str(entry["result"])
        reason = str(entry.get("reason") or "")
        if result == "aborted" and not reason.startswith("Prerequisite session"):
            result = "failed"  # session.error(): the stage failed and said why
        records[full] = SessionRecord(
            name=full,
            status=result,
            duration=float(entry.get("duration") or 0.0),
            reason=reason,
            source=shown,
        )
    return records
