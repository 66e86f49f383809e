"""Side-by-side timing of doing less: replayed results, affected tests, cold runs.

Run on demand (not part of CI)::

    .venv/bin/python benchmarks/changes.py                     # every project, 2 rounds
    .venv/bin/python benchmarks/changes.py --projects real --keep /tmp/bench-changes

Three projects, each in a git repository of its own:

- ``fixture``: the generated project of ``benchmarks/pipeline.py`` (3,000 lines, 322 tests);
- ``real``: more-itertools 10.5.0, a real public project (6,000 lines of package, 664
  tests), fetched once at benchmark time as its sdist from PyPI (``pip download``,
  sha256 checked), not vendored. Its own configuration is kept; noxops's is appended;
- ``pyparsing``: pyparsing 3.2.0 the same way (about 1,800 tests, a suite of the size the
  issue measured); its test group is what its tox.ini installs except matplotlib, whose
  cases are left out.

For each, in one run and interleaved (each figure the best of ``--rounds``), it times the
pipeline (lint, type, security, tests on every Python) run by:

- the floor: the tools started directly, one after another, in the environments noxops made,
  with their defaults (``coverage run -m pytest`` then ``coverage xml``), as the issue
  defines it; and that floor with noxops's choices (sys.monitoring on 3.12/3.13), which
  gets noxops's savings for free;
- noxops warm with ``-j 2``;
- noxops cold, sequential (``.nox`` removed; tool caches kept), and a hand-written noxfile
  (virtualenv, no reuse; its second run, so pip's cache is warm);
- a no-change rerun with ``--changed-only`` after a run in which a stage failed (the fixture
  gets an unused import so lint fails; more-itertools fails lint on its own);
- one tests stage after a one-file edit with ``--changed-only`` (affected tests) against the
  same stage run in full: the stage's own duration from its session record.

The load average is printed before and after: other work on the machine moves every figure.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pipeline import (
    TOOLS_PYTHON,
    Timing,
    _clean,
    _quote,
    _timed,
    generate_project,
    handwritten_env,
    handwritten_noxfile,
    skipped_sessions,
)

__all__ = ["Project", "download_sdist", "main"]

_CACHES = (".mypy_cache", ".ruff_cache", ".pytest_cache", "reports")


@dataclass
class Project:
    """A project to time: where it is, what it checks, and the function a one-file edit hits."""

    name: str
    root: Path
    sources: list[str]
    tests: str
    edit_file: str
    edit_functions: list[str]
    test_requirements: tuple[str, ...] = ("pytest",)  # what its tests need, pytest included


def _git_init(root: Path) -> None:
    (root / ".gitignore").write_text(
        ".nox*/\n.tox/\n.venv\nreports/\n__pycache__/\n.mypy_cache/\n.pytest_cache/\n"
        ".ruff_cache/\n*.egg-info/\n"
    )
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "benchmark project"]):
        subprocess.run([*git, *cmd], cwd=root, check=True, capture_output=True)


def fixture(work: Path, pythons: Sequence[str]) -> Project:
    root = work / "fixture"
    root.mkdir()
    generate_project(root, pythons)
    # A failing stage for the no-change rerun: lint finds an unused import (added later).
    return Project("fixture", root, ["src"], "tests/unit", "src/ledgerkit/mod3.py",
                   ["f3_0", "f3_3"])  # fmt: skip


@dataclass(frozen=True)
class Release:
    """A real public project, as its sdist on PyPI (pinned by version and sha256)."""

    name: str  # the key for --projects
    requirement: str
    sha256: str
    sources: tuple[str, ...]
    tests: str
    edit_file: str
    edit_functions: tuple[str, ...]
    test_group: tuple[str, ...] = ("pytest",)
    typing_group: tuple[str, ...] = ()  # a `typing` group: the type checker the project pins
    extra_config: str = ""  # besides [tool.noxops]: only what its tests need here, said why

    @property
    def title(self) -> str:
        return f"{self.requirement} (sdist from PyPI)"


RELEASES = {
    "real": Release(
        "real", "more-itertools==10.5.0",
        "5482bfef7849c25dc3c6dd53a6173ae4795da2a41a80faea6700d9f5846c5da6",
        ("more_itertools",), "tests", "more_itertools/more.py", ("ilen", "first"),
    ),
    # A suite of the size the issue measured (about 1,800 tests, tens of seconds).
    "pyparsing": Release(
        "pyparsing", "pyparsing==3.2.0",
        "cbf74e27246d595d9a74b186b810f6fbb86726dbf3b9532efb343f6d7294fe9c",
        ("pyparsing",), "tests", "pyparsing/helpers.py", ("dict_of", "make_xml_tags"),
        # Its tox.ini installs the `diagrams` extra and matplotlib; matplotlib's mathtext
        # cases are left out instead of installing matplotlib and numpy.
        test_group=("pytest", "railroad-diagrams", "jinja2"),
        extra_config=(
            "[tool.pytest.ini_options]\n"
            'addopts = "--ignore=tests/test_matplotlib_cases.py"\n'
        ),
    ),
}  # fmt: skip


def download_sdist(work: Path, name: str, requirement: str, sha256: str) -> Path:
    """``requirement``'s sdist from PyPI (``pip download``, never a wheel), checked against
    its pinned ``sha256`` and unpacked as ``work/name``; the unpacked folder."""
    download = work / f"download-{name}"
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
         "-d", str(download), requirement],
        check=True,
    )  # fmt: skip
    sdist = next(download.glob("*.tar.gz"))
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    if digest != sha256:
        raise SystemExit(f"{sdist.name}: sha256 {digest}, expected {sha256}")
    unpacked = download / "unpacked"
    # The "data" filter: no links out, and files owned by whoever unpacks (as root, the
    # archive's owners would be kept and git would call the repository unsafe).
    shutil.unpack_archive(str(sdist), str(unpacked), filter="data")
    return next(p for p in unpacked.iterdir() if p.is_dir()).rename(work / name)


def released(
    work: Path, pythons: Sequence[str], release: Release, tools_python: str = TOOLS_PYTHON
) -> Project:
    """A released sdist from PyPI, unpacked, with noxops's configuration appended."""
    root = download_sdist(work, release.name, release.requirement, release.sha256)
    pyproject = root / "pyproject.toml"
    typing = f"typing = {list(release.typing_group)!r}" if release.typing_group else ""
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8") + "\n" + textwrap.dedent(f"""
            [dependency-groups]
            test = {list(release.test_group)!r}
            {typing}

            [tool.noxops]
            python = {list(pythons)!r}
            tools_python = "{tools_python}"

            [tool.noxops.security]
            audit = false
            """) + release.extra_config,
        encoding="utf-8",
    )
    (root / "noxfile.py").write_text("import noxops\n\nnoxops.sessions()\n", encoding="utf-8")
    _git_init(root)
    return Project(release.name, root, list(release.sources), release.tests, release.edit_file,
                   list(release.edit_functions), release.test_group)  # fmt: skip


def _handwritten(project: Project, pythons: Sequence[str]) -> str:
    return handwritten_noxfile(
        pythons,
        pythons[0],
        sources=project.sources,
        lint_paths=[*project.sources, project.tests.split("/")[0]],
        tests=project.tests,
        test_requirements=project.test_requirements,
        findings_fail=False,  # every tool runs, as in the floor and under noxops
    )


def _floor_script(
    project: Project, pythons: Sequence[str], logs: Path, *, choices: bool = False
) -> Path:
    """The pipeline's work as plain commands, one after another, in the environments noxops
    made: the tools with their defaults (the issue's floor), or, with ``choices``, measuring
    with sys.monitoring on 3.12/3.13 as noxops does (a floor that gets noxops's savings)."""
    root, nox_dir, reports = project.root, project.root / ".nox", project.root / "reports"
    lint, typ, sec = (nox_dir / n / "bin" for n in ("lint", "type", "security"))
    paths = [*project.sources, project.tests.split("/")[0], "noxfile.py"]
    cmds = [
        [str(lint / "black"), "--check", "--diff", *paths],
        [str(lint / "isort"), "--check-only", "--diff", *paths],
        [str(lint / "ruff"), "check", "--output-format=concise", *paths],
        [str(lint / "ruff"), "check", "--exit-zero", "--output-format=json",
         f"--output-file={reports / 'ruff.json'}", *paths],
        [str(typ / "mypy"), f"--python-version={pythons[0]}",
         f"--junit-xml={reports / 'mypy-junit.xml'}", *project.sources],
        [str(sec / "bandit"), "-r", "-q", "-f", "json", "-o", str(reports / "bandit.json"),
         *project.sources],
    ]  # fmt: skip
    for py in pythons:
        envdir = nox_dir / f"tests-{py.replace('.', '-')}"
        data = reports / "coverage" / f".coverage.{py}"
        env = ["env", f"COVERAGE_FILE={data}"]
        if choices and py in {"3.12", "3.13"}:
            env.append("COVERAGE_CORE=sysmon")
        cov = str(envdir / "bin" / "coverage")
        cmds += [
            [*env, cov, "run", f"--source={','.join(project.sources)}", "-m", "pytest",
             f"--junitxml={reports / f'junit-{py}.xml'}", project.tests],
            [*env, cov, "xml", "-q", "-o", str(reports / f"coverage-{py}.xml")],
        ]  # fmt: skip
    script = logs / f"floor-{project.name}{'-choices' if choices else ''}.sh"
    lines = [f"cd {_quote(str(root))}", f"mkdir -p {_quote(str(reports / 'coverage'))}"]
    lines += [" ".join(_quote(c) for c in cmd) + " || true" for cmd in cmds]  # failures count
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return script


def _stage_seconds(project: Project, session: str) -> float:
    data = json.loads((project.root / "reports" / "sessions" / f"{session}.json").read_text())
    return float(data["duration"])


def _edit(project: Project, function: str) -> None:
    """Touch one line of ``function``'s body (a comment at the end of its first return)."""
    path = project.root / project.edit_file
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if re.match(rf"\s*def {function}\(", line))
    hit = next(i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("return"))
    lines[hit] = lines[hit].rstrip("\n") + "  # edited\n"
    path.write_text("".join(lines), encoding="utf-8")


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def _best(*runs: Timing | None) -> Timing | None:
    """The fastest run that did the whole work (a failing stage is work done; a skipped
    session is not)."""
    done = [x for x in runs if x is not None and not skipped_sessions(x.log)]
    return min(done, key=lambda x: x.seconds) if done else None


ROWS = ("pipeline", "nochange", "edit")


def bench(  # noqa: PLR0915 - the rows in order, one script
    project: Project,
    pythons: Sequence[str],
    logs: Path,
    rounds: int,
    rows: Sequence[str] = ROWS,
) -> dict[str, float]:
    """The rows for one project (``rows``: which groups of them); the figures by name."""
    root = project.root
    nox = [sys.executable, "-m", "nox", "--no-color"]
    pipeline = ["-s", "lint", "type", "security", "tests"]
    (root / "noxfile_handwritten.py").write_text(_handwritten(project, pythons))
    hand = [*nox, "-f", "noxfile_handwritten.py", "--envdir", ".nox-hand"]
    p = f"{project.name}:"
    t: dict[str, list[Timing]] = {}

    def timed(
        key: str, label: str, argv: Sequence[str], env: dict[str, str] | None = None
    ) -> Timing:
        timing = _timed(f"{p} {label}", argv, root, logs, env)
        t.setdefault(key, []).append(timing)
        return timing

    print(f"{p} {_load()}", flush=True)
    if "pipeline" in rows:
        # Every Python on PATH for it: nox would skip the test sessions it cannot find.
        hand_env = handwritten_env()
        _timed(f"{p} hand-written noxfile (priming pip's cache)", hand, root, logs, hand_env)
        for n in range(1, rounds + 1):
            _clean(root, ".nox", *_CACHES)
            timed("cold", f"noxops cold, sequential ({n})", [*nox, *pipeline])
            timed("hand", f"hand-written noxfile, cold ({n})", hand, hand_env)
        for n in range(1, rounds + 1):
            timed("warm-j", f"noxops warm, -j 2 ({n})", [*nox, "-j", "2", *pipeline])
            timed("floor", f"floor ({n})", ["sh", str(_floor_script(project, pythons, logs))])
            choices = _floor_script(project, pythons, logs, choices=True)
            timed("floor-choices", f"floor with noxops's choices ({n})", ["sh", str(choices)])

    failing: list[str] = []
    # No-change rerun after a run with a failing stage.
    if "nochange" in rows:
        if project.name == "fixture":
            module = root / project.edit_file
            text = module.read_text(encoding="utf-8")
            module.write_text(text + "\n\nimport os  # unused: lint fails\n", encoding="utf-8")
        only = [*nox, *pipeline, "--", "--changed-only"]
        recorded = timed("record", "noxops --changed-only, recording (a stage fails)", only)
        found = re.findall(r"Session (\S+) (?:failed|aborted)", recorded.log.read_text())
        failing += sorted(set(found))
        print(f"{p} failing stages: {', '.join(failing) or 'none'}", flush=True)
        for n in range(1, rounds + 1):
            timed("nochange", f"noxops --changed-only, nothing changed ({n})", only)

    # A one-file edit: the affected tests of one Python against that stage run in full.
    py = pythons[-1]
    tests = f"tests-{py}"
    full_stage: list[float] = []
    edit_stage: list[float] = []
    edits = project.edit_functions[:rounds] if "edit" in rows else []
    for n, function in enumerate(edits, start=1):
        timed("full-tests", f"{tests} in full ({n})", [*nox, "-s", tests])
        full_stage.append(_stage_seconds(project, tests))
        timed("map", f"{tests} full, mapping tests to lines ({n})",
              [*nox, "-s", tests, "--", "--changed-only", "--no-cache"])  # fmt: skip
        _edit(project, function)
        run = timed("edit", f"{tests} after a one-file edit, affected only ({n})",
                    [*nox, "-s", tests, "--", "--changed-only"])  # fmt: skip
        edit_stage.append(_stage_seconds(project, tests))
        picked = re.search(r"runs (\d+ of \d+ tests)", run.log.read_text())
        what = picked.group(1) if picked else "all tests"
        print(
            f"{p}   ran {what}; stage {edit_stage[-1]:.1f} s against {full_stage[-1]:.1f} s "
            "in full",
            flush=True,
        )
    print(f"{p} {_load()}", flush=True)

    def best(key: str) -> float:
        found = _best(*t.get(key, []))
        return found.seconds if found else float("nan")

    return {
        "floor": best("floor"),
        "floor-choices": best("floor-choices"),
        "warm-j": best("warm-j"),
        "cold": best("cold"),
        "hand": best("hand"),
        "nochange": best("nochange"),
        "full-stage": min(full_stage) if full_stage else float("nan"),
        "edit-stage": min(edit_stage) if edit_stage else float("nan"),
        "failing": float(len(failing)),
    }


def _report(name: str, f: dict[str, float]) -> list[str]:
    """The project's table; rows that were not run (``--rows``) are left out."""
    rows = [f"### {name}", "", "| row | time | ratio | target | met |", "|---|---:|---:|---|---|"]
    if not math.isnan(f["floor"]):
        rows += [
            f"| floor: the tools directly, sequential | {f['floor']:.1f} s | 1.00x floor | | |",
            f"| floor with noxops's choices (sys.monitoring on 3.12+) | "
            f"{f['floor-choices']:.1f} s | {f['floor-choices'] / f['floor']:.2f}x floor | | |",
            f"| hand-written noxfile, cold | {f['hand']:.1f} s | 1.00x hand-written | | |",
        ]
        checks = [
            ("noxops warm, `-j 2`", f["warm-j"], f["warm-j"] / f["floor"], "x floor", 0.55),
            (
                "noxops warm, `-j 2`, against the floor with its choices",
                f["warm-j"],
                f["warm-j"] / f["floor-choices"],
                "x that floor",
                0.55,
            ),
            ("noxops cold, sequential", f["cold"], f["cold"] / f["hand"], "x hand-written", 0.5),
        ]
        for label, seconds, ratio, unit, limit in checks:
            met = "yes" if ratio <= limit else "no"
            rows.append(
                f"| {label} | {seconds:.1f} s | {ratio:.2f}{unit} | <= {limit}{unit} | {met} |"
            )
    nochange = f["nochange"]
    if not math.isnan(nochange):
        rows.append(
            f"| `--changed-only`, nothing changed, {int(f['failing'])} stage(s) failing | "
            f"{nochange:.1f} s | | < 3 s | {'yes' if nochange < 3 else 'no'} |"
        )
    ratio = f["edit-stage"] / f["full-stage"]
    if not math.isnan(ratio):
        rows.append(
            f"| tests stage after a one-file edit (affected) vs in full | "
            f"{f['edit-stage']:.1f} s vs {f['full-stage']:.1f} s | {ratio:.2f}x | <= 0.3x | "
            f"{'yes' if ratio <= 0.3 else 'no'} |"
        )
    return [*rows, ""]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pythons", default="3.11,3.12")
    parser.add_argument("--projects", default=",".join(["fixture", *RELEASES]))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--rows", default=",".join(ROWS), help=f"which rows, of {', '.join(ROWS)} (default: all)"
    )
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args(argv)
    pythons = [p.strip() for p in args.pythons.split(",") if p.strip()]
    work = args.keep or Path(tempfile.mkdtemp(prefix="noxops-changes-"))
    if args.keep and work.exists():
        shutil.rmtree(work)
    logs = work / "logs"
    logs.mkdir(parents=True)
    print(f"{_load()}; Pythons {', '.join(pythons)}; work folder {work}", flush=True)
    out: list[str] = []
    for name in [n.strip() for n in args.projects.split(",") if n.strip()]:
        if name == "fixture":
            project, title = fixture(work, pythons), "generated fixture"
        elif name in RELEASES:
            project, title = released(work, pythons, RELEASES[name]), RELEASES[name].title
        else:
            raise SystemExit(f"--projects: {name!r} is not one of fixture, {', '.join(RELEASES)}")
        rows = [r.strip() for r in args.rows.split(",") if r.strip() in ROWS]
        figures = bench(project, pythons, logs, args.rounds, rows)
        out += _report(title, figures)
    print()
    print("\n".join(out))
    print(_load())
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
