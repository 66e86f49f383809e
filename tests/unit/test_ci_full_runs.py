"""The full runs of the generated pipelines keep the map a pull request's affected tests come
from (issue #28 item 2).

With ``replay = "branches"`` the default and deploy branches and tags run every check in full
and refresh the records a pull request falls back to. The ``tests`` job's records include the
map of which test covered which line, which a run keeps only with ``--changed-only`` (a plain
run measures without per-test contexts). So a full run must be ``--changed-only`` *and* forced
(``NOXOPS_FORCE``: every stage afresh, every test, a new map), and a pull request's run
``--changed-only`` alone. Each provider's value for each event is evaluated (GitLab's shell
line run by ``sh``) and handed to what the session reads: :func:`noxops.incremental.changed.
requested` and :func:`~noxops.incremental.changed.forced`.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fixtures.ci_projects import fake_stages

from noxops.ci import github, gitlab, jenkins
from noxops.ci.model import CIPipeline, build_pipeline
from noxops.config import Config, load
from noxops.incremental import changed

yaml = pytest.importorskip("yaml")

# event -> (GitHub's ref, GitLab's variables, Jenkins' variables, a full run?)
EVENTS: dict[str, tuple[str, dict[str, str], dict[str, str], bool]] = {
    "pull request": (
        "refs/pull/1/merge",
        {"CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "1"},
        {"BRANCH_NAME": "PR-1", "CHANGE_TARGET": "main"},
        False,
    ),
    "feature branch": (
        "refs/heads/feature/x",
        {"CI_COMMIT_BRANCH": "feature/x"},
        {"BRANCH_NAME": "feature/x"},
        False,
    ),
    "main": ("refs/heads/main", {"CI_COMMIT_BRANCH": "main"}, {"BRANCH_NAME": "main"}, True),
    "develop": (
        "refs/heads/develop",
        {"CI_COMMIT_BRANCH": "develop"},
        {"BRANCH_NAME": "develop"},
        True,
    ),
    "tag": ("refs/tags/v1.2.0", {"CI_COMMIT_TAG": "v1.2.0"}, {"TAG_NAME": "v1.2.0"}, True),
}


def _pipeline(tmp_path: Path) -> tuple[Config, CIPipeline]:
    root = tmp_path / "lib"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "lib"\n[tool.noxops]\npython = ["3.12"]\n'
        '[tool.noxops.ci]\njenkins_cache = "/var/cache/noxops"\n',
        encoding="utf-8",
    )
    config = load(root)
    return config, build_pipeline(config, fake_stages(integration=False, image=False))


def _session_reads(
    config: Config, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> tuple[bool, bool]:
    """(--changed-only, forced) as a tests session sees them in ``env``."""
    with monkeypatch.context() as patched:
        for name in (changed.ENV_VAR, changed.FORCE_ENV):
            patched.delenv(name, raising=False)
        for name, value in env.items():
            patched.setenv(name, value)
        session: Any = SimpleNamespace(name="tests-3.12", posargs=[])
        return changed.requested(session, config), changed.forced(session)


def _github(expr: str, ref: str) -> str:
    """A ``${{ ... }}`` of refs, ``&&``, ``||``, strings and ``vars.NOXOPS_FORCE`` (unset)."""
    if not expr.startswith("${{"):
        return expr
    text = expr.removeprefix("${{").removesuffix("}}")
    text = re.sub(r"startsWith\(github\.ref, '([^']*)'\)", r"ref.startswith('\1')", text)
    text = text.replace("github.ref", "ref").replace("vars.NOXOPS_FORCE", "''")
    text = text.replace("&&", " and ").replace("||", " or ")
    assert re.fullmatch(r"[\w\s'()=./*-]*", text), f"unexpected expression {expr!r}"
    return str(eval(text, {"__builtins__": {}}, {"ref": ref}))  # noqa: S307


def _groovy(value: str, env: dict[str, str]) -> str:
    """A Jenkinsfile ``environment`` value: a quoted string, or ``"${cond ? a : b}"`` over
    ``env.X``, ``?:``, ``in [...]``, ``||`` and ``params.NOXOPS_FORCE`` (false)."""
    if value.startswith("'"):
        return value.strip("'")
    found = re.fullmatch(r'"\$\{(.*) \? (\'[^\']*\') : (.*)\}"', value)
    assert found, f"unexpected value {value!r}"
    cond, then, other = found.groups()
    cond = re.sub(
        r"env\.(\w+)(?: \?: ('[^']*'))?", lambda m: f"(env.get('{m[1]}') or {m[2]})", cond
    ).replace("||", " or ")
    other = other.replace("params.NOXOPS_FORCE", "'false'")
    chosen = then if eval(cond, {"__builtins__": {}}, {"env": env}) else other  # noqa: S307
    return str(eval(chosen, {"__builtins__": {}}, {}))  # noqa: S307


def _shell(line: str, env: dict[str, str]) -> dict[str, str]:
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    said = subprocess.run(
        ["sh", "-c", f'{line}\necho "$NOXOPS_CHANGED_ONLY,$NOXOPS_FORCE"'],
        env={**base, **env}, capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip()  # fmt: skip
    only, force = said.split(",")
    return {changed.ENV_VAR: only, changed.FORCE_ENV: force}


def test_full_runs_are_forced_changed_only_runs_and_pull_requests_changed_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, pipeline = _pipeline(tmp_path)
    workflow = yaml.safe_load(github.render(pipeline))["jobs"]["tests"]["env"]
    doc = yaml.safe_load(gitlab.render(pipeline))["tests"]
    line = next(s for s in doc["script"] if changed.ENV_VAR in s)
    jenkinsfile = jenkins.render(pipeline)
    stage = jenkinsfile[jenkinsfile.index("stage('tests')") :]
    assigned = dict(re.findall(r"^\s*(NOXOPS_\w+) = (.*)$", stage, re.MULTILINE))
    for event, (ref, gitlab_vars, jenkins_vars, full) in EVENTS.items():
        seen = {
            "github": {k: _github(v, ref) for k, v in workflow.items() if k.startswith("NOXOPS_")},
            "gitlab": _shell(line, gitlab_vars),
            "jenkins": {k: _groovy(v, jenkins_vars) for k, v in assigned.items()},
        }
        for provider, env in seen.items():  # full: every test and a new map; else affected
            assert _session_reads(config, env, monkeypatch) == (True, full), (event, provider)
