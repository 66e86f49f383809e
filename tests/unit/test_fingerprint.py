"""What an environment fingerprint covers, and what it deliberately leaves out."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

pytest.importorskip("nox")

from noxops.incremental import fingerprint

PYPROJECT = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "demo"
version = "1.0"
dependencies = ["attrs"]

[dependency-groups]
test = ["pytest"]

[tool.ruff]
line-length = 100
"""


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    (root / "src" / "demo").mkdir(parents=True)
    (root / "src" / "demo" / "__init__.py").write_text("X = 1\n")
    (root / "pyproject.toml").write_text(PYPROJECT)
    return root


def _key(root: Path, *args: str) -> str:
    return fingerprint.digest(fingerprint.install_key(args, {}, root))


def test_digest_is_stable_and_order_independent_for_mappings() -> None:
    assert fingerprint.digest({"a": 1, "b": [1, 2]}) == fingerprint.digest({"b": [1, 2], "a": 1})
    assert fingerprint.digest({"a": 1}) != fingerprint.digest({"a": 2})
    assert fingerprint.digest(["x", "y"]) != fingerprint.digest(["y", "x"])


def test_editable_project_install_follows_metadata_not_groups_or_tool_tables(
    tmp_path: Path,
) -> None:
    root = _project(tmp_path)
    before = _key(root, "-e", ".", "pytest")
    text = (root / "pyproject.toml").read_text()
    # Dependency groups reach installs as explicit requirements, tool tables never do.
    (root / "pyproject.toml").write_text(
        text.replace('test = ["pytest"]', 'test = ["pytest", "hypothesis"]').replace(
            "line-length = 100", "line-length = 88"
        )
    )
    assert _key(root, "-e", ".", "pytest") == before
    # Editing the source of an editable install needs no reinstall.
    (root / "src" / "demo" / "__init__.py").write_text("X = 2\n")
    assert _key(root, "-e", ".", "pytest") == before
    # The project's own dependencies do.
    (root / "pyproject.toml").write_text(text.replace('["attrs"]', '["attrs", "click"]'))
    assert _key(root, "-e", ".", "pytest") != before


def test_lock_files_count_for_project_installs(tmp_path: Path) -> None:
    root = _project(tmp_path)
    before = _key(root, "-e", ".")
    tools_before = _key(root, "black", "ruff")
    (root / "uv.lock").write_text("version = 1\n")
    assert _key(root, "-e", ".") != before
    assert _key(root, "black", "ruff") == tools_before  # nothing local: unaffected
    middle = _key(root, "-e", ".")
    (root / "requirements-dev.txt").write_text("pytest==8.0\n")
    assert _key(root, "-e", ".") != middle


def test_non_editable_install_follows_the_source(tmp_path: Path) -> None:
    root = _project(tmp_path)
    before = _key(root, ".")
    (root / "src" / "demo" / "__init__.py").write_text("X = 2\n")
    assert _key(root, ".") != before


def test_requirement_and_constraint_files_are_read(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "reqs.txt").write_text("black==24.1.0\n")
    (root / "constraints.txt").write_text("click<9\n")
    before = _key(root, "-r", "reqs.txt", "--constraint=constraints.txt")
    (root / "reqs.txt").write_text("black==24.2.0\n")
    middle = _key(root, "-r", "reqs.txt", "--constraint=constraints.txt")
    assert middle != before
    (root / "constraints.txt").write_text("click<8\n")
    assert _key(root, "-r", "reqs.txt", "--constraint=constraints.txt") != middle


def test_base_covers_interpreter_backend_and_installer_settings(tmp_path: Path) -> None:
    exe = tmp_path / "python3.99"
    exe.write_text("#!/bin/sh\n")
    base = fingerprint.base_parts(str(exe), "uv", env={})
    assert base["interpreter"]["path"] == str(exe.resolve())
    other = tmp_path / "python3.98"
    other.write_text("#!/bin/sh\n")
    assert fingerprint.digest(fingerprint.base_parts(str(other), "uv", env={})) != (
        fingerprint.digest(base)
    )
    assert fingerprint.digest(fingerprint.base_parts(str(exe), "virtualenv", env={})) != (
        fingerprint.digest(base)
    )
    secret_index = {"UV_INDEX_URL": "https://user:s3cret@example.invalid/simple"}
    with_index = fingerprint.base_parts(str(exe), "uv", env=secret_index)
    assert fingerprint.digest(with_index) != fingerprint.digest(base)
    assert "s3cret" not in repr(with_index)  # hashed, never stored in clear
    # A rebuilt interpreter at the same path (new size or mtime) counts as a change.
    exe.write_text("#!/bin/sh\n# rebuilt\n")
    assert fingerprint.digest(fingerprint.base_parts(str(exe), "uv", env={})) != (
        fingerprint.digest(base)
    )


def test_tree_digest_walks_without_git_and_skips_caches(tmp_path: Path) -> None:
    root = _project(tmp_path)
    first, count = fingerprint.tree_digest(root, ["src"])
    assert count == 1
    cache = root / "src" / "demo" / "__pycache__"
    cache.mkdir()
    (cache / "__init__.cpython-311.pyc").write_bytes(b"\0")
    (root / "src" / "demo.egg-info").mkdir()
    (root / "src" / "demo.egg-info" / "PKG-INFO").write_text("x")
    assert fingerprint.tree_digest(root, ["src"]) == (first, 1)
    (root / "src" / "demo" / "new.py").write_text("")
    assert fingerprint.tree_digest(root, ["src"])[0] != first
    # Renaming changes it too (names are hashed, not only contents).
    (root / "src" / "demo" / "new.py").rename(root / "src" / "demo" / "other.py")
    renamed = fingerprint.tree_digest(root, ["src"])[0]
    assert renamed not in {first}
    assert fingerprint.tree_digest(root, ["."], exclude=["src"])[1] == 1  # only pyproject


def test_tree_digest_uses_git_and_its_ignores(tmp_path: Path) -> None:
    root = _project(tmp_path)
    try:
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("git is not available")
    (root / ".gitignore").write_text("scratch/\n")
    before = fingerprint.tree_digest(root, ["."])
    (root / "scratch").mkdir()
    (root / "scratch" / "notes.txt").write_text("ignored")
    assert fingerprint.tree_digest(root, ["."]) == before
    (root / "src" / "demo" / "extra.py").write_text("Y = 1\n")  # untracked, not ignored
    assert fingerprint.tree_digest(root, ["."])[1] == before[1] + 1


def test_installed_distributions_reads_metadata_folders(tmp_path: Path) -> None:
    site = tmp_path / "env" / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    (site / "black-24.1.0.dist-info").mkdir()
    (site / "ruff-0.5.0.dist-info").mkdir()
    (site / "black").mkdir()
    assert fingerprint.installed_distributions(tmp_path / "env") == [
        "black==24.1.0",
        "ruff==0.5.0",
    ]


def test_env_record_round_trip_and_damage(tmp_path: Path) -> None:
    record = fingerprint.EnvRecord("base", ["a", "b"])
    record.save(tmp_path)
    loaded = fingerprint.EnvRecord.load(tmp_path)
    assert loaded == record and loaded is not None and loaded.key == record.key
    (tmp_path / fingerprint.ENV_FILE).write_text("{not json")
    assert fingerprint.EnvRecord.load(tmp_path) is None
    (tmp_path / fingerprint.ENV_FILE).write_text('{"base": "x"}')
    assert fingerprint.EnvRecord.load(tmp_path) is None
    assert fingerprint.EnvRecord.load(tmp_path / "missing") is None


def test_walk_skips_environments_of_any_name(tmp_path: Path) -> None:
    root = _project(tmp_path)
    before = fingerprint.tree_digest(root, ["."])
    env = root / ".nox-hand" / "lint"
    (env / "lib").mkdir(parents=True)
    (env / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (env / "lib" / "site.py").write_text("")
    assert fingerprint.tree_digest(root, ["."]) == before


def test_dependency_group_edit_leaves_a_non_editable_install_alone(tmp_path: Path) -> None:
    root = _project(tmp_path)
    before = _key(root, ".")
    text = (root / "pyproject.toml").read_text()
    (root / "pyproject.toml").write_text(text.replace('["pytest"]', '["pytest", "attrs"]'))
    assert _key(root, ".") == before


def _package_with_output_named_folders(tmp_path: Path) -> Path:
    """A project whose package has subpackages named like build output (as noxops's own)."""
    root = _project(tmp_path)
    for sub in ("build", "reports", "dist"):
        (root / "src" / "demo" / sub).mkdir()
        (root / "src" / "demo" / sub / "__init__.py").write_text("A = 1\n")
    return root


def _project_output(root: Path) -> None:
    """What a run leaves at the project's root: build output and report files."""
    for out in ("build/lib/demo.py", "dist/demo-1.0.tar.gz", "reports/junit.xml"):
        (root / out).parent.mkdir(parents=True, exist_ok=True)
        (root / out).write_text("output")


def test_walk_sees_package_folders_named_like_build_output(tmp_path: Path) -> None:
    root = _package_with_output_named_folders(tmp_path)
    files = fingerprint.file_digests(root, ["."])
    for sub in ("build", "reports", "dist"):
        assert f"src/demo/{sub}/__init__.py" in files
    before = fingerprint.tree_digest(root, ["."])
    assert before[1] == 5  # pyproject.toml and four __init__.py
    (root / "src" / "demo" / "reports" / "__init__.py").write_text("A = 2\n")
    assert fingerprint.tree_digest(root, ["."])[0] != before[0]
    assert fingerprint.tree_digest(root, ["src/demo"])[1] == 4  # a narrower start, the same rule
    # The project's own output folders stay out, at the root only.
    after = fingerprint.tree_digest(root, ["."])
    _project_output(root)
    assert fingerprint.tree_digest(root, ["."]) == after


def test_git_sees_untracked_files_in_package_folders_named_like_build_output(
    tmp_path: Path,
) -> None:
    root = _package_with_output_named_folders(tmp_path)
    try:
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("git is not available")
    before = fingerprint.tree_digest(root, ["."])
    assert before[1] == 5
    (root / "src" / "demo" / "build" / "steps.py").write_text("")  # untracked, not ignored
    assert fingerprint.tree_digest(root, ["."])[1] == 6
    after = fingerprint.tree_digest(root, ["."])
    _project_output(root)  # untracked too, and no .gitignore names it
    assert fingerprint.tree_digest(root, ["."]) == after
