"""The image build context with the real engine (issue #24, item 13).

noxops's own folders (the nox environments, the reports folder, virtualenvs) never reach the
engine, whatever the project's ``.dockerignore`` says, also when the context is the folder
above the project; the build says how big its context is and warns when it is large; and the
``.dockerignore`` rules noxops applies to its copy keep what docker itself sends.
"""

from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from support.noxrun import copy_fixture

from noxops.config import load
from noxops.image import context as build_context
from noxops.image import runner

pytestmark = pytest.mark.docker

ENVIRON = {  # a pipeline's variables: the tags come from them, not from git
    "GITLAB_CI": "true",
    "CI_COMMIT_SHA": "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d",
    "CI_COMMIT_BRANCH": "main",
    "CI_DEFAULT_BRANCH": "main",
    "SOURCE_DATE_EPOCH": "1700000000",
}


def _docker(*args: str) -> str:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, check=True, timeout=300
    ).stdout


def _virtualenv(folder: Path, size: int) -> None:
    """A virtualenv as nox or python -m venv makes it: pyvenv.cfg, and ``size`` bytes."""
    (folder / "lib").mkdir(parents=True)
    (folder / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.12.1\n")
    (folder / "lib" / "site.bin").write_bytes(b"\0" * size)


def _image_settings(project: Path, *lines: str) -> None:
    """Put ``lines`` into the project's [tool.noxops.image] table (made when missing)."""
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    settings = "".join(f"{line}\n" for line in lines)
    if "[tool.noxops.image]\n" in text:
        text = text.replace("[tool.noxops.image]\n", f"[tool.noxops.image]\n{settings}", 1)
    else:
        text += f"\n[tool.noxops.image]\n{settings}"
    pyproject.write_text(text)


@contextmanager
def _built(project: Path) -> Iterator[tuple[str, list[str]]]:
    """Build the project's image (a name of this test's own); its id and the build's log.
    Every image of that name is removed afterwards, built or half-built."""
    repository = f"noxops-test/context-{uuid.uuid4().hex[:10]}"
    _image_settings(project, f'name = "{repository}"', "sbom = false")
    lines: list[str] = []
    try:
        result = runner.run(load(project), [], log=lines.append, environ=ENVIRON)
        assert result.image_id, lines
        yield result.image_id, lines
    finally:
        for image in set(_docker("images", "-q", repository).split()):
            _docker("image", "rm", "-f", image)


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))


def test_the_nox_environments_never_reach_the_image(tmp_path: Path) -> None:
    """A .dockerignore that does not list .nox/ and a COPY . /app: the environments and the
    reports stay out of the context, which is measured; nothing is written into the project."""
    project = copy_fixture("copy_all_service", tmp_path)
    _virtualenv(project / ".nox" / "tests-3-12", 3_000_000)
    (project / ".nox" / "tests-3-12" / "bin").mkdir()
    (project / "reports").mkdir()
    (project / "reports" / "junit-3.12.xml").write_text("<testsuites/>")
    before = _files(project)
    with _built(project) as (image, lines):
        listing = _docker("run", "--rm", image, "ls", "-A", "/app").split()
    assert {"app", "requirements.txt", "Dockerfile", "tests"} <= set(listing), listing
    assert ".nox" not in listing and "reports" not in listing, listing
    log = "\n".join(lines)
    assert "build: .nox, reports left out of the context" in log, log
    size = next(line for line in lines if line.startswith("build: context "))
    assert re.fullmatch(
        rf"build: context \d+\.\d MB \(\d+ files\) from {re.escape(str(project))}", size
    ), size
    assert "warning" not in log, log
    new = [p for p in _files(project) if p not in before and not p.startswith("reports/")]
    assert new == [], new  # only the build's reports were written


def test_a_parent_context_leaves_out_the_projects_own_folders(tmp_path: Path) -> None:
    """A service in backend/ whose Dockerfile needs the repository root (context = '..'):
    backend/.nox, backend/reports and a virtualenv inside backend/ are left out; a large
    context is warned about, naming its largest parts."""
    repo = copy_fixture("monorepo", tmp_path)
    backend = repo / "backend"
    _virtualenv(backend / ".nox" / "lint", 3_000_000)
    _virtualenv(backend / "venv", 1_000)  # a virtualenv under any name, found by pyvenv.cfg
    (backend / "reports").mkdir()
    (backend / "reports" / "coverage.xml").write_text("<coverage/>")
    (repo / "shared" / "greetings" / "words.bin").write_bytes(b"\0" * 2_000_000)
    _image_settings(backend, "context_warning_mb = 1")
    with _built(backend) as (image, lines):
        found = _docker("run", "--rm", image, "find", "/srv", "-maxdepth", "2").split()
        said = _docker("run", "--rm", image).strip()
    assert "/srv/backend/api" in found and "/srv/shared/greetings" in found, found
    assert not {"/srv/backend/.nox", "/srv/backend/reports", "/srv/backend/venv"} & set(found)
    assert said == "hello, backend"
    log = "\n".join(lines)
    assert "build: backend/.nox, backend/reports, backend/venv left out of the context" in log
    assert f"from {repo}" in log, log
    warning = next(line for line in lines if line.startswith("warning: the build context"))
    assert "over context_warning_mb = 1" in warning and "shared (2.0 MB)" in warning, warning
    assert f"{repo / '.dockerignore'}" in warning, warning


def test_the_rules_noxops_applies_keep_what_docker_sends(tmp_path: Path) -> None:
    """The .dockerignore rules, with exceptions and wildcards, decide the same files in
    noxops's scan as in the engine's own upload (COPY . /ctx of the untouched context)."""
    context = tmp_path / "ctx"
    names = [
        "app/main.py", "app/debug.log", "app/keep.log", "app/sub/deep.log", "top.txt",
        "app/top.txt", "build/lib/x.py", "build/wheelhouse/a.whl", "build/wheelhouse/b.txt",
        "data/1.csv", "data/12.csv", "docs/a/b/c.tmp", "docs/a/b/c.md", "docs/x.tmp",
        "a.cfg", "c.cfg", "src/pkg/generated/g.py", "src/pkg/real.py", "secret.key",
        "app/secrets/token", "x__pycache__/kept.py", "logs/important.log", "logs/other.txt",
        "spaced.txt", "README.md", "only/empty/.gitkeep", "app/foo", "app/zfoo", "app/mytoken",
    ]  # fmt: skip
    for name in names:
        (context / name).parent.mkdir(parents=True, exist_ok=True)
        (context / name).write_text(name)
    (context / "empty").mkdir()
    (context / ".dockerignore").write_text(
        "\ufeff# a comment, and a BOM before it\n*.log\n!keep.log\n!app/keep.log\n"
        "docs/**/*.tmp\n**/secret*\nbuild\n!build/wheelhouse\nbuild/wheelhouse/*.txt\n"
        "data/?.csv\n/top.txt\nsrc/*/generated\n[ab].cfg\n  spaced.txt  \n"
        "**/__pycache__\nlogs\n!**/important.log\n*.md\n!README.md\n**/foo\n**token\n"
    )
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM python:3.12-slim\nCOPY . /ctx\n")
    scanned = build_context.prepare(context, dockerfile, tmp_path / "work", buildx=False)
    assert scanned.folder == context  # the engine reads the .dockerignore: nothing to copy
    tag = f"noxops-test/rules-{uuid.uuid4().hex[:10]}"
    try:
        _docker("build", "-q", "--force-rm", "-t", tag, "-f", str(dockerfile), str(context))
        sent = _docker("run", "--rm", tag, "find", "/ctx", "-mindepth", "1").split()
    finally:
        subprocess.run(["docker", "image", "rm", "-f", tag], capture_output=True, check=False)
    assert sorted(scanned.paths) == sorted(p[len("/ctx/") :] for p in sent)
