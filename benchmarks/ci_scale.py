"""CI at scale (issue #28): a real project's generated GitLab pipeline run three times under
gitlab-ci-local with its local cache, and its suite split into four shards with real nox.

Run on demand (not part of CI); it prints ratios from one run::

    .venv/bin/python benchmarks/ci_scale.py --keep /tmp/ci-scale       # both parts
    .venv/bin/python benchmarks/ci_scale.py --parts shards             # the shards only
    .venv/bin/python benchmarks/ci_scale.py --parts ci --gitignore range_check.html

The project: pyparsing 3.2.0's sdist from PyPI (1,818 tests; sha256 checked, nothing
vendored: ``changes.py``'s :func:`released`), adopted as a user would: ``[tool.noxops]`` with
one Python (3.12, to keep the run bounded), a noxfile of three lines, and the project's own
choices where noxops's defaults would fail its default branch: mypy pinned as its tox.ini
pins it, no formatter or import sorter (it configures none: black 24+ would reformat it), ruff
for errors only. Its code is never changed but for the one-file edit of the third run.

**CI replay** (``--parts ci``): ``noxops ci generate gitlab``, then the jobs lint, type,
security, tests and coverage, each in its own gitlab-ci-local run one after another (a fleet
of runners; 2 cores here), timed whole (cache and artifacts included) and, from the job log's
timestamps, its ``nox`` command:

1. cold, on ``main`` (the default branch runs in full and saves the records);
2. no change, a push of branch ``feature/nochange`` at main's commit: each check job's nox
   time at most 0.1x of run 1, the total of job times at most 0.25x;
3. a one-file edit (a line of ``pyparsing/helpers.py``) on a merge-request pipeline from
   ``feature/edit``: the tests job at most 0.3x of run 1.

With ``--job-image`` the jobs run in a team's CI image: the default one (``python:3.12-slim``)
with uv, this checkout's noxops wheel and nox installed, built here and named in
``[tool.noxops.ci] image``; a job's own installs then find everything in place.

gitlab-ci-local 4.75.1 does not read ``cache:fallback_keys``: before runs 2 and 3 the branch's
entries are restored from main's as GitLab would (:func:`support.gitlab_local.fall_back`).

**Shards** (``--parts shards``), in a copy of the project with one planted failing test (a test
file of its own): ``nox -s tests-3.12`` (unsharded, a full run that records the durations),
then ``--shard k/4`` for k = 1..4 one after another, then ``nox --no-dependencies -s coverage``
(``-s coverage`` alone would run its ``requires``, the unsharded tests, again): the longest
shard at most 0.3x the unsharded run, combined coverage within 0.1 point of the unsharded
figure, and the same failing tests.

The load average is printed beside the tables: other work on the machine moves every figure.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # support.*
sys.path.insert(0, str(Path(__file__).resolve().parent))

from changes import RELEASES, Project, _edit, _load, released
from pipeline import _timed
from support.example_ci import build_noxops_wheel, commit_all
from support.gitlab_local import fall_back, run_pipeline

from noxops.reports.cobertura import read_coverage
from noxops.reports.junit import read_junit

__all__ = ["JobTime", "job_result", "job_time", "main", "verdict"]

HERE = Path(__file__).resolve().parent

PYTHON = "3.12"
# pyparsing's own choices (tox.ini pins mypy; it configures no formatter, import sorter or
# linter), so that its default branch passes as it does in its own CI.
RELEASE = dataclasses.replace(
    RELEASES["pyparsing"],
    typing_group=("mypy==1.11.2",),
    extra_config=RELEASES["pyparsing"].extra_config
    + '\n[tool.noxops.lint]\nformatter = "none"\nimport_sorter = "none"\n'
    + 'ruff_args = ["--select=E9,F63,F7,F82"]\n',
)
EDITED = "dict_of"  # the function of pyparsing/helpers.py whose return line run 3 edits
JOBS = ("lint", "type", "security", "tests", "coverage")
CHECKS = ("lint", "type", "security")
MERGE_REQUEST = {  # what GitLab sets on a merge-request pipeline (it has no CI_COMMIT_BRANCH)
    "CI_PIPELINE_SOURCE": "merge_request_event",
    "CI_MERGE_REQUEST_IID": "1",
    "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature/edit",
    "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
}
SHARDS = 4
PLANTED = "tests/test_zz_ci_scale_planted.py"

# "[07:51:49    21 s] lint     $ nox ...": gitlab-ci-local --timestamps (pretty-hrtime units)
_STAMP = re.compile(r"^\[\d\d:\d\d:\d\d\s+([\d.]+) (h|min|s|ms|μs|ns)\] (.*)$")
_UNITS = {"h": 3600.0, "min": 60.0, "s": 1.0, "ms": 1e-3, "μs": 1e-6, "ns": 1e-9}
_SAID = re.compile(r"noxops: (?:\S+ (?:is up to date|runs|ran shard)|the coverage gate|ignoring)")


@dataclass
class JobTime:
    """One CI job: its result, its whole run (cache and artifacts included), its script as
    gitlab-ci-local times it, its ``nox`` command, and what noxops said it did."""

    job: str
    result: str
    wall: float
    script: float = math.nan
    nox: float = math.nan
    said: tuple[str, ...] = ()
    setup: float = math.nan  # before its first command: the container, the caches restored
    installs: float = math.nan  # its commands before nox: uv, then noxops and nox

    @property
    def outside(self) -> float:
        """Around the script: gitlab-ci-local's start, the caches and artifacts saved."""
        return self.wall - self.script


def job_time(job: str, shown: str, result: str, wall: float, output: str) -> JobTime:
    """A job's times from its ``--timestamps`` log (``shown``: the job's name there, ``tests:
    [3.12]``): ``nox`` from the line that starts it to the next command's (the cache prune
    after it), else to the line that ends the job (``finished in``, also on a failure)."""
    first = started = after = ended = math.nan
    said: list[str] = []
    for line in output.splitlines():
        stamp = _STAMP.match(line)
        if not stamp:
            continue
        elapsed = float(stamp[1]) * _UNITS[stamp[2]]
        text = stamp[3].removeprefix(shown).strip()
        if text.startswith("$ ") and math.isnan(first):
            first = elapsed
        if text.startswith("$ nox ") and math.isnan(started):
            started = elapsed
        elif text.startswith("$ ") and not math.isnan(started) and math.isnan(after):
            after = elapsed
        elif text.startswith("finished in "):
            ended = elapsed
        found = _SAID.search(text)
        if found:
            said.append(text[found.start() :][:240])
    nox = (ended if math.isnan(after) else after) - started
    return JobTime(job, result, wall, ended, nox, tuple(said), first, started - first)


def job_result(results: dict[str, str], job: str) -> tuple[str, str]:
    """``job``'s name in the log (``tests: [3.12]`` for a matrix job) and its PASS/FAIL: its
    own line, not a warning's (a merge request's run warns ``WARN  Avoid overriding ...``)."""
    mine = [(k, v) for k, v in results.items() if k == job or k.startswith(f"{job}: ")]
    return mine[0] if mine else (job, "no result")


def verdict(value: float, limit: float) -> str:
    """PASS when ``value`` is a measured ratio within ``limit``; never for a missing figure."""
    if math.isnan(value):
        return "FAIL (not measured)"
    return "PASS" if value <= limit else "FAIL"


def _ratio(a: float, b: float) -> float:
    return a / b if b and not math.isnan(a) and not math.isnan(b) else math.nan


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


# -- the project ------------------------------------------------------------------------------


def project(work: Path, ignored: Sequence[str] = (), image: str = "") -> Project:
    """pyparsing as a repository on ``main`` with noxops adopted and its generated
    ``.gitlab-ci.yml`` committed; ``ignored``: more .gitignore patterns; ``image``: the jobs'
    image (``[tool.noxops.ci] image``), else noxops's default."""
    release = RELEASE
    if image:
        ci = f'\n[tool.noxops.ci]\nimage = "{image}"\n'
        release = dataclasses.replace(RELEASE, extra_config=RELEASE.extra_config + ci)
    adopted = released(work, [PYTHON], release, tools_python=PYTHON)
    root = adopted.root
    _git(root, "branch", "-m", "main")
    _git(root, "remote", "add", "origin", "https://example.invalid/acme/pyparsing.git")
    with (root / ".gitignore").open("a", encoding="utf-8") as fh:
        fh.write(".gitlab-ci-local/\n.cache/\n")  # gitlab-ci-local's state, the jobs' uv cache
        fh.writelines(f"{pattern}\n" for pattern in ignored)
    noxops = Path(sys.executable).parent / "noxops"
    subprocess.run([str(noxops), "ci", "generate", "gitlab"], cwd=root, check=True)
    commit_all(root, "CI: noxops ci generate gitlab")
    return adopted


# -- CI replay ----------------------------------------------------------------------------------

JOB_IMAGE = "noxops-bench/ci-job:{python}"
# uv, then this checkout's noxops wheel and nox, as a job on the default image installs them
INSTALL = (
    "python -m pip install --quiet uv && UV_FIND_LINKS=/wheels uv pip install --system --quiet"
)


def job_image(wheels: Path, work: Path) -> str:
    """A team's CI image: the job image noxops generates by default with uv, the noxops wheel
    and nox installed, so a job's own installs find everything there, their bytecode and the
    standard library's compiled, as docs/ci.md advises (a job's container is new each time:
    without it, every job compiles nox and noxops again, about 0.25 s of each nox start). Its
    name, with ``{python}`` left for noxops to fill."""
    context = work / "job-image"
    shutil.copytree(wheels, context / "wheels")
    (context / "Dockerfile").write_text(
        f"FROM python:{PYTHON}-slim\nCOPY wheels /wheels\n"
        f"RUN {INSTALL} --compile-bytecode noxops nox && python -m compileall -q "
        "\"$(python -c 'import sysconfig; print(sysconfig.get_path(\"stdlib\"))')\" > /dev/null\n",
        encoding="utf-8",
    )
    tag = JOB_IMAGE.format(python=PYTHON)
    built = subprocess.run(
        ["docker", "build", "-q", "-t", tag, str(context)],
        check=False,
        capture_output=True,
        text=True,
    )
    if built.returncode != 0:  # the engine's legacy-builder notice is not worth showing
        sys.exit(f"docker build of the job image failed:\n{built.stdout}{built.stderr}")
    print(f"job image {tag}: python:{PYTHON}-slim with uv, noxops and nox installed", flush=True)
    return JOB_IMAGE


def pipeline_run(
    root: Path,
    wheels: Path,
    logs: Path,
    n: int,
    *,
    variables: dict[str, str] | None = None,
    options: Sequence[str] = (),
) -> dict[str, JobTime]:
    """The jobs, each in its own gitlab-ci-local run, timed; the artifacts a run copied back
    are removed first (a job gets its ``needs``' artifacts, never an earlier pipeline's)."""
    shutil.rmtree(root / "reports", ignore_errors=True)
    out: dict[str, JobTime] = {}
    for job in JOBS:
        start = time.perf_counter()
        run = run_pipeline(
            root, wheels, logs / f"run{n}-{job}.log", jobs=[job], variables=variables,
            options=["--timestamps", *options],
        )  # fmt: skip
        wall = time.perf_counter() - start
        shown, result = job_result(run.results, job)
        out[job] = job_time(job, shown, result, wall, run.output)
        t = out[job]
        print(f"  run {n} {job}: {result}, job {t.wall:.1f} s, nox {t.nox:.1f} s", flush=True)
        for line in t.said[:3]:
            print(f"    {line}", flush=True)
    return out


# In a fresh container of the jobs' image, as a job starts: nox where a job has it (a job on
# the default image installs it first, as the generated script does), then one `nox -l` on a
# noxfile with one empty session, timed in the container.
_NOX_START = f"""
command -v nox >/dev/null 2>&1 || {{ {INSTALL} noxops nox; }} >/dev/null 2>&1
mkdir -p /tmp/bare && cd /tmp/bare && printf '%s\\n' 'import nox' '' \
  '@nox.session(python=False)' 'def lint(session):' '    pass' > noxfile.py
python -c 'import subprocess, time
start = time.perf_counter()
subprocess.run(["nox", "-l"], check=True, capture_output=True)
print(round(time.perf_counter() - start, 3))'
"""


def nox_start(image: str, wheels: Path, rounds: int = 3) -> float:
    """nox's own start in a job: ``nox -l`` on a one-session noxfile without noxops, in a new
    container of the jobs' image each round (a job's is new, bytecode and all); the least."""
    times = []
    for _ in range(rounds):
        ran = subprocess.run(
            ["docker", "run", "--rm", "-v", f"{wheels}:/wheels:ro", image, "sh", "-c", _NOX_START],
            check=False, capture_output=True, text=True,
        )  # fmt: skip
        if ran.returncode == 0 and ran.stdout.strip():
            times.append(float(ran.stdout.split()[-1]))
    return min(times) if times else math.nan


def _restore_from_main(root: Path, branch: str) -> None:
    slug = re.sub(r"[^a-z0-9]", "-", branch.lower())
    keys = {"PYTHON": PYTHON, "CI_COMMIT_REF_SLUG": slug, "CI_DEFAULT_BRANCH": "main"}
    restored = [k for job in (*CHECKS, "tests") for k in fall_back(root, job, keys)]
    print(f"  {branch}: restored {', '.join(restored) or 'nothing'} by fallback_keys", flush=True)


def ci_part(
    adopted: Project, wheels: Path, logs: Path, image: str
) -> tuple[list[str], list[bool]]:
    root = adopted.root
    print(f"CI replay: {_load()}", flush=True)
    print("run 1: cold, default branch main", flush=True)
    runs = [pipeline_run(root, wheels, logs, 1)]
    print(f"run 2: no change, push of feature/nochange at main's commit; {_load()}", flush=True)
    _git(root, "checkout", "-q", "-b", "feature/nochange")
    _restore_from_main(root, "feature/nochange")
    runs.append(pipeline_run(root, wheels, logs, 2))
    print(f"run 3: one-file edit, merge request from feature/edit; {_load()}", flush=True)
    _git(root, "checkout", "-q", "main")
    _git(root, "checkout", "-q", "-b", "feature/edit")
    _edit(adopted, EDITED)
    commit_all(root, f"helpers: touch {EDITED}")
    _restore_from_main(root, "feature/edit")
    unset = ["--unset-variable", "CI_COMMIT_BRANCH"]
    runs.append(pipeline_run(root, wheels, logs, 3, variables=MERGE_REQUEST, options=unset))
    print(f"CI replay done: {_load()}", flush=True)
    floor = nox_start(image, wheels)
    print(f"nox's own start in the jobs' image ({image}): {floor:.2f} s", flush=True)
    return ci_table(runs, floor)


def ci_table(runs: list[dict[str, JobTime]], floor: float) -> tuple[list[str], list[bool]]:
    """The per-job table and the targets; whether each target was met. ``floor``: nox's own
    start in the jobs' image (:func:`nox_start`), which no job that runs a session goes below."""
    rows = [
        "| job | run 1 cold (main): job / nox | run 2 no change: job / nox | ratio job / nox "
        "| run 3 merge request, one-file edit: job / nox | ratio job / nox |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for job in JOBS:
        t = [r[job] for r in runs]
        cells = [f"{x.wall:.1f} s / {x.nox:.1f} s ({x.result})" for x in t]
        r2 = f"{_ratio(t[1].wall, t[0].wall):.2f}x / {_ratio(t[1].nox, t[0].nox):.2f}x"
        r3 = f"{_ratio(t[2].wall, t[0].wall):.2f}x / {_ratio(t[2].nox, t[0].nox):.2f}x"
        rows.append(f"| {job} | {cells[0]} | {cells[1]} | {r2} | {cells[2]} | {r3} |")
    totals = [sum(r[j].wall for j in JOBS) for r in runs]
    rows.append(
        f"| total of job times | {totals[0]:.1f} s | {totals[1]:.1f} s | "
        f"{_ratio(totals[1], totals[0]):.2f}x | {totals[2]:.1f} s | "
        f"{_ratio(totals[2], totals[0]):.2f}x |"
    )
    rows += ["", "| target | measured | verdict |", "|---|---:|---|"]
    met: list[bool] = []

    def target(label: str, value: float, limit: float) -> None:
        said = verdict(value, limit)
        met.append(said == "PASS")
        rows.append(f"| {label} <= {limit}x | {value:.2f}x | {said} |")

    for job in CHECKS:
        # a failed job in either run is not a replay of a passing one
        ok = runs[0][job].result == runs[1][job].result == "PASS"
        value = _ratio(runs[1][job].nox, runs[0][job].nox) if ok else math.nan
        target(f"run 2, {job}: nox time vs run 1", value, 0.1)
    target("run 2: total of job times vs run 1", _ratio(totals[1], totals[0]), 0.25)
    ok = runs[0]["tests"].result == runs[2]["tests"].result == "PASS"
    value = _ratio(runs[2]["tests"].wall, runs[0]["tests"].wall) if ok else math.nan
    target("run 3: tests job vs run 1", value, 0.3)
    floors = ", ".join(f"{_ratio(floor, runs[0][job].nox):.2f}x of {job}'s" for job in CHECKS)
    rows += [
        "",
        f"nox's own start in the jobs' image, `nox -l` on a noxfile with one empty session and no "
        f"noxops, in a new container: {floor:.2f} s, {floors} nox time in run 1 (the least any "
        "job that runs a nox session can take).",
        "",
        "Where each job's time goes (seconds): around the script (gitlab-ci-local, saving the "
        "caches and artifacts), before its first command (the container, restoring the "
        "caches), installing uv, noxops and nox, and nox itself:",
        "",
        "| run | job | job | around | before | installs | nox |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for n, run in enumerate(runs, start=1):
        rows += [
            f"| {n} | {j} | {t.wall:.1f} | {t.outside:.1f} | {t.setup:.1f} | "
            f"{t.installs:.1f} | {t.nox:.1f} |"
            for j, t in run.items()
        ]
    rows += ["", "What noxops said in each tests job:"]
    for n, run in enumerate(runs, start=1):
        rows += [f"- run {n}: {line}" for line in run["tests"].said] or [f"- run {n}: nothing"]
    return rows, met


# -- shards -------------------------------------------------------------------------------------


def _failing(junits: Sequence[Path], root: Path) -> set[str]:
    return {case.name for path in junits for case in read_junit(path, root).failed}


def _coverage_percent(root: Path) -> float:
    """The combined figure of ``reports/coverage.xml``, as the coverage gate counts it."""
    return read_coverage(root / "reports" / "coverage.xml", root).percent


def shards_part(source: Path, work: Path, logs: Path) -> tuple[list[str], list[bool]]:
    root = work / "shards"
    shutil.copytree(
        source, root, ignore=shutil.ignore_patterns(".nox", "reports", ".gitlab-ci-local", ".cache")
    )
    (root / PLANTED).write_text(
        '"""Planted by benchmarks/ci_scale.py: one failing test the shards must report."""\n\n\n'
        "def test_planted_failure() -> None:\n"
        '    assert 1 + 1 == 3, "planted failure"\n',
        encoding="utf-8",
    )
    commit_all(root, "one planted failing test")
    nox = [sys.executable, "-m", "nox", "--no-color"]
    session = f"tests-{PYTHON}"
    print(f"Shards: {_load()}", flush=True)
    _timed("shards: install the environment", [*nox, "-s", session, "--install-only"], root, logs)
    whole = _timed(f"shards: {session} unsharded", [*nox, "-s", session], root, logs)
    whole_failing = _failing([root / "reports" / f"junit-{PYTHON}.xml"], root)
    cov = [*nox, "--no-dependencies", "-s", "coverage"]
    _timed("shards: coverage after the unsharded run", cov, root, logs)
    whole_cov = _coverage_percent(root)
    parts = []
    for k in range(1, SHARDS + 1):
        argv = [*nox, "-s", session, "--", "--shard", f"{k}/{SHARDS}"]
        parts.append(_timed(f"shards: {session} --shard {k}/{SHARDS}", argv, root, logs))
        split = re.search(r"noxops: \S+ ran shard .*", parts[-1].log.read_text(encoding="utf-8"))
        print(f"    {split[0] if split else 'no shard line in the log'}", flush=True)
    junits = [root / "reports" / f"junit-{PYTHON}-shard{k}.xml" for k in range(1, SHARDS + 1)]
    shard_failing = _failing(junits, root)
    combined = _timed("shards: coverage after the four shards", cov, root, logs)
    said = re.search(r"combining .*", combined.log.read_text(encoding="utf-8"))
    print(f"    {said[0] if said else 'no combining line in the log'}", flush=True)
    shard_cov = _coverage_percent(root)
    print(f"Shards done: {_load()}", flush=True)

    longest = max(p.seconds for p in parts)
    rows = [
        "| run | time | vs unsharded |",
        "|---|---:|---:|",
        f"| `nox -s {session}` unsharded | {whole.seconds:.1f} s | 1.00x |",
    ]
    rows += [
        f"| `--shard {k}/{SHARDS}` | {p.seconds:.1f} s | {p.seconds / whole.seconds:.2f}x |"
        for k, p in enumerate(parts, start=1)
    ]
    rows += ["", "| target | measured | verdict |", "|---|---|---|"]
    met = [
        longest / whole.seconds <= 0.3,
        abs(shard_cov - whole_cov) <= 0.1,
        shard_failing == whole_failing,
    ]
    rows += [
        f"| longest shard <= 0.3x unsharded | {longest / whole.seconds:.2f}x "
        f"({longest:.1f} s vs {whole.seconds:.1f} s) | {verdict(longest / whole.seconds, 0.3)} |",
        f"| combined coverage within 0.1 point | {shard_cov:.2f}% vs {whole_cov:.2f}% "
        f"unsharded | {'PASS' if met[1] else 'FAIL'} |",
        f"| same failing tests | shards: {', '.join(sorted(shard_failing)) or 'none'}; "
        f"unsharded: {', '.join(sorted(whole_failing)) or 'none'} | "
        f"{'PASS' if met[2] else 'FAIL'} |",
    ]
    return rows, met


def _source_state() -> str:
    """Which noxops the wheel is built from: the commit, and whether src/ has changes on top."""
    repo = HERE.parent
    head = subprocess.run(
        ["git", "rev-parse", "--short=12", "HEAD"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    status = subprocess.run(
        ["git", "status", "--porcelain", "--", "src"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    changed = [line for line in status.splitlines() if line.strip()]
    more = f" with {len(changed)} uncommitted file(s) in src/" if changed else ""
    return f"noxops at {head}{more} (the wheel is built from the work tree)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--parts", default="ci,shards", help="which parts, of ci and shards (default: both)"
    )
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument(
        "--gitignore",
        action="append",
        default=[],
        metavar="PATTERN",
        help="a .gitignore pattern for a file the project's tests write into its work tree "
        "(repeat for more); none unless given",
    )
    parser.add_argument(
        "--job-image",
        action="store_true",
        help="run the jobs in an image with uv, noxops and nox installed (a team's CI image, "
        "[tool.noxops.ci] image), built here from python:3.12-slim and removed after",
    )
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = sorted(set(parts) - {"ci", "shards"})
    if unknown or not parts:
        parser.error(f"--parts: {', '.join(unknown) or 'none'}: give ci, shards or both")
    work = args.keep or Path(tempfile.mkdtemp(prefix="noxops-ci-scale-"))
    if args.keep and work.exists():
        shutil.rmtree(work)
    logs = work / "logs"
    logs.mkdir(parents=True)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"{started}; {_load()}; {_source_state()}; work folder {work}", flush=True)
    print(
        f"project: {RELEASE.title}, sha256 {RELEASE.sha256}; one Python ({PYTHON}) to keep "
        "the run bounded",
        flush=True,
    )
    wheels = work / "wheels"
    wheels.mkdir()
    build_noxops_wheel(wheels)
    image = job_image(wheels, work) if args.job_image else ""
    adopted = project(work, args.gitignore, image)
    if args.gitignore:
        print(f"ignored by git besides the usual: {', '.join(args.gitignore)}", flush=True)
    out: list[str] = []
    met: list[bool] = []
    if "shards" in parts:  # before the CI runs touch the project: a copy of main as committed
        rows, ok = shards_part(adopted.root, work, logs)
        out += ["", f"## Shards: N = {SHARDS}, local, real nox, one after another", "", *rows]
        met += ok
    if "ci" in parts:
        jobs_image = (image or "python:{python}-slim").format(python=PYTHON)
        rows, ok = ci_part(adopted, wheels, logs, jobs_image)
        out += ["", "## CI replay: gitlab-ci-local, its local cache, one job at a time", "", *rows]
        met += ok
    print("\n".join(out))
    print(f"\n{sum(met)} of {len(met)} targets met; {_load()}")
    if image:
        subprocess.run(
            ["docker", "rmi", "-f", image.format(python=PYTHON)], check=False, capture_output=True
        )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
