"""Side-by-side timing of one pipeline under noxops, a hand-written noxfile, tox 4 and the floor.

Run on demand (not part of CI)::

    .venv/bin/python benchmarks/pipeline.py            # all runners, Pythons 3.10-3.13
    .venv/bin/python benchmarks/pipeline.py --skip-tox --keep /tmp/bench
    .venv/bin/python benchmarks/pipeline.py --warm-only --rounds 5   # CPU: noxops vs floor
    .venv/bin/python benchmarks/pipeline.py --warm-only --project more-itertools \
        --compare-src /tmp/other/src   # and another noxops's code, interleaved

It generates a fixture project into a temporary folder (a package of about 3,000 lines and 300
unit tests), then times the same work: lint (black, isort, ruff), type (mypy), security
(bandit) and the unit tests under coverage on every Python of the matrix, run by

- noxops: cold (no environments, no tool caches) and warm (nothing changed), sequentially
  and with ``nox -j 2``, and once cold with environments not prepared ahead
  (``NOXOPS_PREPARE_AHEAD=0``);
- a hand-written noxfile in the usual style (virtualenv backend, one session per stage, no
  reuse; its second run is timed, so pip's cache is warm);
- tox 4 with an equivalent tox.ini (installed into a temporary virtualenv): first run (creates
  its environments) and second run (reuses them);
- the floor: the same commands run directly one after another in the environments noxops
  prepared (what no sequential orchestrator can beat). The script checks that they are the
  commands noxops logged (:func:`same_work`) and says so; the one difference is the
  per-Python coverage XML, made by ``coverage xml`` where noxops makes it in the pytest run;
- nox alone: the floor's commands as plain nox sessions (no environments) with ``-j 2``, a
  nox process per session: the part of ``-j 2``'s cost that is nox's, not noxops's.

Warm runs, the floor and nox alone are timed ``--rounds`` times, interleaved. Each row shows the
wall time and the CPU time (user + system of everything the run started), both the least of
the rounds, and both as ratios to the floor's. Then it changes the project's ``test``
dependency group and reports which environments the next warm noxops run reinstalled
(``--warm-only`` leaves out that and every cold, hand-written and tox run). Every runner's
output is kept in ``<work>/logs``.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from noxops.config import load
from noxops.project import tools
from noxops.stages.typecheck import mypy_requirement

__all__ = [
    "Timing",
    "floor_sessions",
    "generate_project",
    "handwritten_noxfile",
    "main",
    "nox_alone_noxfile",
    "same_work",
]

PACKAGE = "ledgerkit"
MODULES = 14
FUNCTIONS_PER_MODULE = 22
TESTS_PER_FUNCTION = 1
TOOLS_PYTHON = "3.11"


@dataclass
class Timing:
    """One timed run."""

    label: str
    seconds: float
    ok: bool
    log: Path
    cpu: float = 0.0  # user + system seconds of everything the run started


# -- the fixture project ----------------------------------------------------------------------


def _function(i: int, j: int) -> tuple[str, str]:
    """One function of module ``i`` and its test, in one of three shapes."""
    kind = j % 3
    name = f"f{i}_{j}"
    if kind == 0:
        code = f'''
            def {name}(values: list[int]) -> int:
                """Sum the values above {j}, scaled by {j + 1}, minus the others."""
                result = 0
                for value in values:
                    if value > {j}:
                        result += value * {j + 1}
                    else:
                        result -= value
                return result
            '''
        values = [j - 2, j + 3, 7, -4, j * 2]
        expected = sum(v * (j + 1) if v > j else -v for v in values)
        test = f"assert m.{name}({values!r}) == {expected}"
    elif kind == 1:
        code = f'''
            def {name}(value: float, low: float = {-j}.0, high: float = {j + 10}.0) -> float:
                """Clamp ``value`` into [low, high] and round it to {j % 4} places."""
                if low > high:
                    raise ValueError(f"low {{low}} is above high {{high}}")
                clamped = min(max(value, low), high)
                return round(clamped, {j % 4})
            '''
        value = j * 1.37 - 3.21
        expected_f = round(min(max(value, float(-j)), float(j + 10)), j % 4)
        test = f"assert m.{name}({value!r}) == {expected_f!r}"
    else:
        code = f'''
            def {name}(words: Sequence[str], sep: str = "-") -> str:
                """Normalise the words (strip, lower, drop empties) and join them with ``sep``."""
                cleaned = [w.strip().lower() for w in words if w.strip()]
                if len(cleaned) > {j % 5 + 2}:
                    cleaned = cleaned[: {j % 5 + 2}]
                return sep.join(cleaned)
            '''
        words = [" Alpha", "beta ", "", "Gamma", "DELTA", " epsilon", "zeta", "Eta"]
        cleaned = [w.strip().lower() for w in words if w.strip()][: j % 5 + 2]
        test = f"assert m.{name}({words!r}) == {'-'.join(cleaned)!r}"
    return textwrap.dedent(code), test


def generate_project(root: Path, pythons: Sequence[str]) -> tuple[int, int]:
    """Write the fixture project into ``root``; return (source lines, unit tests)."""
    pkg = root / "src" / PACKAGE
    tests = root / "tests" / "unit"
    pkg.mkdir(parents=True)
    tests.mkdir(parents=True)
    lowest = min(pythons, key=lambda v: tuple(int(p) for p in v.split(".")))
    (root / "pyproject.toml").write_text(
        textwrap.dedent(f"""\
            [build-system]
            requires = ["hatchling"]
            build-backend = "hatchling.build"

            [project]
            name = "{PACKAGE}"
            version = "1.0.0"
            requires-python = ">={lowest}"
            dependencies = []

            [dependency-groups]
            test = ["pytest"]

            [tool.noxops]
            python = {list(pythons)!r}
            tools_python = "{TOOLS_PYTHON}"

            [tool.noxops.security]
            # the advisory lookup needs the network and its answer changes daily; the
            # benchmark times what a machine controls
            audit = false

            [tool.isort]
            profile = "black"
            """),
        encoding="utf-8",
    )
    (root / "noxfile.py").write_text("import noxops\n\nnoxops.sessions()\n", encoding="utf-8")
    (pkg / "__init__.py").write_text(f'"""{PACKAGE}: generated benchmark package."""\n')
    (tests / "__init__.py").write_text("")
    n_tests = 0
    for i in range(MODULES):
        parts = [
            f'"""Ledger helpers, part {i}."""\n',
            "from __future__ import annotations\n",
            "from collections.abc import Sequence\n",
            "from dataclasses import dataclass\n\n",
            textwrap.dedent(f'''
                @dataclass(frozen=True)
                class Entry{i}:
                    """A ledger entry of part {i}."""

                    account: str
                    amount: int

                    def signed(self) -> int:
                        """The amount, negative for credit accounts."""
                        return -self.amount if self.account.startswith("cr") else self.amount
                '''),
        ]
        test_lines = [f"from {PACKAGE} import mod{i} as m\n\n"]
        for j in range(FUNCTIONS_PER_MODULE):
            code, check = _function(i, j)
            parts.append(code)
            for k in range(TESTS_PER_FUNCTION):
                test_lines.append(f"\ndef test_{i}_{j}_{k}() -> None:\n    {check}\n\n")
                n_tests += 1
        test_lines.append(
            f"\ndef test_entry_{i}() -> None:\n"
            f'    assert m.Entry{i}("cr-1", 5).signed() == -5\n'
            f'    assert m.Entry{i}("db-1", 5).signed() == 5\n'
        )
        n_tests += 1
        (pkg / f"mod{i}.py").write_text("\n".join(parts), encoding="utf-8")
        (tests / f"test_mod{i}.py").write_text("".join(test_lines), encoding="utf-8")
    # Format it once with the tools of this environment so lint passes.
    bindir = Path(sys.executable).parent
    subprocess.run(
        [str(bindir / "isort"), "-q", "--profile", "black", "src", "tests"], cwd=root, check=False
    )
    subprocess.run(
        [str(bindir / "black"), "-q", "src", "tests", "noxfile.py"], cwd=root, check=False
    )
    (root / ".gitignore").write_text(
        ".nox*/\n.tox/\n.venv\nreports/\n__pycache__/\n.mypy_cache/\n.pytest_cache/\n.ruff_cache/\n"
        "*.egg-info/\n"
    )
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "fixture"]):
        subprocess.run([*git, *cmd], cwd=root, check=False, capture_output=True)
    lines = sum(len(p.read_text().splitlines()) for p in pkg.glob("*.py"))
    return lines, n_tests


def handwritten_noxfile(
    pythons: Sequence[str],
    target: str,
    *,
    sources: Sequence[str] = ("src",),
    lint_paths: Sequence[str] = ("src", "tests", "noxfile.py"),
    tests: str = "tests/unit",
    test_requirements: Sequence[str] = ("pytest",),
    findings_fail: bool = True,
) -> str:
    """The pipeline as most projects write it (virtualenv + pip, fresh environments every run),
    for the fixture here and every project of ``benchmarks/changes.py``. mypy checks for
    ``target`` (with a mypy that can: :func:`noxops.stages.typecheck.mypy_requirement`). Unless
    ``findings_fail``, a tool that reports findings (exit 1) does not end its session, so the
    tools after it still run, as they do under noxops (real projects have findings)."""
    codes = "" if findings_fail else ", success_codes=[0, 1]"
    lint = ", ".join(repr(p) for p in lint_paths)
    src = ", ".join(repr(s) for s in sources)
    test_reqs = ", ".join(repr(r) for r in [*test_requirements, "coverage[toml]"])
    return textwrap.dedent(f'''\
        """The pipeline as most projects write it: virtualenv + pip, fresh envs every run."""
        import nox

        nox.options.default_venv_backend = "virtualenv"
        PYTHONS = {list(pythons)!r}


        @nox.session(python="{TOOLS_PYTHON}")
        def lint(session):
            session.install("black", "isort", "ruff")
            session.run("black", "--check", "--diff", {lint}{codes})
            session.run("isort", "--check-only", "--diff", {lint}{codes})
            session.run("ruff", "check", {lint}{codes})


        @nox.session(name="type", python="{TOOLS_PYTHON}")
        def typecheck(session):
            session.install("-e", ".", "pytest", "{mypy_requirement(target)}")
            session.run("mypy", "--python-version={target}", {src}{codes})


        @nox.session(python="{TOOLS_PYTHON}")
        def security(session):
            session.install(".", "bandit")
            session.run("bandit", "-r", "-q", {src}{codes})


        @nox.session(python=PYTHONS)
        def tests(session):
            session.install("-e", ".", {test_reqs})
            session.run("coverage", "run", "--source={",".join(sources)}", "-m", "pytest",
                        "{tests}")
            py = session.python
            session.run("coverage", "xml", "-q", "-o", f"reports/hand-coverage-{{py}}.xml")
            session.run("coverage", "html", "-q", "-d", f"reports/hand-htmlcov-{{py}}")
        ''')


def _tox_ini(pythons: Sequence[str], lowest: str) -> str:
    envs = ", ".join(["lint", "type", "security", *(f"py{v.replace('.', '')}" for v in pythons)])
    return textwrap.dedent(f"""\
        [tox]
        env_list = {envs}

        [testenv]
        package = editable
        dependency_groups = test
        deps = coverage[toml]
        setenv = COVERAGE_FILE = {{toxworkdir}}/.coverage.{{envname}}
        commands =
            coverage run --source=src -m pytest tests/unit
            coverage xml -q -o reports/tox-coverage-{{envname}}.xml
            coverage html -q -d reports/tox-htmlcov-{{envname}}

        [testenv:lint]
        skip_install = true
        dependency_groups =
        deps = black
            isort
            ruff
        commands =
            black --check --diff src tests noxfile.py
            isort --check-only --diff src tests noxfile.py
            ruff check src tests noxfile.py

        [testenv:type]
        base_python = python{TOOLS_PYTHON}
        deps = mypy
        commands = mypy --python-version={lowest} src

        [testenv:security]
        base_python = python{TOOLS_PYTHON}
        package = wheel
        dependency_groups =
        deps = bandit
        commands = bandit -r -q src
        """)


# -- running ----------------------------------------------------------------------------------


def _pyenv_bins() -> list[str]:
    try:
        root = subprocess.run(
            ["pyenv", "root"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        root = str(Path.home() / ".pyenv")
    return sorted(str(p) for p in Path(root).glob("versions/*/bin"))


# Python's defaults for every runner: a shell that sets PYTHONDONTWRITEBYTECODE makes each
# process compile every module it imports, a cost no user's run pays.
_SCRUBBED = {"CI", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX"}


def handwritten_env() -> dict[str, str]:
    """The hand-written noxfile's (and tox's) environment: every Python of the machine on PATH.

    The pyenv shims expose one Python; without the others nox would skip their test sessions
    ("Python interpreter 3.12 not found") and the baseline would do less work than noxops,
    which finds interpreters itself."""
    return _env(_pyenv_bins())


def skipped_sessions(log: Path) -> list[str]:
    """Sessions a run skipped (nox's summary), so a runner that did less work is not counted."""
    text = log.read_text(encoding="utf-8", errors="replace")
    return re.findall(r"^nox > \* (\S+): skipped", text, flags=re.MULTILINE)


# The sessions whose tools exit 1 when they find something. A real project has findings
# (more-itertools is not black-clean under noxops's defaults, mypy and bandit find things):
# that is work done, every tool of the session still runs, under noxops as in the floor.
CHECKS = ("lint", "type", "security")


def failed_sessions(log: Path) -> list[str]:
    """Sessions a nox run failed or aborted (nox's summary)."""
    text = log.read_text(encoding="utf-8", errors="replace")
    return re.findall(r"^nox > \* (\S+): (?:failed|aborted)", text, flags=re.MULTILINE)


def _env(extra_path: Sequence[str] = ()) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    env.update({"NO_COLOR": "1", "FORCE_COLOR": "0", "PY_COLORS": "0"})
    env["PATH"] = os.pathsep.join([*extra_path, env.get("PATH", "")])
    return env


def _clean(project: Path, *names: str) -> None:
    for name in names:
        target = project / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


_CACHES = (".mypy_cache", ".ruff_cache", ".pytest_cache", "reports")


def _timed(
    label: str,
    argv: Sequence[str],
    project: Path,
    logs: Path,
    env: dict[str, str] | None = None,
    *,
    findings: Sequence[str] = (),
) -> Timing:
    """Run ``argv`` and time it. It did the whole work when it skipped nothing and exited 0,
    or, for a nox run, when the sessions it failed are exactly ``findings`` (a real project's
    check sessions: :data:`CHECKS`)."""
    log = logs / (re.sub(r"[^A-Za-z0-9]+", "-", label).strip("-") + ".log")
    start = time.perf_counter()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    with log.open("w", encoding="utf-8") as fh:
        proc = subprocess.run(
            list(argv),
            cwd=project,
            env=env or _env(),
            stdout=fh,
            stderr=subprocess.STDOUT,
            check=False,
        )
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (usage.ru_utime + usage.ru_stime)
    skipped = skipped_sessions(log)
    failed = failed_sessions(log) if findings else []
    done = (proc.returncode == 0) if not findings else sorted(failed) == sorted(findings)
    timing = Timing(label, seconds, done and not skipped, log, cpu)
    state = "ok" if timing.ok else f"FAILED (exit {proc.returncode}, see {log})"
    if timing.ok and failed:
        state = f"ok (findings: {', '.join(failed)} failed, as expected)"
    if skipped:
        state = f"DID LESS: skipped {', '.join(skipped)} (see {log})"
    print(f"  {label:<44} {seconds:7.1f} s  (cpu {cpu:6.1f} s)  {state}", flush=True)
    return timing


def floor_sessions(
    project: Path,
    pythons: Sequence[str],
    *,
    sources: Sequence[str] = ("src",),
    tests: str = "tests/unit",
    lint: Sequence[str] = ("black", "isort", "ruff"),
) -> dict[str, list[list[str]]]:
    """What noxops runs in each session, as plain commands with the environments' tools: the
    same arguments (:func:`same_work` checks them against a noxops log), except that each
    Python's coverage XML is made by ``coverage xml``, which noxops does at the end of the
    pytest run, in its process. A command may start with ``NAME=value`` settings.
    ``sources``, ``tests`` and the ``lint`` tools (formatter, import sorter, linters) are the
    project's (the fixture's by default)."""
    nox_dir = project / ".nox"
    reports = project / "reports"
    bindir = nox_dir / "lint" / "bin"
    paths = [*sources, tests.split("/", maxsplit=1)[0], "noxfile.py"]
    checks = {  # by the names noxops's lint stage gives its checks
        "black": ["black", "--check", "--diff", *paths],
        "ruff format": ["ruff", "format", "--check", "--diff", *paths],
        "isort": ["isort", "--check-only", "--diff", *paths],
        "ruff": ["ruff", "check", "--no-fix", "--output-format=concise", *paths],
        "flake8": ["flake8", "--format=default", f"--output-file={reports / 'flake8.txt'}",
                   "--tee", *paths],
    }  # fmt: skip
    unknown = [name for name in lint if name not in checks]
    if unknown:
        raise SystemExit(f"the floor has no lint command for {', '.join(unknown)}")
    found = {"lint": [[str(bindir / checks[n][0]), *checks[n][1:]] for n in lint]}
    if "ruff" in lint:  # ruff's findings as JSON for the report, after the checks
        found["lint"].append(
            [str(bindir / "ruff"), "check", "--no-fix", "--exit-zero", "--output-format=json",
             f"--output-file={reports / 'ruff.json'}", *paths]
        )  # fmt: skip
    found |= {
        # noxops's type stage targets the Python mypy runs on (mypy's default)
        "type": [[str(nox_dir / "type" / "bin" / "mypy"),
                  f"--junit-xml={reports / 'mypy-junit.xml'}", *sources]],
        "security": [[str(nox_dir / "security" / "bin" / "bandit"), "-r", "-q", "-f", "json",
                      "-o", str(reports / "bandit.json"), *sources]],
    }  # fmt: skip
    for py in pythons:
        cov = str(nox_dir / f"tests-{py.replace('.', '-')}" / "bin" / "coverage")
        env = [f"COVERAGE_FILE={reports / 'coverage' / f'.coverage.{py}'}"]
        if py in {"3.12", "3.13"}:  # noxops measures with sys.monitoring there
            env.append("COVERAGE_CORE=sysmon")
        found[f"tests-{py}"] = [
            [*env, cov, "run", f"--source={','.join(sources)}", "-m", "pytest",
             f"--junitxml={reports / f'junit-{py}.xml'}", "-o", f"junit_suite_name=tests-{py}",
             tests],
            [*env, cov, "xml", "-q", "-o", str(reports / f"coverage-{py}.xml")],
        ]  # fmt: skip
    return found


def _split_env(cmd: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """A floor command's leading ``NAME=value`` settings, and the command."""
    env: dict[str, str] = {}
    rest = list(cmd)
    while rest and re.match(r"^[A-Z_]+=", rest[0]):
        name, _, value = rest.pop(0).partition("=")
        env[name] = value
    return env, rest


def _logged(noxops_log: Path, programs: set[str]) -> list[list[str]]:
    """The commands of ``programs`` a noxops log shows (``nox > black ...``), as tool name and
    arguments, without noxops's pytest plugin (``-p noxops_pytest_plugin``)."""
    ran: list[list[str]] = []
    for line in noxops_log.read_text(encoding="utf-8", errors="replace").splitlines():
        words = line.removeprefix("nox > ").split()
        if line.startswith("nox > ") and words and words[0] in programs:
            if "-p" in words and words[words.index("-p") + 1 : words.index("-p") + 2] == [
                "noxops_pytest_plugin"
            ]:
                del words[words.index("-p") : words.index("-p") + 2]
            ran.append(words)
    return ran


def same_work(noxops_log: Path, sessions: dict[str, list[list[str]]]) -> list[str]:
    """How the floor's commands differ from the tool commands noxops logged (``nox > black
    ...``), by tool name and arguments; empty when they are the same work. noxops's pytest
    plugin (``-p noxops_pytest_plugin``: the per-Python XML, in process) and the floor's
    ``coverage xml`` are that one difference, left out."""
    floor = [_split_env(c)[1] for cmds in sessions.values() for c in cmds]
    wanted = [[Path(c[0]).name, *c[1:]] for c in floor if c[1:2] != ["xml"]]
    # Every program of the environments the floor uses: a tool noxops ran that the floor does
    # not know of (a project's own flake8) is work the floor left out, and is told.
    bins = {Path(c[0]).parent for c in floor}
    programs = {p.name for b in bins if b.is_dir() for p in b.iterdir() if os.access(p, os.X_OK)}
    ran = _logged(noxops_log, programs | {c[0] for c in wanted})
    only_floor = [" ".join(c) for c in wanted if c not in ran]
    only_noxops = [" ".join(c) for c in ran if c not in wanted]
    return [f"floor only: {c}" for c in only_floor] + [f"noxops only: {c}" for c in only_noxops]


def _floor(project: Path, logs: Path, sessions: dict[str, list[list[str]]], n: int) -> Timing:
    """The floor's commands one after another; any failure stops it, except a check's
    findings (exit 1), which it notes as ``floor: findings in <session>`` and goes on."""
    script = logs / "floor.sh"
    lines = ["set -e", f"cd {project}", f"mkdir -p {project / 'reports' / 'coverage'}"]
    for name, cmds in sessions.items():
        for cmd in cmds:
            env, argv = _split_env(cmd)
            prefix = ["env", *(f"{k}={v}" for k, v in env.items())] if env else []
            line = " ".join(_quote(c) for c in [*prefix, *argv])
            if name in CHECKS:
                line += f" || {{ test $? -eq 1; echo 'floor: findings in {name}'; }}"
            lines.append(line)
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    label = "floor: the tools directly, one after another"
    return _timed(_nth(label, n), ["sh", str(script)], project, logs)


def nox_alone_noxfile(sessions: dict[str, list[list[str]]]) -> str:
    """The floor's commands as plain nox sessions (no environments: ``python=False``, each
    tool from noxops's environment): what nox itself costs, a process per session under
    ``-j 2``, without noxops. A check's findings (exit 1) do not stop its session, as in the
    floor. Each session allows running side by side, as noxops's do: nox runs the others one
    after another in its own process, whatever ``-j`` says."""
    text = '"""The floor\'s commands as plain nox sessions: nox\'s own cost."""\n\nimport nox\n'
    for i, (name, cmds) in enumerate(sessions.items()):
        text += (
            f"\n\n@nox.session(python=False, name={name!r}, allow_parallel=True)\n"
            f"def s{i}(session):\n"
        )
        codes = ", success_codes=[0, 1]" if name in CHECKS else ""
        for cmd in cmds:
            env, argv = _split_env(cmd)
            text += f"    session.run(*{argv!r}, env={env!r}{codes})\n"
    return text


def floor_findings(log: Path) -> list[str]:
    """The check sessions whose tools found something in a floor run (:func:`_floor`)."""
    text = log.read_text(encoding="utf-8", errors="replace")
    return sorted(set(re.findall(r"^floor: findings in (\S+)$", text, flags=re.MULTILINE)))


def real_project(work: Path, pythons: Sequence[str], name: str) -> tuple[Path, str, dict[str, Any]]:
    """A real project of ``benchmarks/changes.py`` (``name``: its key there, or its name on
    PyPI), fetched and set up by that script (its sdist pinned by sha256, its own tools'
    configuration kept, ``[tool.noxops]`` appended, a git repository): its folder, its title
    and the paths its floor checks (:func:`floor_sessions`)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import changes  # it imports this script: only when a real project is asked

    releases = {r.requirement.split("==")[0]: r for r in changes.RELEASES.values()}
    releases.update(changes.RELEASES)
    if name not in releases:
        raise SystemExit(f"--project: {name!r} is not fixture or one of {', '.join(releases)}")
    project = changes.released(work, pythons, releases[name])
    # Its formatter, import sorter and linters as noxops picks them from its configuration
    # (more-itertools: black and its setup.cfg's flake8; no import sorter), by the names of
    # lint's checks; same_work checks the commands.
    config = load(project.root)
    chosen = tools.choices(config)
    lint = [{"ruff": "ruff format"}.get(chosen["formatter"].tool, chosen["formatter"].tool)]
    if chosen["imports"].tool != "none":
        lint.append({"ruff": "ruff isort"}.get(chosen["imports"].tool, chosen["imports"].tool))
    lint += tools.linter_names(config)
    paths = {"sources": project.sources, "tests": project.tests, "lint": lint}
    return project.root, releases[name].title, paths


def _nth(label: str, n: int) -> str:
    return label if n == 1 else f"{label} ({n})"


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _reinstalled(log: Path) -> list[str]:
    """Sessions whose environment the run recreated or installed into."""
    found: list[str] = []
    current = None
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        match = re.search(r"Running session (\S+)", line)
        if match:
            current = match.group(1)
        installing = "recreating it" in line or "uv pip install" in line
        if current and installing and current not in found:
            found.append(current)
    return found


def _tox(work: Path, logs: Path) -> Path | None:
    venv = work / "tox-venv"
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", "tox>=4.22"],
            check=True,
            stdout=(logs / "tox-install.log").open("w"),
            stderr=subprocess.STDOUT,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"  tox could not be installed ({exc}); skipping it", flush=True)
        return None
    return venv / "bin" / "tox"


def _best(a: Timing | None, b: Timing | None) -> Timing | None:
    done = [x for x in (a, b) if x is not None]
    return min(done, key=lambda x: (not x.ok, x.seconds)) if done else None


def _least(runs: Sequence[Timing | None]) -> Timing | None:
    """The rounds of one runner as one row: the shortest wall time and, from whichever round
    it came, the least CPU time (a busy machine only ever adds to either)."""
    done = [x for x in runs if x is not None and x.ok]
    if not done:
        return None
    best = min(done, key=lambda x: x.seconds)
    return Timing(best.label, best.seconds, True, best.log, min(x.cpu for x in done))


def _row(label: str, t: Timing | None, floor: Timing | None, hand: float | None) -> str:
    if t is None:
        return f"| {label} | (not run) | | | | |"
    vs_hand = f"{t.seconds / hand:.2f}x" if hand else "-"
    mark = "" if t.ok else " (FAILED)"
    vs_floor = f"{t.seconds / floor.seconds:.2f}x" if floor else "-"
    cpu_vs_floor = f"{t.cpu / floor.cpu:.2f}x" if floor and floor.cpu else "-"
    return (
        f"| {label} | {t.seconds:.1f} s{mark} | {vs_floor} | {vs_hand} "
        f"| {t.cpu:.1f} s | {cpu_vs_floor} |"
    )


def main(argv: Sequence[str] | None = None) -> int:  # noqa: PLR0912, PLR0915 - one script
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pythons", default="3.10,3.11,3.12,3.13")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument("--skip-tox", action="store_true")
    parser.add_argument("--skip-handwritten", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved warm rounds (3)")
    parser.add_argument(
        "--warm-only",
        action="store_true",
        help="only the warm runs, the floor and nox alone (no cold runs, hand-written, tox)",
    )
    parser.add_argument(
        "--compare-src",
        type=Path,
        help="also time the warm noxops runs with the noxops package of this folder (the src "
        "folder of another commit's checkout, put first on PYTHONPATH), interleaved",
    )
    parser.add_argument(
        "--project",
        default="fixture",
        help="fixture (generated; the default), or a real project of benchmarks/changes.py "
        "by its PyPI name (more-itertools, pyparsing): only with --warm-only",
    )
    args = parser.parse_args(argv)
    if args.project != "fixture" and not args.warm_only:
        parser.error("--project other than the fixture needs --warm-only")
    pythons = [p.strip() for p in args.pythons.split(",") if p.strip()]
    lowest = pythons[0]
    work = args.keep or Path(tempfile.mkdtemp(prefix="noxops-bench-"))
    if args.keep and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    logs = work / "logs"
    logs.mkdir()
    paths: dict[str, Any] = {}
    if args.project == "fixture":
        project = work / "project"
        project.mkdir()
        lines, n_tests = generate_project(project, pythons)
        (project / "noxfile_handwritten.py").write_text(handwritten_noxfile(pythons, lowest))
        (project / "tox.ini").write_text(_tox_ini(pythons, lowest))
        title = f"fixture: {lines} lines in {MODULES} modules, {n_tests} unit tests"
    else:
        project, title, paths = real_project(work, pythons, args.project)
    print(
        f"{title}; Pythons {', '.join(pythons)}; {os.cpu_count()} CPUs; work folder {work}; "
        f"load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    nox = [sys.executable, "-m", "nox", "--no-color"]
    sessions = ["-s", "lint", "type", "security", "tests"]
    t: dict[str, Timing | None] = {}
    rounds: dict[str, list[Timing | None]] = {"warm": [], "warm-j": [], "floor": [], "alone": []}
    other = args.compare_src.resolve() if args.compare_src else None
    if other is not None and not (other / "noxops" / "__init__.py").is_file():
        parser.error(f"--compare-src: {other} holds no noxops package")
    other_env = {**_env(), "PYTHONPATH": str(other)} if other else None
    floor_cmds = floor_sessions(project, pythons, **paths)
    (project / "noxfile_nox_alone.py").write_text(nox_alone_noxfile(floor_cmds))

    # "Cold" removes the environments (and the reports); the tools' own caches (.mypy_cache,
    # .ruff_cache, ...) stay, as they do for the hand-written noxfile's and tox's runs. The
    # first cold run below starts without them too, so each cold figure is the better of two.
    parallel = [*nox, "-j", "2", *sessions]
    _clean(project, ".nox", *_CACHES)
    findings: list[str] = []
    if args.warm_only:
        made = _timed("noxops, making the environments (not counted)", [*nox, *sessions],
                      project, logs)  # fmt: skip
        # A real project's findings fail its check sessions in every run: the warm runs count
        # when they fail exactly those (and the floor finds something in the same ones).
        findings = failed_sessions(made.log)
        if set(findings) - set(CHECKS):
            raise SystemExit(f"noxops failed {', '.join(findings)} (see {made.log}): no "
                             "benchmark of a project whose tests fail")  # fmt: skip
    else:
        t["cold"] = _timed("noxops cold, sequential", [*nox, *sessions], project, logs)
        _clean(project, ".nox", "reports")
        t["cold-j"] = _timed("noxops cold, -j 2", parallel, project, logs)
    # The warm runs, the floor and nox alone, interleaved: on a shared machine one round can be
    # 30% off.
    alone = [*nox, "-f", "noxfile_nox_alone.py", "-j", "2"]
    variants = [("", None, "warm")] + ([(", compared code", other_env, "other")] if other else [])
    for n in range(1, args.rounds + 1):
        # with --compare-src, the two codes take turns to go first
        for suffix, env, key in variants if n % 2 else variants[::-1]:
            rounds.setdefault(key, []).append(
                _timed(_nth(f"noxops warm, sequential{suffix}", n), [*nox, *sessions], project,
                       logs, env, findings=findings)
            )  # fmt: skip
            rounds.setdefault(f"{key}-j", []).append(
                _timed(_nth(f"noxops warm, -j 2{suffix}", n), parallel, project, logs, env,
                       findings=findings)
            )  # fmt: skip
        rounds["floor"].append(_floor(project, logs, floor_cmds, n))
        rounds["alone"].append(_timed(_nth("nox alone, -j 2", n), alone, project, logs))
    first = rounds["warm"][0]
    differences = same_work(first.log, floor_cmds) if first else ["no warm noxops run"]
    compared = rounds.get("other", [None])[0]
    if compared is not None:
        differences += [f"compared code: {d}" for d in same_work(compared.log, floor_cmds)]
    # noxops fails a check only where its tools found something (bandit's findings below the
    # tolerated severity pass the security stage: found by the floor, not failed by noxops).
    for floor_run in rounds["floor"]:
        found = floor_findings(floor_run.log) if floor_run else findings
        if not set(findings) <= set(found):
            differences.append(
                f"findings: noxops failed {', '.join(findings)}, the floor's tools found "
                f"something in {', '.join(found) or 'none'}"
            )
    if not args.warm_only:
        _clean(project, ".nox", "reports")
        t["cold2"] = _timed("noxops cold, sequential (again)", [*nox, *sessions], project, logs)
        _clean(project, ".nox", "reports")
        t["cold-j2"] = _timed("noxops cold, -j 2 (again)", parallel, project, logs)
        # What preparing environments ahead is worth: the same cold run with it turned off.
        _clean(project, ".nox", "reports")
        t["cold-off"] = _timed("noxops cold, sequential, no prepare-ahead", [*nox, *sessions],
                               project, logs, {**_env(), "NOXOPS_PREPARE_AHEAD": "0"})  # fmt: skip

    hand_argv = [*nox, "-f", "noxfile_handwritten.py", "--envdir", ".nox-hand"]
    t["hand"] = None
    if not args.skip_handwritten and not args.warm_only:
        hand_env = handwritten_env()
        _timed("hand-written noxfile (priming pip's cache)", hand_argv, project, logs, hand_env)
        # Best of two: the baseline gets the benefit of the doubt, which makes targets harder.
        t["hand"] = _best(
            _timed("hand-written noxfile", hand_argv, project, logs, hand_env),
            _timed("hand-written noxfile (2)", hand_argv, project, logs, hand_env),
        )

    t["tox-cold"] = t["tox-warm"] = None
    if not args.skip_tox and not args.warm_only:
        tox = _tox(work, logs)
        if tox is not None:
            tox_env = handwritten_env()
            tox_argv = [str(tox), "--workdir", str(work / "tox-work")]
            t["tox-cold"] = _timed("tox 4, first run", tox_argv, project, logs, tox_env)
            t["tox-warm"] = _timed("tox 4, second run", tox_argv, project, logs, tox_env)

    # A dependency change: only the environments installing the test group may reinstall.
    reinstalled: list[str] | None = None
    again: list[str] | None = None
    if not args.warm_only:
        pyproject = project / "pyproject.toml"
        pyproject.write_text(
            pyproject.read_text().replace('test = ["pytest"]', 'test = ["pytest", "iniconfig"]')
        )
        t["dep"] = _timed("noxops after a test-group change", [*nox, *sessions], project, logs)
        reinstalled = _reinstalled(t["dep"].log) if t["dep"] else []
        t["after"] = _timed("noxops warm after that", [*nox, *sessions], project, logs)
        again = _reinstalled(t["after"].log) if t["after"] else []

    best_floor = _least(rounds["floor"])
    best_warm = _least(rounds["warm"])
    best_warm_j = _least(rounds["warm-j"])
    best_alone = _least(rounds["alone"])
    best_other, best_other_j = _least(rounds.get("other", [])), _least(rounds.get("other-j", []))
    floor = best_floor.seconds if best_floor else float("nan")
    floor_cpu = best_floor.cpu if best_floor else float("nan")
    warm = best_warm.seconds if best_warm else float("inf")
    warm_j = best_warm_j.seconds if best_warm_j else float("inf")
    warm_j_cpu = best_warm_j.cpu if best_warm_j else float("inf")
    hand = t["hand"].seconds if t["hand"] else None
    cold = _best(t.get("cold"), t.get("cold2"))
    cold_j = _best(t.get("cold-j"), t.get("cold-j2"))
    n = args.rounds
    print()
    print(
        f"wall time: the shortest of the rounds; CPU time: the least (user + system of "
        f"everything the run started); load average {os.getloadavg()[0]:.1f} at the end"
    )
    print()
    print("| runner | wall time | vs floor | vs hand-written | CPU time | CPU vs floor |")
    print("|---|---:|---:|---:|---:|---:|")
    rows = [
        (f"floor: tools directly, sequential (best of {n})", best_floor),
        (f"nox alone: the floor's commands as nox sessions, -j 2 (best of {n})", best_alone),
        (f"noxops warm, sequential (best of {n})", best_warm),
        (f"noxops warm, -j 2 (best of {n})", best_warm_j),
        (f"noxops warm, sequential, code of {other} (best of {n})", best_other),
        (f"noxops warm, -j 2, code of {other} (best of {n})", best_other_j),
        ("noxops cold, sequential (best of 2)", cold),
        ("noxops cold, -j 2 (best of 2)", cold_j),
        ("noxops cold, sequential, prepare-ahead off", t.get("cold-off")),
        ("hand-written noxfile (virtualenv, no reuse; best of 2)", t["hand"]),
        ("tox 4, first run", t["tox-cold"]),
        ("tox 4, second run (envs reused)", t["tox-warm"]),
    ]  # fmt: skip
    for label, timing in rows:
        if (timing is not None or not args.warm_only) and (other or "code of" not in label):
            print(_row(label, timing, best_floor, hand))
    print()
    print("same work as the floor: " + ("yes" if not differences else "NO"))
    if findings:
        print(f"  (the project's findings fail {', '.join(findings)} under noxops and the floor)")
    for line in differences:
        print(f"  {line}")
    print("targets:")
    checks = [
        ("warm noxops <= 0.5x hand-written", hand is not None and warm <= 0.5 * hand),
        ("warm noxops sequential <= 1.2x floor", warm <= 1.2 * floor),
        ("warm noxops -j 2 <= 0.8x floor", warm_j <= 0.8 * floor),
        ("warm noxops -j 2, CPU time <= 1.10x the floor's", warm_j_cpu <= 1.10 * floor_cpu),
        *([("warm noxops -j 2, compared code, CPU time <= 1.10x the floor's",
            best_other_j.cpu <= 1.10 * floor_cpu)] if best_other_j else []),
        ("cold noxops sequential <= 0.5x hand-written",
         hand is not None and cold is not None and cold.seconds <= 0.5 * hand),
        ("cold noxops -j 2 <= 0.5x hand-written",
         hand is not None and cold_j is not None and cold_j.seconds <= 0.5 * hand),
    ]  # fmt: skip
    for text, passed in checks:
        print(f"  [{'x' if passed else ' '}] {text}")
    print()
    if reinstalled is not None:
        shown = ", ".join(reinstalled) or "-"
        print(f"after adding iniconfig to the test group: reinstalled {shown}")
        print(f"the run after that reinstalled: {', '.join(again or []) or 'nothing'}")
    print(f"logs: {logs}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
        print("(work folder removed; pass --keep DIR to keep the project, envs and logs)")
    timed = [*t.values(), *(x for runs in rounds.values() for x in runs)]
    failed = [x.label for x in timed if x is not None and not x.ok]
    if differences:
        print("the floor did other work than noxops (above): its ratios do not count")
    if failed:
        print(f"FAILED runs: {', '.join(failed)}")
    return 1 if failed or differences else 0


if __name__ == "__main__":
    sys.exit(main())
