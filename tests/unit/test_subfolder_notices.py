"""A project in a subfolder of its git repository (issue #26 item 1): `noxops init` says that
its CI files go to the repository's top, and `noxops doctor` says where the CI files are
expected, whether they are there, and warns about a CI file left in the project's folder, where
GitHub and GitLab never read it. Real git repositories, the real ``noxops`` entry point."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from support.noxrun import copy_fixture

from noxops.cli import main


@pytest.fixture(autouse=True)
def _outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")


def _repository(tmp_path: Path, folder: str) -> tuple[Path, Path]:
    """A git repository holding the clean fixture project in ``folder`` ("." for its top)."""
    top = tmp_path / "repo"
    project = copy_fixture("clean_project", tmp_path)
    if folder == ".":
        project.rename(top)
        project = top
    else:
        (top / folder).parent.mkdir(parents=True)
        project = project.rename(top / folder)
    subprocess.run(["git", "init", "-q", str(top)], check=True, timeout=120)
    return top.resolve(), project.resolve()


def _never_adopted(project: Path) -> None:
    """The project as before noxops: no noxfile, no [tool.noxops] tables."""
    (project / "noxfile.py").unlink()
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(text[: text.index("[tool.noxops]")], encoding="utf-8")


def _noxops(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _ci_rows(out: str) -> list[tuple[str, str, str]]:
    """The doctor's ``CI files`` rows: (status, detail, its fix line or "")."""
    lines = out.splitlines()
    rows = []
    for i, line in enumerate(lines):
        row = re.match(r"^(ok|warn|FAIL) +CI files +(.*)$", line)
        if row:
            fix = re.match(r"^ +fix: (.*)$", lines[i + 1]) if i + 1 < len(lines) else None
            rows.append((row[1], row[2], fix[1] if fix else ""))
    return rows


def test_init_in_a_subfolder_says_where_the_ci_files_go(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    top, backend = _repository(tmp_path, "backend")
    _never_adopted(backend)
    code, out = _noxops(capsys, "init", "--root", str(backend))
    assert code == 0, out
    said = [line for line in out.splitlines() if "of the git repository" in line]
    assert said == [
        f"noxops init: the project is in backend/ of the git repository at {top}: CI files go "
        "to the repository's top, with every job working in backend/ (`noxops ci generate`); "
        '[tool.noxops.ci] root = "<folder>" names another top folder, relative to the project '
        '("." keeps them in backend/)'
    ], out


def test_init_with_ci_says_it_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With --ci, the generate step init runs says where the files go: one notice, not two."""
    pytest.importorskip("nox", reason="ci generate loads the noxfile (nox needs Python 3.10+)")
    top, backend = _repository(tmp_path, "backend")
    _never_adopted(backend)
    code, out = _noxops(capsys, "init", "--root", str(backend), "--ci", "gitlab")
    assert code == 0, out
    said = [line for line in out.splitlines() if "backend/ of the" in line]
    assert len(said) == 1, out
    assert (top / ".gitlab-ci.yml").is_file() and not (backend / ".gitlab-ci.yml").exists()


def test_init_at_the_repository_top_says_nothing_new(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _top, project = _repository(tmp_path, ".")
    _never_adopted(project)
    code, out = _noxops(capsys, "init", "--root", str(project))
    assert code == 0, out
    assert "of the git repository" not in out and "[tool.noxops.ci] root" not in out, out
    assert f"wrote {project / 'noxfile.py'}" in out


def test_doctor_warns_about_ci_files_left_in_the_project_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("nox", reason="ci generate loads the noxfile (nox needs Python 3.10+)")
    top, backend = _repository(tmp_path, "backend")
    # what `noxops ci generate` wrote before it knew about subfolders
    (backend / ".github" / "workflows").mkdir(parents=True)
    (backend / ".github" / "workflows" / "ci.yml").write_text("on: push\n", encoding="utf-8")
    (backend / ".gitlab-ci.yml").write_text("stages: [test]\n", encoding="utf-8")
    (backend / "Jenkinsfile").write_text("pipeline {}\n", encoding="utf-8")
    stray = {"backend/.github/workflows/ci.yml": "GitHub", "backend/.gitlab-ci.yml": "GitLab"}

    _code, out = _noxops(capsys, "doctor", "--root", str(backend))
    assert _ci_rows(out) == [
        (
            "warn",
            f"missing at the repository's top ({top}), where the project's CI files are "
            "expected (jobs working in backend/): .github/workflows/ci.yml (github), "
            ".gitlab-ci.yml (gitlab), Jenkinsfile (jenkins)",
            "noxops ci generate   (or name the providers you use in [tool.noxops.ci] providers)",
        ),
        *(
            (
                "warn",
                f"{rel} is in the project's folder, where {provider} never reads it (only at the "
                "repository's top): its jobs never run",
                f"`noxops ci generate` writes it at the top; then delete {rel} by hand (noxops "
                "never deletes it)",
            )
            for rel, provider in stray.items()
        ),
    ], out
    # (Jenkins reads the Jenkinsfile its job's "Script Path" names, anywhere: not warned about)

    # generated at the top: present there; the copies left in backend/ are still warned about
    code, said = _noxops(capsys, "ci", "generate", "--root", str(backend))
    assert code == 0, said
    _code, out = _noxops(capsys, "doctor", "--root", str(backend))
    assert _ci_rows(out) == [
        (
            "ok",
            ".github/workflows/ci.yml (github), .gitlab-ci.yml (gitlab), Jenkinsfile (jenkins) "
            f"at the repository's top ({top}), jobs working in backend/",
            "",
        ),
        *(
            (
                "warn",
                f"{rel} is in the project's folder, where {provider} never reads it (only at the "
                "repository's top): its jobs never run",
                f"delete {rel} by hand (noxops never deletes it): the one at the top is the one "
                f"{provider} reads",
            )
            for rel, provider in stray.items()
        ),
    ], out

    shutil.rmtree(backend / ".github")
    (backend / ".gitlab-ci.yml").unlink()
    _code, out = _noxops(capsys, "doctor", "--root", str(backend))
    assert [status for status, _, _ in _ci_rows(out)] == ["ok"], out


def test_doctor_at_the_repository_top_says_where_the_ci_files_are_expected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    top, project = _repository(tmp_path, ".")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8") + '\n[tool.noxops.ci]\nproviders = ["gitlab"]\n',
        encoding="utf-8",
    )
    # a CI file of GitHub's, but the configuration does not name GitHub: none of doctor's business
    (top / ".github" / "workflows").mkdir(parents=True)
    (top / ".github" / "workflows" / "ci.yml").write_text("on: push\n", encoding="utf-8")
    _code, out = _noxops(capsys, "doctor", "--root", str(project))
    assert _ci_rows(out) == [
        (
            "warn",
            f"missing at the repository's top ({top}), where the project's CI files are "
            "expected: .gitlab-ci.yml (gitlab)",
            "noxops ci generate   (or name the providers you use in [tool.noxops.ci] providers)",
        )
    ], out
    (top / ".gitlab-ci.yml").write_text("stages: [test]\n", encoding="utf-8")
    _code, out = _noxops(capsys, "doctor", "--root", str(project))
    assert _ci_rows(out) == [
        ("ok", f".gitlab-ci.yml (gitlab) at the repository's top ({top})", "")
    ], out
