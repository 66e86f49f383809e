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
- ``${{ ... }}`` in a ``run:``/``env:`` is replaced by the test's values: ``matrix.python``
  (3.11, one entry of the matrix), ``github.*`` for a push to ``main``, ``secrets.*`` by the
  empty string GitHub gives for a secret the repository does not have (the example has
  none); any other expression fails the test, so a new one is noticed;
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

    def __post_init__(self) -> None:
        self.artifacts = self.root / "artifacts"
        self.uv_cache = self.root / "uv-cache"
        self.artifacts.mkdir()
        self.uv_cache.mkdir()

    def github(self) -> dict[str, str]:
        return {
            "event_name": "push",
            "ref": "refs/heads/main",
            "ref_name": "main",
            "sha": self.commit,
            "repository": "acme/service",
            "server_url": "https://github.com",
            "run_id": "1",
            "workflow": "CI",
            "actor": "ci",
            "workspace": WORKSPACE,
        }

    def substitute(self, text: str) -> str:
        """``text`` with its ``${{ ... }}`` replaced by the test's values."""

        def value(match: re.Match[str]) -> str:
            expression = match[1]
            scope, _, name = expression.partition(".")
            if scope == "matrix" and name in MATRIX:
                return MATRIX[name]
            if scope == "github" and name in self.github():
                return self.github()[name]
            if scope == "secrets" and re.fullmatch(r"\w+", name):
                return ""  # as on GitHub for a secret the repository does not have
            raise AssertionError(f"the test has no value for ${{{{ {expression} }}}}")

        return EXPRESSION_RE.sub(value, text)

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


def _uses(step: Mapping[str, Any], workspace: Path, runner: Runner, log: list[str]) -> str:
    """Does what the ``uses:`` step would; the shell command left to run in the job, if any."""
    action = str(step["uses"]).split("@")[0]
    given = {str(k): runner.substitute(str(v)) for k, v in (step.get("with") or {}).items()}
    if action == "actions/checkout":
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


def _if(step: Mapping[str, Any], failed: bool) -> bool:
    """Whether the step runs; the conditions the generator writes on steps, no others."""
    condition = str(step.get("if", ""))
    if not condition:
        return not failed
    if condition.startswith("${{ !cancelled()"):
        return True
    raise AssertionError(f"the test cannot evaluate if: {condition}")


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
    try:
        for step in job["steps"]:
            title = runner.substitute(str(step.get("name") or step.get("uses") or step.get("run")))
            if not _if(step, failed):
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
