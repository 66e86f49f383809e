"""The build context without an engine (issue #24, item 13): what is left out, measured and
warned about; the real engine's view is tests/functional/test_build_context_engine.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from noxops.errors import NoxopsError
from noxops.image.context import describe, prepare


def _write(root: Path, name: str, size: int = 1) -> None:
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_bytes(b"x" * size)


def test_a_parent_context_is_copied_without_the_services_own_folders(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    for name in ["backend/api/main.py", "backend/Dockerfile", "shared/lib.py", "README.md"]:
        _write(repo, name)
    _write(repo, "data/model.bin", 3_000_000)
    _write(repo, "backend/.nox/tests/lib/big.bin", 5_000_000)
    _write(repo, "backend/.nox/tests/pyvenv.cfg")
    _write(repo, "backend/reports/junit.xml")
    _write(repo, "tools/env/pyvenv.cfg")  # a virtualenv under any name
    _write(repo, "tools/env/lib/site.bin", 1_000_000)
    _write(repo, ".dockerignore", 0)
    (repo / ".dockerignore").write_text(".git\n*.md\n")
    backend = repo / "backend"

    ctx = prepare(
        backend / "..", backend / "Dockerfile", tmp_path / "work", reports=backend / "reports"
    )
    assert ctx.left_out == ("backend/.nox", "backend/reports", "tools/env")
    assert ctx.folder == tmp_path / "work" / "context"
    copied = sorted(p.relative_to(ctx.folder).as_posix() for p in ctx.folder.rglob("*"))
    assert copied == [
        ".dockerignore", "backend", "backend/Dockerfile", "backend/api", "backend/api/main.py",
        "data", "data/model.bin", "shared", "shared/lib.py", "tools",
    ]  # fmt: skip
    assert (ctx.files, ctx.size) == (5, 3_000_013)  # README.md is excluded by the rules
    assert (repo / "backend" / ".nox").is_dir()  # nothing in the project is touched

    lines = describe(ctx, warn_mb=2)
    assert lines[0].startswith("build: backend/.nox, backend/reports, tools/env left out")
    assert lines[1] == f"build: context 3.0 MB (5 files) from {repo}"
    assert lines[2].startswith("warning: the build context is 3.0 MB, over context_warning_mb")
    assert "largest: data (3.0 MB)." in lines[2] and f"in {repo / '.dockerignore'}" in lines[2]
    assert len(describe(ctx, warn_mb=200)) == 2


def test_a_clean_context_with_its_own_dockerignore_is_sent_as_it_is(tmp_path: Path) -> None:
    _write(tmp_path, "app/main.py", 10)
    _write(tmp_path, "Dockerfile")
    (tmp_path / ".dockerignore").write_text(".nox\n")
    ctx = prepare(tmp_path, tmp_path / "Dockerfile", tmp_path / "work")
    assert ctx.folder == tmp_path and ctx.left_out == ()
    assert not (tmp_path / "work").exists()


def test_a_pattern_docker_refuses_is_one_line_naming_the_file(tmp_path: Path) -> None:
    _write(tmp_path, "Dockerfile")
    (tmp_path / ".dockerignore").write_text("build\n[abc\n")
    with pytest.raises(NoxopsError, match=r"\.dockerignore: '\[abc' is not a valid pattern"):
        prepare(tmp_path, tmp_path / "Dockerfile", tmp_path / "work")
    (tmp_path / ".dockerignore").write_text("!\n")
    with pytest.raises(NoxopsError, match="'!' alone is not a pattern"):
        prepare(tmp_path, tmp_path / "Dockerfile", tmp_path / "work")


def test_a_file_removed_while_the_context_is_scanned_is_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file that goes away between the folder listing and its size (an editor's swap file,
    a test run's temporary file) is not in the context, and is no traceback."""
    project = tmp_path / "project"
    _write(project, "Dockerfile")
    _write(project, "app.py")
    _write(project, ".app.py.swp")
    real = os.scandir

    class Listing:
        def __init__(self, path: os.PathLike[str]) -> None:
            self.found = list(real(path))  # listed now, removed before anyone stats it
            (project / ".app.py.swp").unlink(missing_ok=True)

        def __enter__(self) -> list[os.DirEntry[str]]:
            return self.found

        def __exit__(self, *exc: object) -> None:
            return None

    monkeypatch.setattr(os, "scandir", Listing)
    ctx = prepare(project, project / "Dockerfile", tmp_path / "work", reports=project / "reports")
    assert ctx.files == 2  # Dockerfile, app.py
