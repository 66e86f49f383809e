"""The three renderers: structure of the generated files (what every job runs, needs, rules,
services, reports, permissions). Schema and linter validation is in tests/functional."""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fixtures.ci_projects import CASES, make_project

from noxops.ci import github, gitlab, jenkins
from noxops.ci.model import HANDOVER as HANDOVER_ARGV
from noxops.ci.model import HEADER, NOX_RUNNER, CIPipeline, build_pipeline
from noxops.ci.yamldoc import dump
from noxops.runtime.distribution import __version__

yaml = pytest.importorskip("yaml")

HANDOVER = " ".join(HANDOVER_ARGV)
NOX_RE = re.compile(r"^nox --no-dependencies -s (?P<session>.+?)(?: -- (?P<args>.+))?$")


def pipeline_for(tmp_path: Path, case: str) -> CIPipeline:
    config, stages = make_project(tmp_path / case, case)
    return build_pipeline(config, stages)


def load_yaml(text: str) -> dict[Any, Any]:
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def session_of(command: str) -> str:
    match = NOX_RE.match(command)
    assert match, f"not a nox session call: {command!r}"
    return match["session"]


# -- GitHub Actions -------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(CASES))
def test_github_jobs_only_set_up_python_and_run_their_session(tmp_path: Path, case: str) -> None:
    pipeline = pipeline_for(tmp_path, case)
    text = github.render(pipeline)
    assert text.startswith(f"# {HEADER}\n")
    workflow = load_yaml(text)
    assert workflow["permissions"] == {"contents": "read"}
    jobs = workflow["jobs"]
    assert list(jobs) == [j.name for j in pipeline.jobs]
    for job in pipeline.jobs:
        body = jobs[job.name]
        assert body.get("needs", []) == list(job.needs)
        runs = [s["run"] for s in body["steps"] if "run" in s]
        install, *handover, command = [r for r in runs if not r.startswith(HANDOVER)]
        assert install == "uv pip install --system " + shlex.join(pipeline.install(job))
        session = job.session("${{ matrix.python }}" if job.matrix else None)
        assert session_of(command) == " ".join([*job.before, session])
        assert handover == []
        assert "env" not in body or not any("secrets." in v for v in body["env"].values())
        for step in body["steps"]:
            if "uses" not in step:
                continue
            action, _, ref = step["uses"].partition("@")
            assert step["uses"] in [a.ref for a in github.ACTIONS.values()], step["uses"]
            assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{action} is not pinned to a commit SHA"
            if action == "actions/checkout":
                assert step["with"]["persist-credentials"] is False
        uses = [s["uses"].split("@")[0] for s in body["steps"] if "uses" in s]
        assert uses[:3] == ["actions/checkout", "actions/setup-python", "astral-sh/setup-uv"]
        setup_uv = next(s for s in body["steps"] if s.get("uses", "").startswith("astral-sh"))
        assert setup_uv["with"]["enable-cache"] is True


def test_github_rules_matrix_services_reports_and_deploys(tmp_path: Path) -> None:
    pipeline = pipeline_for(tmp_path, "service")
    workflow = load_yaml(github.render(pipeline))
    triggers = workflow[True]  # PyYAML reads the `on` key as a YAML 1.1 boolean
    assert triggers["push"]["branches"] == ["main", "develop", "release/**", "hotfix/**"]
    assert "pull_request" in triggers
    jobs = workflow["jobs"]
    for name in ("lint", "type", "security", "tests", "coverage", "integration"):
        assert "if" not in jobs[name], f"{name} must run on pull requests"
    assert jobs["report"]["if"] == "${{ !cancelled() }}"  # on pull requests too
    for name in ("build", "smoke", "docs"):
        assert "github.event_name == 'push'" in jobs[name]["if"], name
    tests = jobs["tests"]
    assert tests["strategy"] == {"fail-fast": False, "matrix": {"python": ["3.10", "3.11", "3.12"]}}
    setup = next(s for s in tests["steps"] if s.get("name") == "Set up Python")
    assert setup["with"]["python-version"].split() == ["${{", "matrix.python", "}}", "3.12"]

    integration = jobs["integration"]
    assert set(integration["services"]) == {"postgres", "redis"}
    for svc in integration["services"].values():
        assert "--health-cmd" in svc["options"]
        host, container = svc["ports"][0].split(":")
        assert host == container
    assert integration["env"] == {
        "NOXOPS_PROVIDER": "url",
        "DATABASE_URL": "postgresql://noxops:noxops-ci-password@localhost:5432/noxops",
        "REDIS_URL": "redis://localhost:6379/0",
    }
    install = next(s["run"] for s in integration["steps"] if s.get("name") == "Install nox")
    assert install == f"uv pip install --system 'noxops[docker,services]=={__version__}'"

    build = jobs["build"]
    reference = "${{ secrets.REGISTRY_PASSWORD }}"
    assert "env" not in build  # secrets only on the step that needs them
    nox_step = next(s for s in build["steps"] if s.get("run", "").startswith("nox "))
    assert nox_step["env"]["NOXOPS_REGISTRY_PASSWORD"] == reference
    assert nox_step["env"]["GITHUB_TOKEN"] == github.GITHUB_TOKEN
    assert build["permissions"] == {"contents": "read", "packages": "write"}  # ghcr.io
    assert nox_step["run"] == "nox --no-dependencies -s build -- --push"
    smoke = jobs["smoke"]
    assert smoke["permissions"] == {"contents": "read", "packages": "read"}
    pull = next(s for s in smoke["steps"] if s.get("name") == "Pull the pushed image")
    assert pull["run"] == "python -m noxops.ci.handover pull"
    assert pull["env"]["GITHUB_TOKEN"] == github.GITHUB_TOKEN
    uploads = [s["with"]["name"] for s in build["steps"] if "upload-artifact" in s.get("uses", "")]
    assert uploads == ["reports-build", "dist-build"]

    report = jobs["report"]
    assert report["if"].startswith("${{ !cancelled()")
    assert report["permissions"]["security-events"] == "write"
    sarif = next(s for s in report["steps"] if "upload-sarif" in s.get("uses", ""))
    assert sarif["with"]["sarif_file"] == "reports/noxops.sarif"  # what the report stage writes

    production, staging = jobs["deploy-production"], jobs["deploy-staging"]
    assert production["environment"] == {"name": "production"}
    assert "refs/heads/main" in production["if"] and "refs/heads/develop" in staging["if"]
    assert production["env"]["NOXOPS_CI_ENVIRONMENT"] == "production"
    deploy_step = next(s for s in production["steps"] if s.get("run", "").startswith("nox "))
    assert deploy_step["env"]["PRODUCTION_KUBECONFIG_B64"] == (
        "${{ secrets.PRODUCTION_KUBECONFIG_B64 }}"
    )
    assert "PRODUCTION_KUBECONFIG_B64" not in production["env"]
    # The approval itself is the environment's protection rule: the header says so.
    assert "give the 'production' environment required reviewers" in github.render(pipeline)


def test_github_coverage_data_survives_the_artifact_hop(tmp_path: Path) -> None:
    jobs = load_yaml(github.render(pipeline_for(tmp_path, "library")))["jobs"]
    upload = next(s for s in jobs["tests"]["steps"] if "upload-artifact" in s.get("uses", ""))
    assert upload["with"]["include-hidden-files"] is True  # .coverage.<python> files
    assert upload["with"]["name"] == "reports-tests-${{ matrix.python }}"
    download = next(s for s in jobs["coverage"]["steps"] if "download" in s.get("uses", ""))
    assert download["with"] == {"pattern": "reports-*", "path": "reports", "merge-multiple": True}


# -- GitLab CI --------------------------------------------------------------------------------

GITLAB_KEYWORDS = {"workflow", "stages", "variables", "default"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_gitlab_jobs_only_set_up_python_and_run_their_session(tmp_path: Path, case: str) -> None:
    pipeline = pipeline_for(tmp_path, case)
    text = gitlab.render(pipeline)
    assert text.startswith(f"# {HEADER}\n")
    doc = load_yaml(text)
    assert doc["stages"] == pipeline.stages
    assert doc["default"]["before_script"] == [gitlab.UV_INSTALL]
    assert doc["default"]["cache"]["paths"] == [".cache/uv"]
    jobs = {k: v for k, v in doc.items() if k not in GITLAB_KEYWORDS}
    assert list(jobs) == [j.name for j in pipeline.jobs]
    for job in pipeline.jobs:
        body = jobs[job.name]
        assert body["stage"] == job.stage
        assert [n["job"] if isinstance(n, dict) else n for n in body["needs"]] == list(job.needs)
        script = [s for s in body["script"] if not s.startswith(HANDOVER)]
        assert script.pop() == gitlab.UV_PRUNE  # see test_gitlab_jobs_save_uvs_cache_pruned
        if job.below_nox_floor:  # 3.9: nox runs on the image's Debian python3 (no download)
            assert script.pop(0) == NOX_RUNNER
        install, *setup, command = script
        assert install == "uv pip install --system " + shlex.join(pipeline.install(job))
        if job.records and pipeline.replay == "branches":  # forced on release refs
            replay = setup.pop()
            assert replay.startswith('if [ -n "$CI_COMMIT_TAG" ] || [ "$CI_COMMIT_BRANCH" = ')
            assert replay.endswith(
                "then export NOXOPS_CHANGED_ONLY=1 NOXOPS_FORCE=1;"
                " else export NOXOPS_CHANGED_ONLY=1; fi"
            )
        assert setup == ([gitlab.DOCKER_CLI] if job.docker else [])  # never `uv python install`
        assert body["image"] == pipeline.image_for(job, "$PYTHON" if job.matrix else None)
        session = job.session('"$PYTHON"' if job.matrix else None)
        assert session_of(command) == " ".join([*job.before, session])
        assert body["artifacts"]["when"] == "always"


def test_gitlab_rules_services_reports_and_manual_production(tmp_path: Path) -> None:
    doc = load_yaml(gitlab.render(pipeline_for(tmp_path, "service")))
    assert {"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'} in doc["workflow"]["rules"]
    for name in ("lint", "tests", "coverage", "integration"):
        assert "rules" not in doc[name], f"{name} must run in merge request pipelines"
    release = [
        {"if": "$CI_COMMIT_TAG =~ /^v/"},
        {"if": '$CI_COMMIT_BRANCH == "main"'},
        {"if": '$CI_COMMIT_BRANCH == "develop"'},
    ]
    for name in ("build", "smoke"):
        assert doc[name]["rules"] == release, name
    assert doc["report"]["rules"] == [{"when": "always"}]
    assert {"job": "build", "optional": True} in doc["report"]["needs"]
    assert "lint" in doc["report"]["needs"]
    assert doc["tests"]["parallel"] == {"matrix": [{"PYTHON": ["3.10", "3.11", "3.12"]}]}
    assert doc["tests"]["artifacts"]["reports"] == {"junit": "reports/junit-$PYTHON.xml"}
    assert doc["coverage"]["artifacts"]["reports"]["coverage_report"] == {
        "coverage_format": "cobertura",
        "path": "reports/coverage.xml",
    }
    assert re.search(doc["coverage"]["coverage"].strip("/"), "TOTAL   120   6   95.5%")
    assert doc["report"]["artifacts"]["reports"]["codequality"] == (
        "reports/gl-code-quality-report.json"
    )

    integration = doc["integration"]
    assert [(s["name"], s["alias"]) for s in integration["services"]] == [
        ("postgres:15", "postgres"),
        ("redis:7", "redis"),
    ]
    assert integration["variables"]["DATABASE_URL"].endswith("@postgres:5432/noxops")
    install = f"uv pip install --system 'noxops[docker,services]=={__version__}'"
    assert integration["script"][0] == install
    assert integration["variables"]["REDIS_URL"] == "redis://redis:6379/0"
    assert integration["variables"]["NOXOPS_PROVIDER"] == "url"

    build = doc["build"]
    assert build["services"][-1]["name"].endswith("-dind")
    assert build["variables"]["NOXOPS_REGISTRY_USER"] == "$REGISTRY_USER"
    assert build["script"][-2] == "nox --no-dependencies -s build -- --push"
    assert doc["smoke"]["script"][-3:-1] == [
        "python -m noxops.ci.handover pull",
        "nox --no-dependencies -s smoke",
    ]

    production, staging = doc["deploy-production"], doc["deploy-staging"]
    assert production["rules"] == [{"if": '$CI_COMMIT_BRANCH == "main"', "when": "manual"}]
    assert staging["rules"] == [{"if": '$CI_COMMIT_BRANCH == "develop"'}]
    assert production["environment"] == {"name": "production"}
    assert production["interruptible"] is False


def test_gitlab_jobs_run_in_the_image_of_their_python(tmp_path: Path) -> None:
    doc = load_yaml(gitlab.render(pipeline_for(tmp_path, "worker")))
    assert doc["lint"]["image"] == "python:3.11-slim"  # tools_python: no interpreter download
    assert doc["tests"]["image"] == "python:$PYTHON-slim"
    assert doc["lint"]["script"] == [
        f"uv pip install --system noxops=={__version__}",
        'if [ -n "$CI_COMMIT_TAG" ] || [ "$CI_COMMIT_BRANCH" = "trunk" ]; then'
        " export NOXOPS_CHANGED_ONLY=1 NOXOPS_FORCE=1; else export NOXOPS_CHANGED_ONLY=1; fi",
        "nox --no-dependencies -s lint",
        gitlab.UV_PRUNE,
    ]
    # no registry: the build job hands the image to smoke as an artifact
    assert doc["build"]["script"][-2] == "python -m noxops.ci.handover save"
    assert "image/" in doc["build"]["artifacts"]["paths"]
    assert doc["smoke"]["script"][-3] == "python -m noxops.ci.handover load"


def test_gitlab_docker_jobs_use_dind_or_the_host_socket(tmp_path: Path) -> None:
    pipeline = pipeline_for(tmp_path, "worker")
    dind = load_yaml(gitlab.render(pipeline))["build"]
    assert dind["services"] == [{"name": gitlab.DIND, "alias": "docker"}]
    assert dind["variables"]["DOCKER_HOST"] == "tcp://docker:2376"
    socket = dataclasses.replace(pipeline, docker_engine="socket")
    build = load_yaml(gitlab.render(socket))["build"]
    assert "services" not in build
    assert build["variables"] == {"DOCKER_HOST": "unix:///var/run/docker.sock"}
    assert build["script"][1] == gitlab.DOCKER_CLI  # python image + Debian's docker CLI
    cli_image = dataclasses.replace(socket, docker_image="acme/runner:{python}")
    build = load_yaml(gitlab.render(cli_image))["build"]
    assert build["image"] == "acme/runner:3.11"  # the build session runs on tools_python
    assert gitlab.DOCKER_CLI not in build["script"]


# An in-tree PEP 517 backend (no build requirements, nothing downloaded): uv builds this
# project from source, as it would an sdist on PyPI.
BACKEND = """\
import zipfile

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name = "built-0.1-py3-none-any.whl"
    with zipfile.ZipFile(f"{wheel_directory}/{name}", "w") as whl:
        whl.writestr("built.py", "")
        whl.writestr("built-0.1.dist-info/METADATA", "Metadata-Version: 2.1\\nName: built\\n"
                     "Version: 0.1\\n")
        whl.writestr("built-0.1.dist-info/WHEEL", "Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\n"
                     "Tag: py3-none-any\\n")
        whl.writestr("built-0.1.dist-info/RECORD", "")
    return name
"""


def _wheel(folder: Path) -> Path:
    """A pre-built wheel, as uv downloads one from an index."""
    path = folder / "fetched-0.1-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as whl:
        whl.writestr("fetched.py", "")
        whl.writestr("fetched-0.1.dist-info/METADATA", "Metadata-Version: 2.1\nName: fetched\n"
                     "Version: 0.1\n")  # fmt: skip
        whl.writestr("fetched-0.1.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n"
                     "Tag: py3-none-any\n")  # fmt: skip
        whl.writestr("fetched-0.1.dist-info/RECORD", "")
    return path


def test_gitlab_jobs_save_uvs_cache_pruned_of_prebuilt_wheels_and_never_pips(
    tmp_path: Path,
) -> None:
    """Every job restored and saved all of uv's cache (3,400 files, 8-10 s a job on a loaded
    runner) and pip's: its last command is now uv's CI prune (uv's GitLab guide), run where
    GitLab saves the cache, after a job that passed; pip's, which only ever held uv's own
    wheel, is not carried. The line is run on a real cache: the downloaded wheel goes, the
    wheel uv built from source stays."""
    pipeline = pipeline_for(tmp_path, "service")
    doc = load_yaml(gitlab.render(pipeline))
    uv_cache = doc["default"]["cache"]
    assert uv_cache["paths"] == [".cache/uv"] and "PIP_CACHE_DIR" not in doc["variables"]
    assert uv_cache.get("when", "on_success") == "on_success"  # after the prune, never before
    for job in pipeline.jobs:
        body = doc[job.name]
        assert body["script"][-1] == gitlab.UV_PRUNE, job.name
        # a job's own caches replace the default: uv's stays, alone or in the records' entry
        first = body.get("cache", [uv_cache])[0]
        assert first == uv_cache or first["paths"][-1:] == uv_cache["paths"], job.name

    uv = Path(sys.executable).with_name("uv")
    if not uv.is_file():
        pytest.skip("uv is not installed beside this Python")
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "backend.py").write_text(BACKEND, encoding="utf-8")
    (project / "src" / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
        '[project]\nname = "built"\nversion = "0.1"\n',
        encoding="utf-8",
    )
    env = {
        "PATH": f"{uv.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "CI_PROJECT_DIR": str(project),
        "HOME": str(tmp_path),
    }
    install = "uv pip install -q --offline --no-index --target installed ./src " + shlex.quote(
        str(_wheel(tmp_path))
    )
    for line in (install, doc["lint"]["script"][-1]):
        proc = subprocess.run(
            ["sh", "-c", f'export UV_CACHE_DIR="{doc["variables"]["UV_CACHE_DIR"]}"; {line}'],
            cwd=project, env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert proc.returncode == 0, f"{line}\n{proc.stdout}{proc.stderr}"
        if line == install:  # both wheels are in the cache, where the job's cache path is
            cached = {p.name for p in (project / ".cache" / "uv").rglob("*")}
            assert {"fetched.py", "built-0.1-py3-none-any.whl"} <= cached
    kept = {p.name for p in (project / ".cache" / "uv").rglob("*")}
    assert "built-0.1-py3-none-any.whl" in kept  # built from source: kept
    assert not [name for name in kept if name.startswith("fetched")]  # pre-built: dropped


# -- Jenkins ----------------------------------------------------------------------------------

SH_RE = re.compile(r"\bsh '((?:[^'\\]|\\.)*)'|\bsh '''\n(.*?)'''", re.S)


def sh_commands(text: str) -> list[str]:
    commands: list[str] = []
    for one, block in SH_RE.findall(text):
        commands += [one] if one else [line.strip() for line in block.strip().splitlines()]
    return commands


def stage_block(text: str, name: str) -> str:
    """The text of ``stage('<name>') { ... }``, braces matched."""
    start = text.index(f"stage('{name}') {{")
    depth = 0
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0 and text[i] == "}":
            return text[start : i + 1]
    raise AssertionError(f"unbalanced stage {name}")


@pytest.mark.parametrize("case", sorted(CASES))
def test_jenkins_stages_only_set_up_python_and_run_their_session(tmp_path: Path, case: str) -> None:
    pipeline = pipeline_for(tmp_path, case)
    text = jenkins.render(pipeline)
    assert text.startswith(f"// {HEADER}\n")
    assert text.count("{") == text.count("}")
    for job in pipeline.jobs:
        block = stage_block(text, job.name)
        commands = [c for c in sh_commands(block) if "noxops.ci.handover" not in c]
        if pipeline.jenkins_cache and (job.records or job.durations):  # see test_ci_records
            commands = [c for c in commands if pipeline.jenkins_cache not in c]
        *setup, command = commands
        allowed: tuple[str, ...] = (
            "python -m venv ",
            ".ci-venv/bin/python -m pip install ",
            ".ci-venv/bin/uv pip ",
        )
        allowed += (gitlab.DOCKER_CLI,) if job.docker else ()
        assert all(line.startswith(allowed) for line in setup), setup
        assert command.startswith(".ci-venv/bin/")
        session = job.session('"$PYTHON"' if job.matrix else None)
        expected = " ".join([*job.before, session])
        assert session_of(command.removeprefix(".ci-venv/bin/")) == expected
        if job.shards > 1:
            assert command.endswith(f' -- --shard "$SHARD"/{job.shards}')
    titles = [jenkins.STAGE_TITLES[s] for s in pipeline.stages]
    positions = [text.index(f"stage('{t}')") for t in titles]
    assert positions == sorted(positions)


def test_jenkins_sidecars_reports_rules_and_approval(tmp_path: Path) -> None:
    text = jenkins.render(pipeline_for(tmp_path, "service"))
    quality = stage_block(text, "Quality")
    assert "changeRequest" not in quality  # runs for pull requests too
    for title in ("Integration", "Report"):
        assert "anyOf" not in stage_block(text, title).split("stages {")[0], title
    for title in ("Build", "Smoke"):
        head = stage_block(text, title).split("stages {")[0]
        assert "branch 'main'" in head and "branch 'develop'" in head and "tag 'v*'" in head
    post = text[text.rindex("    post {") :]
    assert "archiveArtifacts artifacts: 'reports/**'" in post and "cleanWs()" in post
    assert "failure {" in post and "success {" in post
    tests = stage_block(text, "tests")
    assert "values '3.10', '3.11', '3.12'" in tests
    assert 'junit allowEmptyResults: true, testResults: "reports/junit-${PYTHON}.xml"' in tests
    assert 'stash name: "reports-tests-${PYTHON}"' in tests
    assert "recordCoverage tools: [[parser: 'COBERTURA', pattern: 'reports/coverage.xml']]" in (
        stage_block(text, "coverage")
    )
    coverage = stage_block(text, "coverage")
    for py in ("3.10", "3.11", "3.12"):
        assert f"unstash 'reports-tests-{py}'" in coverage

    integration = stage_block(text, "integration")
    assert "docker.image('postgres:15').withRun(" in integration
    assert "docker.image('redis:7').withRun(" in integration
    assert '.inside("--link ${postgres.id}:postgres --link ${redis.id}:redis")' in integration
    assert (
        "DATABASE_URL = 'postgresql://noxops:noxops-ci-password@postgres:5432/noxops'"
        in integration
    )
    assert "NOXOPS_PROVIDER = 'url'" in integration

    build = stage_block(text, "build")
    assert "NOXOPS_REGISTRY_PASSWORD = credentials('REGISTRY_PASSWORD')" in build
    assert "/var/run/docker.sock" in build

    production = stage_block(text, "deploy-production")
    assert "branch 'main'" in production and "beforeInput true" in production
    assert "input {" in production and "NOXOPS_APPROVED = 'production'" in production
    assert "credentials('PRODUCTION_KUBECONFIG_B64-production')" in production
    staging = stage_block(text, "deploy-staging")
    assert "branch 'develop'" in staging and "input {" not in staging


def test_jenkins_quotes_what_it_writes() -> None:
    assert jenkins.q("it's a \\ path") == "'it\\'s a \\\\ path'"
    assert jenkins.qq('say "${X}"') == '"say \\"${X}\\""'


# -- the YAML writer --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "3.10", "on", "yes", "No", "null", "~", "-e", ".", "", "a: b", "a #b", "#x", "*x", "&x",
        "!x", "${{ matrix.python }}", "it's", 'say "hi"', "x:", " lead", "trail ", "1e3", "0x1F",
        "12:30", "-", "a\tb", "tests-$PYTHON", "@v1", "%x", "`x", "[x]", "{x}", "|", ">",
    ],
)  # fmt: skip
def test_yaml_scalars_read_back_as_written(value: str) -> None:
    data = {"key": value, "list": [value], "nested": {"k": value}}
    assert yaml.safe_load(dump(data)) == data


def test_yaml_blocks_empty_collections_and_header() -> None:
    data: dict[str, Any] = {
        "script": "one\ntwo\n",
        "bare": "one\ntwo",
        "empty_map": {},
        "empty_list": [],
        "none": None,
        "items": [{"a": 1, "b": [True, False]}, {}, 2.5],
    }
    text = dump(data, ["first line", ""])
    assert text.startswith("# first line\n#\n")
    assert yaml.safe_load(text) == data
    assert dump(data) == dump(data)  # deterministic


def test_github_hands_optional_secrets_to_the_session_step_only(tmp_path: Path) -> None:
    """A Sonar token and the notification channels reach their sessions on GitHub, which
    exposes a secret only where the workflow names it; never at job level."""
    from noxops.config import load
    from noxops.stages import STAGES

    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "svc"\n[tool.noxops.report]\nsonar_token_env = "MY_SONAR"\n'
        '[tool.noxops.notify]\nslack_webhook_env = "HOOK"\n',
        encoding="utf-8",
    )
    config = load(tmp_path)
    stages = {
        name: dataclasses.replace(STAGES[name], enabled=lambda config: True)
        for name in ("lint", "report", "sonar", "notify")
    }
    doc = load_yaml(github.render(build_pipeline(config, stages)))
    for job, expected in (("sonar", {"MY_SONAR"}), ("notify", {"HOOK", "NOXOPS_SMTP_PASSWORD"})):
        steps = doc["jobs"][job]["steps"]
        (session,) = [s for s in steps if s.get("name") == f"nox -s {job}"]
        assert expected <= set(session["env"])
        assert all(session["env"][v] == f"${{{{ secrets.{v} }}}}" for v in expected)
        assert "env" not in doc["jobs"][job] or not expected & set(doc["jobs"][job]["env"])
    lint_steps = doc["jobs"]["lint"]["steps"]
    assert not any("MY_SONAR" in (s.get("env") or {}) for s in lint_steps)


def test_gitlab_jobs_install_uv_only_where_the_image_lacks_it(tmp_path: Path) -> None:
    """``pip install uv`` took a second or two of every job, also in images that ship uv
    (astral's ``ghcr.io/astral-sh/uv:python3.X-bookworm-slim``, a team's own CI image). The
    rendered line is run by sh: with uv on PATH pip is never started, without it pip installs
    uv."""
    doc = load_yaml(gitlab.render(pipeline_for(tmp_path, "service")))
    (line,) = doc["default"]["before_script"]
    calls = tmp_path / "calls"
    for name, body in (("python", f'echo "python $*" >> {calls}'), ("uv", "exit 0")):
        folder = tmp_path / ("with-uv" if name == "uv" else "bin")
        folder.mkdir(exist_ok=True)
        (folder / name).write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
        (folder / name).chmod(0o755)
    for path, expected in (
        (f"{tmp_path / 'with-uv'}:{tmp_path / 'bin'}", ""),
        (f"{tmp_path / 'bin'}", "python -m pip install --quiet uv\n"),
    ):
        calls.write_text("", encoding="utf-8")
        proc = subprocess.run(
            ["/bin/sh", "-c", line], env={"PATH": f"{path}:/nonexistent"}, capture_output=True,
            text=True, timeout=60, check=False,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert calls.read_text(encoding="utf-8") == expected, path
