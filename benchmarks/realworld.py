"""Agreement with real projects: noxops's verdict on each stage against the project's own.

Run on demand (not part of CI)::

    .venv/bin/python benchmarks/realworld.py                        # the whole corpus
    .venv/bin/python benchmarks/realworld.py --projects click,cachetools --keep /tmp/rw

For each project of the corpus (:data:`CORPUS`: released sdists from PyPI, pinned by version
and sha256 and never vendored, and two service fixtures of this repository, written in the
shape of real services), in a git repository of its own:

1. ``noxops init`` (this checkout's noxops), committed: the table it writes is the only
   noxops configuration; the harness adds no ``[tool.noxops]`` key;
2. every check stage noxops selects (``nox -l``): lint, type, pylint, security, the tests of
   the project's Python, integration, and coverage where the project gates on it (it runs
   the tests of noxops's whole matrix first), one ``nox -s`` each, going on after a
   failure, services from the ``local`` provider; ``git status`` after each counts the
   tracked files the stage changed (and the new files it left that .gitignore does not hide);
3. the project's own checks, the project's own way (:class:`Check`: its tools at its pins,
   its configuration, its commands, each recipe saying where the project states it), in
   environments made with uv, outside the repository.

It prints a Markdown table of stage x project (``noxops / project / agree?`` and files
changed) and writes it, with the details, as JSON. A stage the project does not run is shown
as ``n/a`` and not counted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from changes import _git_init, download_sdist
from pipeline import _env, skipped_sessions

from noxops.commands.init import _drop_table
from noxops.project import interpreters

__all__ = ["CORPUS", "Check", "Corpus", "main"]

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
# The check stages, in the order they run (coverage combines what the tests stage measured).
STAGES = ("lint", "type", "pylint", "security", "tests", "integration", "coverage")
NOX_TIMEOUT = 900.0
CHECK_TIMEOUT = 600.0
NOT_RUN = "n/a (project does not run it)"


@dataclass(frozen=True)
class Check:
    """One of the project's own checks: the noxops stage it answers, what its environment
    holds, the commands, and where the project says it runs them."""

    stage: str
    install: tuple[str, ...]  # `uv pip install` arguments; ("sync", ...) for `uv sync --frozen`
    commands: tuple[tuple[str, ...], ...]
    source: str
    services: bool = False  # the project's services must be up (and its variables set)


@dataclass(frozen=True)
class Corpus:
    """A project of the corpus: where it comes from, its shape, its Python, its own checks."""

    name: str
    shape: str
    python: str
    checks: tuple[Check, ...]
    sdist: tuple[str, str] | None = None  # (requirement, sha256) on PyPI
    fixture: str = ""  # else a folder of tests/fixtures
    component: str = "."  # the folder of the repository the project lives in
    services: tuple[str, ...] = ()
    # The project's own names for its services, as templates over the running ones:
    # {postgres.host}, {postgres.port}, {postgres.user}, {postgres.password},
    # {postgres.database}, {redis.url} ...
    service_env: Mapping[str, str] = field(default_factory=dict)
    notes: str = ""


# In a command: the project's tracked Python files, as pre-commit hands them to a hook of
# `types_or: [python, pyi]` (ruff's hooks; a newer ruff would also format Markdown blocks).
PYTHON_FILES = "{python files}"


def _ruff(source: str, pin: str = "ruff", paths: tuple[str, ...] = (PYTHON_FILES,)) -> Check:
    # --no-fix: the projects' `fix = true` would rewrite files; the verdict is the same.
    return Check(
        "lint",
        (pin,),
        (("ruff", "check", "--no-fix", *paths), ("ruff", "format", "--check", *paths)),
        source,
    )


CORPUS: dict[str, Corpus] = {
    "blinker": Corpus(
        "blinker", "ruff library, filterwarnings = error, pytest-asyncio, pip-tools pins",
        "3.13",
        sdist=("blinker==1.9.0",
               "b4ce2265a7abece45e7cc896e98dbebe6cead56bcf805a3d23136d145f5445bf"),
        checks=(
            _ruff("tox.ini [testenv:style] runs pre-commit's ruff and ruff-format hooks; "
                  ".pre-commit-config.yaml is not in the sdist, so no pin: the newest ruff"),
            Check("type", ("-r", "requirements/typing.txt", "."), (("mypy",),),
                  "tox.ini [testenv:typing] (mypy with [tool.mypy]; its pyright runs are "
                  "left out: pyright fetches Node at run time)"),
            Check("tests", ("-r", "requirements/tests.txt", "."),
                  (("pytest", "-v", "--tb=short"),), "tox.ini [testenv]"),
        ),
        notes="its sdist states no Python classifiers: requires-python >= 3.9",
    ),
    "cachetools": Corpus(
        "cachetools", "flake8 (setup.cfg [flake8] + bugbear, import-order, black plugins), "
        "setup.cfg/setup.py", "3.12",
        sdist=("cachetools==5.5.2",
               "1a661caa9175d26759571b2e19580f9d6393969e5dfca11fdb1f947a23e640d4"),
        checks=(
            Check("lint", ("flake8", "flake8-black", "flake8-bugbear", "flake8-import-order"),
                  (("flake8",),), "tox.ini [testenv:flake8], setup.cfg [flake8]"),
            Check("tests", ("pytest", "pytest-cov", "."),
                  (("pytest", "--cov=cachetools", "--cov-report", "term-missing"),),
                  "tox.ini [testenv]"),
        ),
    ),
    "tomlkit": Corpus(
        "tomlkit", "Poetry ([tool.poetry], dev-dependencies, poetry-core; no poetry.lock in "
        "the sdist)", "3.12",
        sdist=("tomlkit==0.13.2",
               "fff5fe59a87295b278abd31bec92c15d9bc4a06885ab12bcea52c71119392e79"),
        checks=(
            _ruff("[tool.ruff.lint] in pyproject.toml; the repository's pre-commit runs ruff "
                  "and ruff-format (its config is not in the sdist, so no pin: the newest)"),
            Check("tests", ("pytest>=7.2,<8", "pytest-cov>=4,<5", "PyYAML>=6,<7", "."),
                  (("pytest",),),
                  "[tool.poetry.dev-dependencies] (its test part: pytest, pytest-cov, PyYAML)"),
        ),
        notes="mypy is a dev-dependency but nothing in the sdist configures or runs it",
    ),
    "click": Corpus(
        "click", "uv.lock, ruff, filterwarnings = error, dependency groups, tox-uv", "3.12",
        sdist=("click==8.5.1",
               "9bbfada76703fd1d784b83eea012e3e8c6a001a876543ef104fa56aaaeb072b4"),
        checks=(
            _ruff("pre-commit's ruff and ruff-format hooks, at uv.lock's ruff", "ruff==0.15.9"),
            Check("type", ("sync", "--no-default-groups", "--group", "typing"), (("mypy",),),
                  "[tool.tox.env.typing] (mypy at uv.lock's pin with [tool.mypy]; its pyright "
                  "run is left out: pyright fetches Node at run time)"),
            Check("tests", ("sync", "--no-default-groups", "--group", "tests"),
                  (("pytest", "-v", "--tb=short"),),
                  "[tool.tox.env_run_base] (uv-venv-lock-runner: the tests group of uv.lock)"),
        ),
    ),
    "requirements-service": Corpus(
        "requirements-service", "requirements.txt web service, PostgreSQL and Redis, no "
        "[project] (fixture of this repository)", "3.11",
        fixture="requirements_service",
        services=("postgres", "redis"),
        service_env={
            "DATABASE_TEST_URL": "postgres://{postgres.user}:{postgres.password}@"
            "{postgres.host}:{postgres.port}/{postgres.database}",
            "REDIS_URL": "{redis.url}",
        },
        checks=(
            _ruff("[tool.ruff] in pyproject.toml (no pin: the newest)", paths=()),
            Check("tests", ("-r", "requirements-dev.txt"),
                  (("python", "-m", "pytest", "tests/unit"),), "requirements-dev.txt; tests/unit"),
            Check("integration", ("-r", "requirements-dev.txt"),
                  (("python", "-m", "pytest", "tests/integration"),),
                  "tests/integration with DATABASE_TEST_URL and REDIS_URL (docker-compose.yml)",
                  services=True),
        ),
    ),
    "backend-service": Corpus(
        "backend-service", "service in backend/ of its repository: POSTGRES_SERVER/PORT/USER/"
        "PASSWORD/DB settings, Alembic migrations (fixture of this repository)", "3.12",
        fixture="backend_service",
        component="backend",
        services=("postgres",),
        service_env={
            "POSTGRES_SERVER": "{postgres.host}",
            "POSTGRES_PORT": "{postgres.port}",
            "POSTGRES_USER": "{postgres.user}",
            "POSTGRES_PASSWORD": "{postgres.password}",
            "POSTGRES_DB": "{postgres.database}",
        },
        checks=(
            _ruff("scripts/lint.sh (ruff at its dev-group pin)", "ruff==0.14.0", ("app",)),
            Check("type", ("-e", ".", "--group", "dev"), (("mypy", "app"),), "scripts/lint.sh"),
            Check("tests", ("-e", ".", "--group", "dev"),
                  (("alembic", "upgrade", "head"), ("coverage", "run", "-m", "pytest", "tests/"),
                   ("coverage", "report")),
                  "scripts/prestart.sh then scripts/test.sh, PostgreSQL as docker-compose.yml",
                  services=True),
        ),
    ),
}  # fmt: skip


@dataclass
class Ran:
    """One command run: its verdict ("pass", "fail", "skipped", "timeout"), time, log."""

    verdict: str
    seconds: float
    log: str
    changed: list[str] = field(default_factory=list)  # tracked files changed (noxops stages)
    new: list[str] = field(default_factory=list)  # new files .gitignore does not hide
    tail: str = ""  # the log's last lines, for a stage that did not pass
    tests: str = ""  # pytest's last summary ("120 passed, 2 skipped"): both sides ran as many?


def _run(argv: Sequence[str], cwd: Path, log: Path, env: Mapping[str, str], timeout: float,
         *, append: bool = False) -> tuple[int | None, float]:  # fmt: skip
    """Run ``argv`` into ``log``; its exit code (``None`` past ``timeout``: the whole process
    group it started is ended) and its duration."""
    start = time.perf_counter()
    with log.open("a" if append else "w", encoding="utf-8") as fh:
        fh.write(f"$ {' '.join(argv)}   (in {cwd})\n")
        fh.flush()
        proc = subprocess.Popen(
            list(argv), cwd=cwd, env=dict(env), stdout=fh, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            rc: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            rc = None
            for sig, wait in ((signal.SIGTERM, 30.0), (signal.SIGKILL, 30.0)):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, sig)
                try:
                    proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
            fh.write(f"\n[realworld] timed out after {timeout:.0f} s\n")
    return rc, time.perf_counter() - start


def _tail(log: Path, lines: int = 15) -> str:
    text = log.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(text[-lines:])


def _pytest_summary(log: Path) -> str:
    """The counts of pytest's last closing line in ``log`` ("" where none)."""
    text = log.read_text(encoding="utf-8", errors="replace")
    found = re.findall(r"^=+ (\d[^=]*?) in [\d.]+s(?: \([^)]*\))? =+$", text, flags=re.M)
    return found[-1] if found else ""


def _git_status(root: Path) -> tuple[list[str], list[str]]:
    """Tracked files changed since the last commit, and new files not ignored."""
    out = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=root, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    changed = [line[3:] for line in out.splitlines() if line and not line.startswith("??")]
    new = [line[3:] for line in out.splitlines() if line.startswith("??")]
    return changed, new


def _commit(root: Path, message: str) -> None:
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    for cmd in (["add", "-A"], ["commit", "-q", "--allow-empty", "-m", message]):
        subprocess.run([*git, *cmd], cwd=root, check=True, capture_output=True)


def prepare(work: Path, project: Corpus) -> Path:
    """The project in a git repository of its own, as it is before adopting noxops."""
    if project.sdist:
        root = download_sdist(work, project.name, *project.sdist)
    else:
        root = work / project.name
        shutil.copytree(FIXTURES / project.fixture, root)
        # The fixture as its project was before noxops: no noxfile, no [tool.noxops] table.
        component = root / project.component
        (component / "noxfile.py").unlink(missing_ok=True)
        pyproject = component / "pyproject.toml"
        if pyproject.is_file():
            text = pyproject.read_text(encoding="utf-8")
            pyproject.write_text(_drop_table(text).rstrip("\n") + "\n", encoding="utf-8")
    _git_init(root)
    return root


def _nox_verdict(rc: int | None, log: Path, session: str) -> str:
    if rc is None:
        return "timeout"
    text = log.read_text(encoding="utf-8", errors="replace")
    if skipped_sessions(log) or re.search(rf"Session {re.escape(session)} skipped", text):
        return "skipped"
    return "pass" if rc == 0 else "fail"


def run_noxops(project: Corpus, root: Path, python: str, logs: Path) -> dict[str, object]:
    """``noxops init``, then each check stage in its own ``nox -s``; verdicts and changes."""
    where = root / project.component
    env = _env()
    env["NOXOPS_PROVIDER"] = "local"  # the services of this machine, no containers
    log = logs / f"{project.name}-init.log"
    rc, _ = _run([sys.executable, "-m", "noxops", "init"], where, log, env, 120)
    init_changed, init_new = _git_status(root)
    result: dict[str, object] = {
        "init": {"ok": rc == 0, "log": str(log), "changed": init_changed, "new": init_new},
        "stages": {},
    }
    print(f"{project.name}: noxops init {'ok' if rc == 0 else 'FAILED'}", flush=True)
    if rc != 0:
        return result
    _commit(root, "noxops init")
    listing = subprocess.run(
        [sys.executable, "-m", "nox", "-l", "--json"], cwd=where, env=env,
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    try:
        sessions = [s["session"] for s in json.loads(listing.stdout)]
    except ValueError:
        (logs / f"{project.name}-list.log").write_text(listing.stdout + listing.stderr)
        result["list_error"] = (listing.stdout + listing.stderr)[-2000:]
        return result
    result["sessions"] = sessions
    stages: dict[str, Ran] = {}
    own_stages = {check.stage for check in project.checks}
    before = set(_git_status(root)[1])
    for stage in STAGES:
        session = f"tests-{python}" if stage == "tests" else stage
        if session not in sessions or (stage == "coverage" and "coverage" not in own_stages):
            continue  # coverage runs the tests of the whole matrix first: only where it counts
        log = logs / f"{project.name}-nox-{session}.log"
        rc, seconds = _run(
            [sys.executable, "-m", "nox", "--no-color", "-s", session], where, log, env,
            NOX_TIMEOUT,
        )  # fmt: skip
        changed, untracked = _git_status(root)
        new = sorted(set(untracked) - before)  # what this stage left
        before |= set(new)
        verdict = _nox_verdict(rc, log, session)
        ran = Ran(verdict, seconds, str(log), changed, new, tests=_pytest_summary(log))
        if verdict != "pass":
            ran.tail = _tail(log)
        stages[stage] = ran
        more = f", {len(changed)} file(s) changed" if changed else ""
        print(f"{project.name}: nox -s {session:<12} {verdict:<8} {seconds:6.1f} s{more}",
              flush=True)  # fmt: skip
        if changed:  # each stage starts from the committed project
            subprocess.run(["git", "checkout", "-q", "--", "."], cwd=root, check=True)
    result["stages"] = {k: asdict(v) for k, v in stages.items()}
    return result


def _interpreter(python: str) -> str:
    found = interpreters.find(python)
    if found is None:
        raise SystemExit(f"Python {python} is not installed here")
    return str(found.executable)


@contextlib.contextmanager
def _services(project: Corpus, needed: bool) -> Iterator[dict[str, str]]:
    """The project's own variables for its services, started on this machine (PostgreSQL and
    Redis servers of the machine, through noxops's local provider: the infrastructure only,
    as docker compose would give it) while its checks need them."""
    if not needed or not project.services:
        yield {}
        return
    from noxops.services.select import Services, plan

    with Services(plan(list(project.services), "local")) as running:
        fields = {}
        for name, service in running.items():
            end = service.endpoint
            fields.update({f"{name}.host": end.host, f"{name}.port": str(end.port),
                           f"{name}.user": end.user, f"{name}.password": end.password,
                           f"{name}.database": end.database, f"{name}.url": end.url})  # fmt: skip
        yield {
            key: re.sub(r"\{([\w.]+)\}", lambda m: fields[m[1]], template)
            for key, template in project.service_env.items()
        }


def _expand(command: Sequence[str], where: Path) -> list[str]:
    if PYTHON_FILES not in command:
        return list(command)
    files = subprocess.run(
        ["git", "ls-files", "--", "*.py", "*.pyi"], cwd=where, capture_output=True, text=True,
        check=True,
    ).stdout.split()  # fmt: skip
    at = list(command).index(PYTHON_FILES)
    return [*command[:at], *files, *command[at + 1 :]]


def run_project(project: Corpus, root: Path, python: str, work: Path, logs: Path) -> dict[str, Any]:
    """The project's own checks, its own way, in uv environments outside the repository;
    the verdict of each stage it runs (all its checks of that stage must pass)."""
    where = root / project.component
    interpreter = _interpreter(python)
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or "uv"
    envs: dict[tuple[str, ...], Path] = {}
    verdicts: dict[str, Ran] = {}
    for check in project.checks:
        log = logs / f"{project.name}-own-{check.stage}.log"
        append = check.stage in verdicts
        base = _env()
        base["UV_PYTHON_DOWNLOADS"] = "never"
        venv = envs.get(check.install)
        start = time.perf_counter()
        rc: int | None = 0
        if venv is None:
            venv = work / "own-envs" / f"{project.name}-{len(envs)}"
            if check.install[0] == "sync":
                base["UV_PROJECT_ENVIRONMENT"] = str(venv)
                steps = [[uv, "sync", "--frozen", "--python", interpreter, *check.install[1:]]]
            else:
                steps = [[uv, "venv", "-q", "--python", interpreter, str(venv)],
                         [uv, "pip", "install", "--python", str(venv / "bin" / "python"),
                          *check.install]]  # fmt: skip
            for step in steps:
                rc, _ = _run(step, where, log, base, CHECK_TIMEOUT, append=append)
                append = True
                if rc != 0:
                    break
            envs[check.install] = venv
        env = {**base, "VIRTUAL_ENV": str(venv), "PATH": f"{venv / 'bin'}:{base['PATH']}"}
        if rc == 0:
            with _services(project, check.services) as variables:
                env.update(variables)
                for command in check.commands:
                    argv = _expand(command, where)
                    rc, _ = _run(argv, where, log, env, CHECK_TIMEOUT, append=append)
                    append = True
                    if rc != 0:
                        break
        verdict = "timeout" if rc is None else "pass" if rc == 0 else "fail"
        seconds = time.perf_counter() - start
        earlier = verdicts.get(check.stage)
        if earlier is not None:  # one stage, several checks: all must pass
            seconds += earlier.seconds
            verdict = earlier.verdict if earlier.verdict != "pass" else verdict
        verdicts[check.stage] = Ran(verdict, seconds, str(log), tests=_pytest_summary(log))
        if verdict != "pass":
            verdicts[check.stage].tail = _tail(log)
        print(f"{project.name}: own {check.stage:<18} {verdict:<8} {seconds:6.1f} s",
              flush=True)  # fmt: skip
    return {
        "stages": {k: asdict(v) for k, v in verdicts.items()},
        "checks": [asdict(c) for c in project.checks],
    }


def _cell(
    noxops: dict[str, Any] | None, own: dict[str, Any] | None, in_matrix: bool
) -> tuple[str, bool | None]:
    """A table cell, and whether it agrees (None: not counted)."""
    if noxops is None:
        if own is None:
            return "", None
        why = "not selected" if in_matrix else "not in noxops's matrix"
        return f"— ({why}) / {own['verdict']} / **no**", False
    files = len(noxops["changed"])
    extra = f", +{len(noxops['new'])} new" if noxops["new"] else ""
    changed = f"{files} changed{extra}"
    if own is None:
        return f"{noxops['verdict']} / {NOT_RUN} · {changed}", None
    agree = noxops["verdict"] == own["verdict"]
    cell = f"{noxops['verdict']} / {own['verdict']} / {'yes' if agree else '**no**'} · {changed}"
    if noxops["tests"] != own["tests"]:  # the same verdict over other tests is worth a look
        cell += f" · ran {noxops['tests'] or '?'} vs {own['tests'] or '?'}"
    return cell, agree


def report(results: dict[str, dict[str, Any]], when: str) -> str:
    names = list(results)
    lines = [
        f"# noxops against the projects' own tools ({when})",
        "",
        "Each cell: noxops's verdict / the project's own verdict / agree? · tracked files the "
        "stage changed (and new files .gitignore does not hide). "
        f"`{NOT_RUN}` is not counted.",
        "",
        "| stage | " + " | ".join(f"{n} (Python {results[n]['python']})" for n in names) + " |",
        "|---|" + "---|" * len(names),
    ]
    agreed = dict.fromkeys(names, 0)
    counted = dict.fromkeys(names, 0)
    changed = dict.fromkeys(names, 0)
    init_row = ["noxops init"]
    for n in names:
        init = results[n]["noxops"]["init"]
        init_row.append(("ok" if init["ok"] else "**failed**") + f" · {len(init['changed'])} "
                        f"changed, +{len(init['new'])} new")  # fmt: skip
    lines.append("| " + " | ".join(init_row) + " |")
    for stage in STAGES:
        row = [stage]
        for n in names:
            nox = results[n]["noxops"].get("stages", {}).get(stage)
            own = results[n]["own"]["stages"].get(stage)
            sessions = results[n]["noxops"].get("sessions", [])
            in_matrix = stage != "tests" or f"tests-{results[n]['python']}" in sessions
            cell, agree = _cell(nox, own, in_matrix)
            if agree is not None:
                counted[n] += 1
                agreed[n] += agree
            if nox:
                changed[n] += len(nox["changed"])
            row.append(cell)
        if any(row[1:]):
            lines.append("| " + " | ".join(row) + " |")
    lines.append("| **agreement** | " + " | ".join(
        f"{agreed[n]}/{counted[n]}, {changed[n]} files changed" for n in names) + " |")  # fmt: skip
    lines += ["", "## The corpus", ""]
    for n in names:
        r = results[n]
        lines.append(
            f"- **{n}**: {r['shape']}; {r['origin']}.{' ' + r['notes'] if r['notes'] else ''}"
        )
        for check in r["own"]["checks"]:
            cmds = "; ".join(" ".join(c) for c in check["commands"])
            lines.append(f"  - its {check['stage']}: `{cmds}` — {check['source']}")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", default=",".join(CORPUS),
                        help="which projects, comma-separated (default: all)")  # fmt: skip
    parser.add_argument("--python", help="run every project on this Python (default: each "
                        "project's own: 3.13 for the filterwarnings library)")  # fmt: skip
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    parser.add_argument("--json", type=Path, help="write the results as JSON here (default: "
                        "a dated file in the work folder, or the temp folder)")  # fmt: skip
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.projects.split(",") if n.strip()]
    unknown = [n for n in names if n not in CORPUS]
    if unknown:
        parser.error(f"--projects: {', '.join(unknown)} not in {', '.join(CORPUS)}")
    work = args.keep or Path(tempfile.mkdtemp(prefix="noxops-realworld-"))
    if args.keep and work.exists():
        shutil.rmtree(work)
    logs = work / "logs"
    logs.mkdir(parents=True)
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    started = time.perf_counter()
    print(f"work folder {work}; load average {os.getloadavg()[0]:.2f}", flush=True)
    results: dict[str, dict[str, Any]] = {}
    for name in names:
        project = CORPUS[name]
        python = args.python or project.python
        root = prepare(work, project)
        # The project's own checks run in a clone of it as it was before noxops, so neither
        # side sees the other's files (flake8 would walk .nox/, noxops would count .coverage).
        own_root = work / f"{name}-own"
        subprocess.run(["git", "clone", "-q", str(root), str(own_root)], check=True)
        origin = (f"sdist {project.sdist[0]} from PyPI, sha256 {project.sdist[1][:12]}…"
                  if project.sdist else f"tests/fixtures/{project.fixture}")  # fmt: skip
        results[name] = {
            "python": python, "shape": project.shape, "origin": origin, "notes": project.notes,
            "root": str(root),
            "noxops": run_noxops(project, root, python, logs),
            "own": run_project(project, own_root, python, work, logs),
        }  # fmt: skip
    table = report(results, when)
    minutes = (time.perf_counter() - started) / 60
    table += f"\nRun in {minutes:.1f} min; load average {os.getloadavg()[0]:.2f} at the end.\n"
    print()
    print(table)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    out = args.json or (work if args.keep else Path(tempfile.gettempdir())) / (
        f"noxops-realworld-{stamp}.json"
    )
    out.write_text(json.dumps({"when": when, "results": results}, indent=2), encoding="utf-8")
    print(f"JSON: {out}")
    if args.markdown:
        args.markdown.write_text(table, encoding="utf-8")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
