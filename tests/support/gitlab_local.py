"""Running a generated ``.gitlab-ci.yml`` under ``gitlab-ci-local`` on this machine's engine.

``gitlab-ci-local`` (installed by .ci/setup.d/40-ci-tools.sh) runs the file with its docker
executor: each job in its ``image:``, services as GitLab ``services:``, Docker jobs with the
host's socket. Where this machine differs from a real runner, the run adapts only through
``--variable``/``--volume`` options, never the generated file:

- noxops is not published: its wheel, built from this checkout, is mounted at
  ``/noxops-wheels`` and found through ``UV_FIND_LINKS`` (and ``NOXOPS_REQUIREMENT`` for the
  sessions that install noxops into their own environments);
- the stand-in ``python:3.X-slim`` images are pyenv builds whose scripts folder is not on
  ``PATH`` (the official images install to /usr/local/bin): ``PATH`` lists them;
- a TLS-intercepting proxy stands between this machine and the package index:
  ``UV_NATIVE_TLS=true`` makes uv trust the system CA bundle the stand-ins carry;
- gitlab-ci-local 4.75.1 reads ``cache:fallback_keys`` in its schema only: :func:`fall_back`
  does what GitLab does on a miss of a job's key, from the generated file.

The log is kept (``log``) and every job's PASS/FAIL/WARN parsed from it.
"""

from __future__ import annotations

import os
import re
import shutil
import string
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from support.example_ci import STANDIN_SCRIPTS

__all__ = ["TOOLS", "GitlabRun", "fall_back", "gitlab_ci_local", "run_pipeline"]

TOOLS = Path(os.environ.get("NOXOPS_CI_TOOLS", "/opt/noxops-ci-tools")) / "node_modules/.bin"
# Job variables reach the service containers too: the stand-in postgres:15 needs its bin folder.
IMAGE_PATH = (
    "/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)
# " PASS  coverage      77% coverage": the job's name, then (after 2+ spaces, or one when the
# name is the longest) a note: the coverage figure; with --timestamps, " PASS  [   12 s] lint"
RESULT_RE = re.compile(
    r"^\s*(PASS|FAIL|WARN)\s+(?:\[[^\]]*\]\s+)?(\S.*?)"
    r"(?:\s{2,}.*|\s+\d+(?:\.\d+)?% coverage)?\s*$"
)


@dataclass(frozen=True)
class GitlabRun:
    """One gitlab-ci-local run: each job's result by name, its whole output, where it is kept."""

    results: dict[str, str]
    output: str
    log: Path

    def failure(self) -> str:
        """What an assertion shows: where the log is and its tail."""
        return f"log kept at {self.log}:\n{self.output[-20000:]}"


def gitlab_ci_local() -> str:
    """The gitlab-ci-local executable; skips the test (with how to install it) when absent."""
    gcl = shutil.which("gitlab-ci-local") or shutil.which("gitlab-ci-local", path=str(TOOLS))
    if not gcl:
        pytest.skip("gitlab-ci-local is not installed (run .ci/setup.d/40-ci-tools.sh)")
    if not shutil.which("rsync"):
        pytest.skip("gitlab-ci-local needs rsync (run .ci/setup.d/40-ci-tools.sh)")
    return gcl


def run_pipeline(
    repository: Path,
    wheels: Path,
    log: Path,
    *,
    jobs: Sequence[str] = (),
    variables: dict[str, str] | None = None,
    options: Sequence[str] = (),
    timeout: int = 3600,
) -> GitlabRun:
    """Runs ``repository``'s ``.gitlab-ci.yml`` (only ``jobs`` when given, by name; a matrix
    job's name runs all its Pythons) with noxops's wheels from ``wheels``; ``options`` are more
    of gitlab-ci-local's own (``--timestamps``, ``--unset-variable CI_COMMIT_BRANCH``)."""
    gcl = gitlab_ci_local()
    wanted = {
        "PATH": ":".join([*STANDIN_SCRIPTS, IMAGE_PATH]),
        "UV_NATIVE_TLS": "true",
        "UV_FIND_LINKS": "/noxops-wheels",
        "NOXOPS_REQUIREMENT": "/noxops-wheels",
        **(variables or {}),
    }
    argv = [
        gcl,
        "--volume", "/var/run/docker.sock:/var/run/docker.sock",
        "--volume", f"{wheels}:/noxops-wheels",
    ]  # fmt: skip
    for name, value in wanted.items():
        argv += ["--variable", f"{name}={value}"]
    argv += [*options, *jobs]
    env = {**os.environ, "PATH": f"{TOOLS}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run(
        argv,
        cwd=repository,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
    log.write_text(proc.stdout, encoding="utf-8")
    results = {m[2]: m[1] for m in map(RESULT_RE.match, proc.stdout.splitlines()) if m}
    return GitlabRun(results, proc.stdout, log)


def fall_back(repository: Path, job: str, variables: dict[str, str]) -> list[str]:
    """GitLab's ``cache:fallback_keys`` for ``job``, which gitlab-ci-local does not do: each
    cache entry of the job whose key has no entry gets the first fallback key's that exists
    (``variables`` expand the keys: ``CI_COMMIT_REF_SLUG``, ``CI_DEFAULT_BRANCH``, ``PYTHON``).
    The keys restored so."""
    doc = yaml.safe_load((repository / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    entries = repository / ".gitlab-ci-local" / "cache"
    restored = []
    for cache in doc[job].get("cache", []):
        if not isinstance(cache.get("key"), str) or not cache.get("fallback_keys"):
            continue
        key = string.Template(cache["key"]).substitute(variables)
        if (entries / key).exists():
            continue
        for fallback in cache["fallback_keys"]:
            name = string.Template(fallback).substitute(variables)
            if (entries / name).is_dir():
                shutil.copytree(entries / name, entries / key)
                restored.append(name)
                break
    return restored
