"""The example's generated GitHub workflow, its jobs' ``run:`` steps executed on this machine.

This is an approximation of the GitHub runner, not the runner: no GitHub Actions interpreter
runs here. The test reads ``examples/service``'s committed ``.github/workflows/ci.yml`` and, for
each job it covers (in ``needs`` order, as a push to ``main`` would run them), does what the
runner would:

- the job runs in a ``python:<the job's setup-python version>-slim`` container (local
  stand-ins; nothing is pulled) on a user-defined network labelled for this test, with the
  checkout mounted as its workspace; each ``run:`` step is ``bash -e -c <run>`` in it, in
  order, with the workflow's, the job's and the step's ``env:`` applied, and the runner's own
  variables (``CI``, ``GITHUB_ACTIONS``, ``GITHUB_REF``, ``GITHUB_SHA`` of the checkout, ...);
- the job's ``services:`` run from their images with their ``env:`` and ``options:`` (the
  health checks, waited for). A job on a GitHub-hosted runner reaches them at
  ``localhost:<published port>``, so here they share the job container's network namespace
  (``localhost`` is theirs too), and the job container carries their names as aliases on the
  network, as a container job would reach them;
- ``uses:`` steps are replaced by their effect: ``actions/checkout`` by a fresh copy of the
  example as a one-commit repository on ``main``; ``actions/setup-python`` by the image's
  Python; ``astral-sh/setup-uv`` by ``pip install uv`` (its cache by a uv cache folder shared
  by the jobs); ``actions/upload-artifact``/``download-artifact`` by copying the folders
  (reports/, dist/, image/) through a host folder, merged as ``merge-multiple`` does;
  ``github/codeql-action/upload-sarif`` is not run (there is no code scanning here);
  ``actions/cache/restore`` and ``actions/cache/save`` by a host folder of entries by key:
  restore copies the exact key's entry, else the newest whose key starts with a restore key
  (none on this first run), save copies the paths (no entry is saved twice);
- ``${{ ... }}`` in a ``run:``/``env:``/``with:``/``if:`` is evaluated with the test's
  values: ``matrix.python`` (3.11, one entry of the matrix), ``github.*`` for a push to
  ``main``, ``secrets.*`` and ``vars.*`` by the empty string GitHub gives for one the
  repository does not have (the example has none), ``steps.<id>.outputs.*`` of the job's
  earlier steps, and the functions and operators the generator writes (``hashFiles``,
  ``format``, ``startsWith``, ``endsWith``, ``!``, ``&&``, ``||``, ``==``); any other name
  fails the test, so a new one is noticed;
- the build, smoke and load jobs get the host's Docker socket and docker CLI mounted (a hosted
  runner has both; its job runs on the Docker host, here noxops sees it is in a container and
  joins it to the smoke network).

Where this machine differs from a real runner, the test adapts only through variables and
mounts, never the generated file: noxops is not published, so its wheel, built from this
checkout, is mounted at ``/noxops-wheels`` and found through ``UV_FIND_LINKS``,
``PIP_FIND_LINKS`` and ``NOXOPS_REQUIREMENT``; the stand-ins' scripts folders are on ``PATH``;
``UV_NATIVE_TLS=true`` makes uv, and ``REQUESTS_CA_BUNDLE`` pip-audit, trust the machine's CA
that the stand-ins carry.

Every job's steps must exit 0, asserted by job name; each job's log is kept in the test's tmp
folder (``<job>.log``). Every container and network the test starts carries a label with this
test's owner and is removed at the end, also on failure.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.example_ci import EXAMPLE, STANDIN_SCRIPTS, build_noxops_wheel, checkout_example
from support.traces import OWNER_ENV

WORKFLOW = EXAMPLE / ".github" / "workflows" / "ci.yml"
# The jobs run, in an order their needs allow; the value is what the test expects.
# (The example configures no Sonar project and no notifications: no sonar or notify job.)
JOBS = [
    "lint", "type", "security", "tests", "coverage", "integration", "build", "smoke", "load",
    "report",
]  # fmt: skip
MATRIX = {"python": "3.11"}
LABEL = "org.noxops.test.github-steps"
SMOKE_LABEL = "org.noxops.smoke.owner"
WORKSPACE = "/github/workspace"
FILES = "/github/files"  # $GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY, the event payload
DOCKER_JOBS = {"build", "smoke", "load"}
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
EXPRESSION_RE = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
STEP_TIMEOUT = 1200  # seconds; the job's own timeout-minutes are longer than this test's budget

pytestmark = [pytest.mark.slow, pytest.mark.docker, pytest.mark.timeout(2400)]


def _docker(*args: str, check: bool = True, timeout: float = 300) -> str:
    proc = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and proc.returncode:
        raise AssertionError(f"docker {shlex.join(args)}: {proc.stderr.strip()}")
    return proc.stdout.strip()


def _shown(value: object) -> str:
    """A value as GitHub writes it into a string."""
    return str(value).lower() if isinstance(value, bool) else str(value)


@dataclass
class Runner:
    """What the jobs of one workflow run share: its values, network and artifact store."""

    root: Path
    owner: str
    commit: str
    checkout: Path  # the example as actions/checkout leaves it
    wheels: Path
    docker_cli: Path
    network: str = ""
    artifacts: Path = field(init=False)
    uv_cache: Path = field(init=False)
    cache: Path = field(init=False)  # actions/cache's entries, a folder each, by key
    saved: list[str] = field(default_factory=list)  # their keys, oldest first
    workspace: Path = field(init=False)  # the running job's (hashFiles reads it)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)  # its steps', by id

    def __post_init__(self) -> None:
        self.artifacts = self.root / "artifacts"
        self.uv_cache = self.root / "uv-cache"
        self.cache = self.root / "actions-cache"
        self.workspace = self.root
        for folder in (self.artifacts, self.uv_cache, self.cache):
            folder.mkdir()

    def github(self) -> dict[str, str]:
        return {
            "event_name": "push",
            "ref": "refs/heads/main",
            "ref_name": "main",
            "sha": self.commit,
            "repository": "acme/service",
            "server_url": "https://github.com",
            "run_id": "1",
            "run_attempt": "1",
            "workflow": "CI",
            "actor": "ci",
            "workspace": WORKSPACE,
        }

    def substitute(self, text: str) -> str:
        """``text`` with its ``${{ ... }}`` replaced by their values."""
        return EXPRESSION_RE.sub(lambda match: _shown(self.evaluate(match[1])), text)

    def context(self, path: str) -> str:
        """The value of ``github.ref``, ``matrix.python``, ``steps.<id>.outputs.<name>``..."""
        scope, _, name = path.partition(".")
        if scope == "matrix" and name in MATRIX:
            return MATRIX[name]
        if scope == "github" and name in self.github():
            return self.github()[name]
        if scope in ("secrets", "vars") and re.fullmatch(r"\w+", name):
            return ""  # as on GitHub for one the repository does not have
        step, _, output = name.partition(".outputs.")
        if scope == "steps" and output:
            return self.outputs.get(step, {}).get(output, "")
        raise AssertionError(f"the test has no value for {path}")

    def hash_files(self, *patterns: str) -> str:
        """hashFiles(): a digest of the files matching ``patterns`` in the job's workspace,
        "" when none does."""
        found = sorted({p for pattern in patterns for p in self.workspace.glob(pattern)})
        files = [p for p in found if p.is_file()]
        if not files:
            return ""
        digest = hashlib.sha256()
        for path in files:
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        return digest.hexdigest()

    def evaluate(self, expression: str) -> object:
        """A ``${{ }}`` expression of the kinds the generator writes, evaluated."""
        text = re.sub(
            r"\b(?:github|matrix|secrets|vars|steps)(?:\.[\w-]+)+",
            lambda m: f"ctx({m[0]!r})",
            expression,
        )
        text = re.sub(r"!(?!=)", " not ", text).replace("&&", " and ").replace("||", " or ")
        functions = {
            "ctx": self.context,
            "hashFiles": self.hash_files,
            "format": lambda f, *a: re.sub(r"\{(\d+)\}", lambda m: str(a[int(m[1])]), f),
            "startsWith": lambda a, b: str(a).startswith(str(b)),
            "endsWith": lambda a, b: str(a).endswith(str(b)),
            "cancelled": lambda: False,
        }
        return eval(text, {"__builtins__": {}}, functions)  # noqa: S307 - the test's own

    def runner_env(self) -> dict[str, str]:
        env = {f"GITHUB_{key.upper()}": value for key, value in self.github().items()}
        env.update(
            CI="true",
            GITHUB_ACTIONS="true",
            GITHUB_EVENT_PATH=f"{FILES}/event.json",
            GITHUB_OUTPUT=f"{FILES}/output",
            GITHUB_ENV=f"{FILES}/env",
            GITHUB_PATH=f"{FILES}/path",
            GITHUB_STEP_SUMMARY=f"{FILES}/summary.md",
            RUNNER_OS="Linux",
            RUNNER_TEMP="/tmp",
            # what this machine needs (see the module docstring)
            PATH=":".join([*STANDIN_SCRIPTS, BASE_PATH]),
            UV_NATIVE_TLS="true",
            REQUESTS_CA_BUNDLE=CA_BUNDLE,  # pip-audit's requests: not its own certifi bundle
            UV_FIND_LINKS="/noxops-wheels",
            PIP_FIND_LINKS="/noxops-wheels",
            NOXOPS_REQUIREMENT="/noxops-wheels",
            NOXOPS_OWNER=self.owner,
        )
        return env


def _python_of(job: Mapping[str, Any], runner: Runner) -> str:
    for step in job["steps"]:
        if str(step.get("uses", "")).startswith("actions/setup-python@"):
            text = runner.substitute(str(step["with"]["python-version"]))
            versions = {line.strip() for line in text.splitlines() if line.strip()}
            assert len(versions) == 1, f"one stand-in image per job, not {versions}"
            return versions.pop()
    raise AssertionError("the job sets up no Python")


def _env(runner: Runner, *blocks: Mapping[str, Any] | None) -> dict[str, str]:
    env: dict[str, str] = {}
    for block in blocks:
        for key, value in (block or {}).items():
            env[str(key)] = runner.substitute(str(value))
    return env


def _start_services(job: Mapping[str, Any], container: str, runner: Runner) -> None:
    started = []
    for name, service in (job.get("services") or {}).items():
        argv = ["run", "-d", "--label", f"{LABEL}={runner.owner}"]
        argv += ["--name", f"{container}-{name}", "--network", f"container:{container}"]
        for key, value in _env(runner, service.get("env")).items():
            argv += ["-e", f"{key}={value}"]
        argv += shlex.split(service.get("options", ""))
        started.append(_docker(*argv, str(service["image"])))
    deadline = time.monotonic() + 180
    for service_id in started:
        while True:
            status = _docker("inspect", "-f", "{{.State.Health.Status}}", service_id)
            if status == "healthy":
                break
            assert time.monotonic() < deadline, f"service {service_id[:12]} is {status}"
            time.sleep(2)


def _copy_into(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, target, dirs_exist_ok=True, symlinks=True)


def _restore_cache(step: Mapping[str, Any], given: Mapping[str, str], runner: Runner) -> str:
    """actions/cache/restore: the exact key's entry, else the newest a restore key prefixes;
    copied into the workspace; its outputs; what the log says."""
    key = given["key"]
    prefixes = [line.strip() for line in given.get("restore-keys", "").splitlines() if line]
    matched = key if key in runner.saved else ""
    for prefix in prefixes:
        newer = [k for k in reversed(runner.saved) if k.startswith(prefix)]
        matched = matched or (newer[0] if newer else "")
    if step.get("id"):
        hit = str(matched == key).lower()
        runner.outputs[str(step["id"])] = {"cache-hit": hit, "cache-matched-key": matched}
    if not matched:
        return f"cache not found for {key}"
    _copy_into(runner.cache / matched, runner.workspace)
    return f"restored {matched}"


def _save_cache(given: Mapping[str, str], runner: Runner) -> str:
    """actions/cache/save: the paths (globs) from the workspace under the key, once."""
    key = given["key"]
    if key in runner.saved:
        return f"not saved: {key} exists"
    entry = runner.cache / key
    for pattern in given["path"].splitlines():
        for found in runner.workspace.glob(pattern.strip().rstrip("/")):
            target = entry / found.relative_to(runner.workspace)
            if found.is_dir():
                _copy_into(found, target)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(found, target)
    entry.mkdir(exist_ok=True)
    runner.saved.append(key)
    return f"saved {key}"


def _uses(step: Mapping[str, Any], workspace: Path, runner: Runner, log: list[str]) -> str:
    """Does what the ``uses:`` step would; the shell command left to run in the job, if any."""
    action = str(step["uses"]).split("@")[0]
    given = {str(k): runner.substitute(str(v)) for k, v in (step.get("with") or {}).items()}
    if action == "actions/cache/restore":
        log.append(_restore_cache(step, given, runner))
    elif action == "actions/cache/save":
        log.append(_save_cache(given, runner))
    elif action == "actions/checkout":
        _copy_into(runner.checkout, workspace)
    elif action == "actions/setup-python":
        return "python --version"
    elif action == "astral-sh/setup-uv":
        return "python -m pip install -q uv && uv --version"
    elif action == "actions/upload-artifact":
        source = workspace / given["path"].rstrip("/")
        if source.is_dir() and any(source.iterdir()):
            _copy_into(source, runner.artifacts / given["name"])
            log.append(f"uploaded {given['path']} as {given['name']}")
    elif action == "actions/download-artifact":
        pattern = given["pattern"]
        assert given.get("merge-multiple") == "True", step
        for artifact in sorted(runner.artifacts.glob(pattern)):
            _copy_into(artifact, workspace / given["path"])
            log.append(f"downloaded {artifact.name} into {given['path']}")
    elif action == "github/codeql-action/upload-sarif":
        log.append("not run: no code scanning here")
    else:
        raise AssertionError(f"the test has no stand-in for {action}")
    return ""


def _if(step: Mapping[str, Any], failed: bool, runner: Runner) -> bool:
    """Whether the step runs: its condition evaluated, after a failed step only when the
    condition asks for a status (``!cancelled()``), as GitHub adds ``success()`` otherwise."""
    condition = str(step.get("if", ""))
    if not condition:
        return not failed
    match = EXPRESSION_RE.fullmatch(condition.strip())
    expression = match[1] if match else condition
    if "cancelled()" not in expression and failed:
        return False
    return bool(runner.evaluate(expression))


def run_job(name: str, job: Mapping[str, Any], workflow: Mapping[str, Any], runner: Runner) -> str:
    """Runs the job's steps; ``success`` or ``failure`` (its log is ``<name>.log``)."""
    folder = runner.root / "jobs" / name
    workspace, files = folder / "workspace", folder / "files"
    workspace.mkdir(parents=True)
    files.mkdir()
    (files / "event.json").write_text(
        json.dumps({"ref": "refs/heads/main", "after": runner.commit}), encoding="utf-8"
    )
    container = f"gh-{runner.owner}-{name}"
    argv = ["run", "-d", "--name", container, "--label", f"{LABEL}={runner.owner}"]
    argv += ["--network", runner.network, "--workdir", WORKSPACE]
    for alias in job.get("services") or {}:
        argv += ["--network-alias", str(alias)]
    mounts = {workspace: WORKSPACE, files: FILES, runner.wheels: "/noxops-wheels"}
    mounts[runner.uv_cache] = "/root/.cache/uv"
    if name in DOCKER_JOBS:  # the runner's engine and its preinstalled docker CLI
        mounts[Path("/var/run/docker.sock")] = "/var/run/docker.sock"
        mounts[runner.docker_cli] = "/usr/local/bin/docker"
    for host, inside in mounts.items():
        argv += ["-v", f"{host}:{inside}"]
    image = f"python:{_python_of(job, runner)}-slim"
    _docker(*argv, image, "sleep", "infinity")
    _start_services(job, container, runner)
    base = {**runner.runner_env(), **_env(runner, workflow.get("env"), job.get("env"))}
    log: list[str] = [f"job {name} in {image}"]
    failed = False
    runner.workspace, runner.outputs = workspace, {}
    try:
        for step in job["steps"]:
            title = runner.substitute(str(step.get("name") or step.get("uses") or step.get("run")))
            if not _if(step, failed, runner):
                log.append(f"--- {title}: skipped")
                continue
            log.append(f"--- {title}")
            script = _uses(step, workspace, runner, log) if "uses" in step else str(step["run"])
            if script and not _exec(
                container, script, {**base, **_env(runner, step.get("env"))}, runner, log
            ):
                log.append(f"--- {title}: failed")
                failed = True
    finally:
        (runner.root / f"{name}.log").write_text("\n".join(log), encoding="utf-8")
        _docker("rm", "-f", "-v", container, *_ids("ps", "-aq", "--filter", f"name={container}-"))
    return "failure" if failed else "success"


def _exec(
    container: str, script: str, env: Mapping[str, str], runner: Runner, log: list[str]
) -> bool:
    """Runs one ``run:`` step as the runner does (``bash -e``); whether it exited 0."""
    argv = ["docker", "exec", "-w", WORKSPACE]
    for key, value in env.items():
        argv += ["-e", f"{key}={value}"]
    argv += [container, "bash", "-e", "-c", runner.substitute(script)]
    proc = subprocess.run(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=STEP_TIMEOUT,
        check=False,
    )
    log.append(proc.stdout)
    if proc.returncode:
        log.append(f"exit {proc.returncode}")
    return proc.returncode == 0


def _ids(*listing: str) -> list[str]:
    return _docker(*listing, check=False).split()


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[Runner]:
    owner = os.environ.get(OWNER_ENV) or uuid.uuid4().hex[:12]
    owner = re.sub(r"[^a-zA-Z0-9_.-]", "-", owner)
    checkout = tmp_path / "checkout"
    commit = checkout_example(checkout)
    wheels = tmp_path / "wheels"
    build_noxops_wheel(wheels)
    docker_cli = Path(shutil.which("docker") or "docker").resolve()
    found = Runner(tmp_path, owner, commit, checkout, wheels, docker_cli)
    try:
        found.network = _docker("network", "create", "--label", f"{LABEL}={owner}", f"gh-{owner}")
        yield found
    finally:
        for label in (f"{LABEL}={owner}", f"{SMOKE_LABEL}={owner}"):
            containers = _ids("ps", "-aq", "--filter", f"label={label}")
            if containers:
                _docker("rm", "-f", "-v", *containers, check=False)
            networks = _ids("network", "ls", "-q", "--filter", f"label={label}")
            if networks:
                _docker("network", "rm", *networks, check=False)


def _order(jobs: Mapping[str, Any]) -> list[str]:
    """The covered jobs, each after the covered jobs it needs."""
    done: list[str] = []
    while len(done) < len(JOBS):
        ready = [
            name
            for name in JOBS
            if name not in done
            and all(need in done or need not in JOBS for need in jobs[name].get("needs", []))
        ]
        assert ready, f"needs form a cycle among {set(JOBS) - set(done)}"
        done.append(ready[0])
    return done


def test_each_github_job_runs_its_steps_green(runner: Runner) -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    jobs = workflow["jobs"]
    results: dict[str, str] = {}
    for name in _order(jobs):
        job = jobs[name]
        needs = [need for need in job.get("needs", []) if need in results]
        if any(results[need] != "success" for need in needs) and "!cancelled()" not in str(
            job.get("if", "")
        ):
            results[name] = "skipped"
            continue
        results[name] = run_job(name, job, workflow, runner)
    logs = {name: runner.root / f"{name}.log" for name in results}
    failed = {
        name: logs[name].read_text(encoding="utf-8")[-6000:]
        for name, result in results.items()
        if result == "failure"
    }
    assert results == {name: "success" for name in JOBS}, f"logs in {runner.root}: {failed}"
    # the check jobs saved their records, keyed on the commit and their fingerprints
    for name in ("lint", "type", "tests"):
        prefix = f"noxops-{name}-" + ("3.11-" if name == "tests" else "") + runner.commit
        (key,) = [k for k in runner.saved if k.startswith(prefix)]
        assert list((runner.cache / key / "reports" / "fingerprints").glob("*.json")), key
    if "build" not in results:
        return
    # the image the smoke job tested is the one the build job made
    saved = re.search(r"handover: saved (sha256:\w+)", logs["build"].read_text(encoding="utf-8"))
    loaded = re.search(r"handover: loaded (sha256:\w+)", logs["smoke"].read_text(encoding="utf-8"))
    assert saved and loaded and saved[1] == loaded[1], f"logs in {runner.root}"
    # smoke reached the service through the smoke network, and left nothing behind
    assert "joining this job's container" in logs["smoke"].read_text(encoding="utf-8")
    for listing in (["ps", "-aq"], ["network", "ls", "-q"]):
        left = _ids(*listing, "--filter", f"label={SMOKE_LABEL}={runner.owner}")
        assert not left, f"smoke left {listing[0]} {left} behind"
