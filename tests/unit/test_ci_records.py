"""The generated pipelines carry the records cache and the test shards (issue #28 items 1, 3).

Each provider's file is read back: the check jobs restore ``reports/fingerprints/`` from the
provider's cache before their session and save it after, keyed per job (and Python, and
shard); they run with ``--changed-only`` (``NOXOPS_CHANGED_ONLY``), forced (``NOXOPS_FORCE``)
on the default and deploy branches and tags; with ``[tool.noxops.tests] shards = 2`` the tests
job becomes a job per Python and shard, each running ``-- --shard K/2``, and the coverage job
needs them all. Where the file holds shell (GitLab's replay line, Jenkins' records folder), it
is run.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fixtures.ci_projects import fake_stages, make_repository

from noxops.ci import command, github, gitlab, jenkins
from noxops.ci.model import CIPipeline, build_pipeline
from noxops.config import load
from noxops.errors import ConfigError

yaml = pytest.importorskip("yaml")

PYPROJECT = """\
[project]
name = "lib"
[tool.noxops]
python = ["3.11", "3.12"]
[tool.noxops.tests]
shards = 2
"""
CHECKS = ("lint", "type", "tests")  # security audits its dependencies: it never replays
# event -> (GitHub's ref, GitLab's variables, whether the checks replay with "branches")
EVENTS: dict[str, tuple[str, dict[str, str], str]] = {
    "pull request": ("refs/pull/1/merge", {"CI_MERGE_REQUEST_IID": "1"}, "1"),
    "feature branch": ("refs/heads/feature/x", {"CI_COMMIT_BRANCH": "feature/x"}, "1"),
    "develop": ("refs/heads/develop", {"CI_COMMIT_BRANCH": "develop"}, "0"),
    "main": ("refs/heads/main", {"CI_COMMIT_BRANCH": "main"}, "0"),
    "tag": ("refs/tags/v1.2.0", {"CI_COMMIT_TAG": "v1.2.0"}, "0"),
}
PYTHONS_SHARDS = [(py, k) for py in ("3.11", "3.12") for k in ("1", "2")]


def pipeline_of(tmp_path: Path, ci: str = "") -> CIPipeline:
    root = tmp_path / "lib"
    root.mkdir(parents=True, exist_ok=True)
    text = PYPROJECT + (f"[tool.noxops.ci]\n{ci}\n" if ci else "")
    (root / "pyproject.toml").write_text(text, encoding="utf-8")
    return build_pipeline(load(root), fake_stages(integration=False, image=False))


def matrix_values(text: str, python: str, shard: str) -> str:
    """``text`` as one matrix job sees it."""
    text = text.replace("${{ matrix.python }}", python).replace("${{ matrix.shard }}", shard)
    return text.replace('"$PYTHON"', python).replace("$PYTHON", python).replace("$SHARD", shard)


# -- GitHub ---------------------------------------------------------------------------------


def _github_value(expr: str, ref: str) -> str:
    """A ``${{ ... }}`` of refs, ``&&``, ``||`` and strings, for a run on ``ref``."""
    text = expr.strip().removeprefix("${{").removesuffix("}}")
    text = re.sub(r"startsWith\(github\.ref, '([^']*)'\)", r"ref.startswith('\1')", text)
    text = text.replace("github.ref", "ref").replace("&&", " and ").replace("||", " or ")
    assert re.fullmatch(r"[\w\s'()=./*-]*", text), f"unexpected expression {expr!r}"
    return str(eval(text, {"__builtins__": {}}, {"ref": ref}))  # noqa: S307


def _uses(step: dict[str, Any], action: str) -> bool:
    return str(step.get("uses", "")).startswith(f"{github.ACTIONS[action].repo}@")


def test_github_shards_run_as_a_python_by_shard_matrix_and_coverage_needs_them(
    tmp_path: Path,
) -> None:
    jobs = yaml.safe_load(github.render(pipeline_of(tmp_path)))["jobs"]
    tests = jobs["tests"]
    assert tests["strategy"]["matrix"] == {"python": ["3.11", "3.12"], "shard": [1, 2]}
    runs = [s["run"] for s in tests["steps"] if "nox -s" in s.get("name", "")]
    assert runs == [
        "nox --no-dependencies -s tests-${{ matrix.python }} -- --shard ${{ matrix.shard }}/2"
    ]
    assert "tests" in jobs["coverage"]["needs"]  # every shard of every Python
    upload = next(s for s in tests["steps"] if s.get("name") == "Keep reports")
    names = {matrix_values(upload["with"]["name"], py, k) for py, k in PYTHONS_SHARDS}
    assert len(names) == 4  # an artifact each: upload-artifact refuses a name twice
    download = next(s for s in jobs["coverage"]["steps"] if _uses(s, "download-artifact"))
    assert download["with"]["pattern"] == "reports-*" and download["with"]["merge-multiple"]


def test_github_check_jobs_restore_and_save_their_records_around_the_session(
    tmp_path: Path,
) -> None:
    pipeline = pipeline_of(tmp_path)
    jobs = yaml.safe_load(github.render(pipeline))["jobs"]
    saved: dict[str, str] = {}
    for name in CHECKS:
        steps = jobs[name]["steps"]
        (restore,) = [
            i for i, s in enumerate(steps) if s.get("name") == "Restore the noxops records"
        ]
        (session,) = [i for i, s in enumerate(steps) if "nox -s" in s.get("name", "")]
        (save,) = [i for i, s in enumerate(steps) if s.get("name") == "Save the noxops records"]
        assert restore < session < save, name  # saved only after a session that passed
        assert _uses(steps[restore], "cache-restore") and _uses(steps[save], "cache-save")
        assert steps[restore]["id"] == "records"
        given, kept = steps[restore]["with"], steps[save]["with"]
        assert given["path"] == kept["path"] == "reports/fingerprints/"
        assert kept["key"].startswith(given["restore-keys"])  # the next run finds it
        assert kept["key"].endswith("${{ hashFiles('reports/fingerprints/*.txt') }}")
        assert "cache-matched-key" in steps[save]["if"]  # a replay saves nothing new
        assert "always()" not in steps[save]["if"] and "cancelled" not in steps[save]["if"]
        combos = PYTHONS_SHARDS if name == "tests" else [("", "")]
        for py, k in combos:
            saved[f"{name} {py} {k}"] = matrix_values(kept["key"], py, k)
        env = jobs[name]["env"]
        assert env["NOXOPS_CHANGED_ONLY"] == "1"
        assert "|| vars.NOXOPS_FORCE }}" in env["NOXOPS_FORCE"]  # the repository variable
        for event, (ref, _, replays) in EVENTS.items():
            forced = _github_value(env["NOXOPS_FORCE"].replace("vars.NOXOPS_FORCE", "''"), ref)
            assert ("0" if forced == "1" else "1") == replays, event
    # each job (Python, shard) restores only its own records
    for job, key in saved.items():
        prefix = key.split("${{ github.sha }}")[0]
        assert [j for j, other in saved.items() if other.startswith(prefix)] == [job]
    for name in ("security", "coverage", "report"):
        steps = jobs[name]["steps"]
        assert not [s for s in steps if "records" in s.get("name", "")], name
        assert "NOXOPS_CHANGED_ONLY" not in jobs[name].get("env", {}), name
    # the shards read the durations the coverage job saves from a complete set
    durations = next(
        s for s in jobs["tests"]["steps"] if s.get("name") == "Restore the test durations"
    )
    written = next(
        s for s in jobs["coverage"]["steps"] if s.get("name") == "Save the test durations"
    )
    assert durations["with"]["path"] == written["with"]["path"] == "reports/fingerprints/*.shards/"
    assert written["with"]["key"].startswith(durations["with"]["restore-keys"])


# -- GitLab ---------------------------------------------------------------------------------


def _run_shell(line: str, env: dict[str, str], after: str) -> str:
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    proc = subprocess.run(
        ["sh", "-c", f"{line}\n{after}"], env={**base, **env}, capture_output=True,
        text=True, check=True, timeout=60,
    )  # fmt: skip
    return proc.stdout.strip()


def test_gitlab_shards_run_as_a_python_by_shard_matrix_with_their_own_junit(
    tmp_path: Path,
) -> None:
    doc = yaml.safe_load(gitlab.render(pipeline_of(tmp_path)))
    tests = doc["tests"]
    assert tests["parallel"] == {"matrix": [{"PYTHON": ["3.11", "3.12"], "SHARD": ["1", "2"]}]}
    assert tests["script"][-2] == 'nox --no-dependencies -s tests-"$PYTHON" -- --shard "$SHARD"/2'
    assert tests["artifacts"]["reports"] == {"junit": "reports/junit-$PYTHON-shard$SHARD.xml"}
    assert "coverage" not in tests  # a shard's figure is not the Python's
    assert "tests" in doc["coverage"]["needs"]


def test_gitlab_check_jobs_cache_their_records_per_branch_and_replay_off_release_refs(
    tmp_path: Path,
) -> None:
    doc = yaml.safe_load(gitlab.render(pipeline_of(tmp_path)))
    uv = doc["default"]["cache"]
    keys: dict[str, str] = {}
    for name in CHECKS:
        records, *_ = doc[name]["cache"]
        # a job's cache replaces the default's: it keeps uv's, in one archive with the records
        assert records["paths"] == ["reports/fingerprints/", *uv["paths"]]
        assert records["key"].endswith("-$CI_COMMIT_REF_SLUG")
        assert records["fallback_keys"] == [
            records["key"].replace("$CI_COMMIT_REF_SLUG", "$CI_DEFAULT_BRANCH")
        ]
        assert records.get("when", "on_success") == "on_success"  # kept when it passed
        combos = PYTHONS_SHARDS if name == "tests" else [("", "")]
        keys.update({f"{name} {py} {k}": matrix_values(records["key"], py, k) for py, k in combos})
        line = next(s for s in doc[name]["script"] if "NOXOPS_CHANGED_ONLY" in s)
        nox = next(i for i, s in enumerate(doc[name]["script"]) if s.startswith("nox "))
        assert doc[name]["script"].index(line) == nox - 1  # just before nox
        for event, (_, variables, replays) in EVENTS.items():
            said = _run_shell(line, variables, 'echo "$NOXOPS_CHANGED_ONLY,${NOXOPS_FORCE:-0}"')
            assert said == ("1,0" if replays == "1" else "1,1"), event
    assert len(set(keys.values())) == len(keys) == 2 + 4
    (durations,) = [c for c in doc["tests"]["cache"][1:]]
    assert durations["paths"] == ["reports/fingerprints/*.shards/"]
    assert durations["policy"] == "pull"
    written = doc["coverage"]["cache"][-1]
    assert written["key"] == durations["key"] and written["policy"] == "push"
    for name in ("security", "coverage", "report"):
        assert not any("NOXOPS_CHANGED_ONLY" in s for s in doc[name]["script"]), name
        assert not any("fingerprints/" in str(c) for c in doc[name].get("cache", [uv])[:1])


# -- Jenkins --------------------------------------------------------------------------------

SH_RE = re.compile(r"sh '(?!'')((?:[^'\\]|\\.)*)'")


def _sh(block: str) -> list[str]:
    """The one-line ``sh '...'`` commands of ``block``, unquoted from Groovy."""
    return [re.sub(r"\\(.)", r"\1", m) for m in SH_RE.findall(block)]


def _stage(text: str, title: str) -> str:
    start = text.index(f"stage('{title}') {{")
    depth = 0
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0 and text[i] == "}":
            return text[start : i + 1]
    raise AssertionError("unbalanced")


def test_jenkins_shards_are_a_matrix_axis_and_coverage_unstashes_every_shard(
    tmp_path: Path,
) -> None:
    text = jenkins.render(pipeline_of(tmp_path))
    tests = _stage(text, "tests")
    assert "name 'PYTHON'\n" in tests and "values '3.11', '3.12'" in tests
    assert "name 'SHARD'\n" in tests and "values '1', '2'" in tests
    assert (
        _sh(tests)[-1]
        == '.ci-venv/bin/nox --no-dependencies -s tests-"$PYTHON" -- --shard "$SHARD"/2'
    )
    assert 'stash name: "reports-tests-${PYTHON}-${SHARD}"' in tests
    assert 'testResults: "reports/junit-${PYTHON}-shard${SHARD}.xml"' in tests
    coverage = _stage(text, "coverage")
    unstashed = re.findall(r"unstash '([^']*)'", coverage)
    assert unstashed == [f"reports-tests-{py}-{k}" for py, k in PYTHONS_SHARDS]
    # no records folder configured: Jenkins does not replay across builds, and says nothing
    assert "NOXOPS_CHANGED_ONLY" not in text and "parameters" not in text


def test_jenkins_keeps_records_in_the_agents_folder_and_a_change_request_reads_its_target(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "agent-cache"
    text = jenkins.render(pipeline_of(tmp_path, f'jenkins_cache = "{cache}"'))
    assert "booleanParam(name: 'NOXOPS_FORCE', defaultValue: false" in text
    lint = _stage(text, "lint")
    assert f"args '-v {cache}:{cache}'" in lint
    assert "NOXOPS_CHANGED_ONLY = '1'" in lint
    assert (
        "NOXOPS_FORCE = \"${env.TAG_NAME || ((env.BRANCH_NAME ?: 'main') in ['main',"
        " 'develop']) ? '1' : params.NOXOPS_FORCE}\"" in lint
    )
    restore, nox, save = _sh(lint)
    assert nox == ".ci-venv/bin/nox --no-dependencies -s lint"

    def build(branch: str, workspace: Path, line: str, target: str = "") -> str:
        workspace.mkdir(parents=True, exist_ok=True)
        env = {"JOB_NAME": f"acme/lib/{branch}", "BRANCH_NAME": branch, "CHANGE_TARGET": target}
        base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        proc = subprocess.run(
            ["sh", "-c", line], cwd=workspace, env={**base, **env}, capture_output=True,
            text=True, check=True, timeout=60,
        )  # fmt: skip
        return proc.stdout

    main = tmp_path / "main"
    (main / "reports/fingerprints").mkdir(parents=True)
    (main / "reports/fingerprints/lint.json").write_text("main's\n")
    build("main", main, save)  # main's build passed: its records are kept
    pull = tmp_path / "pull"
    said = build("PR-1", pull, restore, target="main")  # a change request's first build
    assert "noxops: lint restored from" in said and "/main" in said
    assert (pull / "reports/fingerprints/lint.json").read_text() == "main's\n"
    (pull / "reports/fingerprints/lint.json").write_text("PR-1's\n")
    build("PR-1", pull, save, target="main")
    again = tmp_path / "again"
    build("PR-1", again, restore, target="main")
    assert (again / "reports/fingerprints/lint.json").read_text() == "PR-1's\n"
    assert (main / "reports/fingerprints/lint.json").read_text() == "main's\n"
    empty = tmp_path / "empty"
    build("main", empty, save)  # a build that left no records keeps the last ones
    assert len(list(cache.rglob("lint.json"))) == 2

    # the coverage job keeps the shards' durations only; a shard reads them
    coverage, shard = _stage(text, "coverage"), _stage(text, "tests")
    (kept,) = [c for c in _sh(coverage) if str(cache) in c]
    (main / "reports/fingerprints/tests-3.12.shards").mkdir()
    (main / "reports/fingerprints/tests-3.12.shards/durations.json").write_text("{}\n")
    build("main", main, kept)
    records, durations = [c for c in _sh(shard) if str(cache) in c][:2]
    cell = tmp_path / "cell"
    env = {"PYTHON": "3.12", "SHARD": "2"}
    build("main", cell, f"export PYTHON={env['PYTHON']} SHARD={env['SHARD']}; {durations}")
    assert (cell / "reports/fingerprints/tests-3.12.shards/durations.json").is_file()
    assert not (cell / "reports/fingerprints/lint.json").exists()
    assert "tests-$PYTHON-shard$SHARD" in records


# -- every provider -------------------------------------------------------------------------


def test_replay_never_runs_the_checks_in_full_and_caches_no_records(tmp_path: Path) -> None:
    """The shards still share their durations: they balance the split, they replay nothing."""
    pipeline = pipeline_of(tmp_path, 'replay = "never"\njenkins_cache = "/var/cache/noxops"')
    for text in (github.render(pipeline), gitlab.render(pipeline), jenkins.render(pipeline)):
        assert "NOXOPS_CHANGED_ONLY" not in text and "NOXOPS_FORCE" not in text
        assert "reports/fingerprints/\n" not in text and "noxops-lint-" not in text
        assert "lint/" not in text and "noxops records" not in text
        assert "--shard" in text and "durations" in text


def test_replay_always_replays_on_every_ref(tmp_path: Path) -> None:
    pipeline = pipeline_of(tmp_path, 'replay = "always"')
    jobs = yaml.safe_load(github.render(pipeline))["jobs"]
    assert jobs["lint"]["env"]["NOXOPS_CHANGED_ONLY"] == "1"
    doc = yaml.safe_load(gitlab.render(pipeline))
    assert doc["lint"]["variables"] == {"NOXOPS_CHANGED_ONLY": "1"}
    assert not any("CI_COMMIT_TAG" in s for s in doc["lint"]["script"])


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ('replay = "nevr"', "tool.noxops.ci.replay: 'nevr' is not a replay choice; use one of"),
        ('jenkins_cache = "cache"', "tool.noxops.ci.jenkins_cache: 'cache' is not an absolute"),
    ],
)
def test_a_wrong_setting_is_one_line(tmp_path: Path, setting: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        pipeline_of(tmp_path, setting)
    assert "\n" not in str(caught.value) and "pyproject.toml" in str(caught.value)


def test_projects_sharing_a_repository_keep_their_records_apart(tmp_path: Path) -> None:
    """backend/ and frontend/ of one repository: each job's cache key and paths name its
    project (a workflow each on GitHub, one file on GitLab and Jenkins)."""
    top = tmp_path / "repo"
    configs, stages_of = make_repository(top, {"backend": "library", "frontend": "library"})
    backend = configs["backend"]
    files = command.expected_files(backend, "all", stages_of(backend), others=stages_of)
    for project in ("backend", "frontend"):
        jobs = yaml.safe_load(files[f".github/workflows/ci-{project}.yml"])["jobs"]
        restore = next(s for s in jobs["lint"]["steps"] if s.get("id") == "records")
        assert restore["with"]["path"] == f"{project}/reports/fingerprints/"
        assert restore["with"]["restore-keys"] == f"noxops-{project}-lint-"
        save = next(s for s in jobs["lint"]["steps"] if s.get("name") == "Save the noxops records")
        assert f"hashFiles('{project}/reports/fingerprints/*.txt')" in save["with"]["key"]
    doc = yaml.safe_load(files[".gitlab-ci.yml"])
    for project in ("backend", "frontend"):
        (records,) = doc[f"{project}:lint"]["cache"]
        uv_paths = doc[f".{project}"]["cache"]["paths"]
        assert records["key"] == f"noxops-{project}-lint-$CI_COMMIT_REF_SLUG"
        assert records["paths"] == [f"{project}/reports/fingerprints/", *uv_paths]
    pipelines = {
        p: dataclasses.replace(build_pipeline(configs[p], stages_of(configs[p])), key=p)
        for p in ("backend", "frontend")
    }
    assert all(p.records == "reports/fingerprints/" for p in pipelines.values())
