"""--changed-only: when a stage counts as up to date, and when any doubt makes it run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pytest

pytest.importorskip("nox")

import nox

from noxops.config import Config, load
from noxops.incremental import changed, fingerprint
from noxops.runtime import noxapi

PYPROJECT = """\
[project]
name = "demo"
version = "1.0"

[tool.noxops.security]
audit = false
"""


class _Venv:
    def __init__(self, location: Path | None) -> None:
        self.location = None if location is None else str(location)


class _Runner:
    def __init__(self, location: Path | None) -> None:
        self.venv = _Venv(location)


class FakeSession:
    """The few Session attributes changed.py reads; its environment is a folder with a record."""

    def __init__(self, name: str, posargs: list[str], location: Path | None) -> None:
        self.name = name
        self.posargs = posargs
        self.python = "3.11"
        self._runner = _Runner(location)
        self.logged: list[str] = []

    def log(self, message: str) -> None:
        self.logged.append(message)

    def error(self, *args: Any) -> None:
        from nox.sessions import _SessionQuit

        raise _SessionQuit(*args)


def _project(tmp_path: Path) -> Config:
    root = tmp_path / "demo"
    (root / "src" / "demo").mkdir(parents=True)
    (root / "src" / "demo" / "__init__.py").write_text("X = 1\n")
    (root / "tests").mkdir()
    (root / "tests" / "test_x.py").write_text("def test_x() -> None: ...\n")
    (root / "docs").mkdir()
    (root / "docs" / "index.md").write_text("# demo\n")
    (root / "pyproject.toml").write_text(PYPROJECT)
    return load(root)


ENV_DIR: list[Path] = []


@pytest.fixture(autouse=True)
def _environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fake environment folder: a fingerprint record and one installed distribution; neither
    --changed-only nor --no-cache on from the environment (a test sets them itself)."""
    monkeypatch.delenv(changed.ENV_VAR, raising=False)
    monkeypatch.delenv(changed.FORCE_ENV, raising=False)
    location = tmp_path / "env"
    (location / "lib" / "python3.11" / "site-packages" / "black-24.1.0.dist-info").mkdir(
        parents=True
    )
    fingerprint.EnvRecord("base", ["install-1"]).save(location)
    ENV_DIR[:] = [location]


def _session(name: str = "lint", posargs: list[str] | None = None) -> Any:
    return FakeSession(name, posargs if posargs is not None else [], ENV_DIR[0])


def _stage(name: str) -> Any:
    from noxops.stages import STAGES

    return STAGES[name]


def test_requested_by_flag_env_or_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = _project(tmp_path)
    session = _session(posargs=["-x", changed.FLAG, "tests"])
    assert changed.requested(cast(nox.Session, session), config)
    assert session.posargs == ["-x", "tests"]  # never handed to the tools
    assert not changed.requested(cast(nox.Session, _session()), config)
    monkeypatch.setenv(changed.ENV_VAR, "1")
    assert changed.requested(cast(nox.Session, _session()), config)
    (config.root / "pyproject.toml").write_text(
        PYPROJECT.replace("[tool.noxops.security]", "[tool.noxops]\nchanged_only = true\n\n"
                          "[tool.noxops.security]")
    )  # fmt: skip
    configured = load(config.root)
    assert configured.changed_only
    monkeypatch.setenv(changed.ENV_VAR, "0")  # the environment variable wins
    assert not changed.requested(cast(nox.Session, _session()), configured)
    monkeypatch.delenv(changed.ENV_VAR)
    assert changed.requested(cast(nox.Session, _session()), configured)


def _key(config: Config, stage: str, session: str = "lint") -> str:
    return changed.stage_inputs(cast(nox.Session, _session(session)), _stage(stage), config).key


def test_lint_inputs_cover_its_paths_and_top_level_files_only(tmp_path: Path) -> None:
    config = _project(tmp_path)
    before = _key(config, "lint")
    (config.root / "docs" / "index.md").write_text("# changed docs\n")
    assert _key(config, "lint") == before  # lint does not read docs/
    (config.root / "reports").mkdir()
    (config.root / "reports" / "ruff.json").write_text("[]")
    assert _key(config, "lint") == before  # its own reports are outputs, not inputs
    (config.root / "src" / "demo" / "__init__.py").write_text("X = 2\n")
    after_source = _key(config, "lint")
    assert after_source != before
    (config.root / "ruff.toml").write_text("line-length = 90\n")  # top-level tool config
    assert _key(config, "lint") != after_source


def test_tests_read_the_whole_project(tmp_path: Path) -> None:
    config = _project(tmp_path)
    before = _key(config, "tests", "tests-3.11")
    (config.root / "docs" / "index.md").write_text("# changed docs\n")
    assert _key(config, "tests", "tests-3.11") != before
    assert _key(config, "tests", "tests-3.12") != _key(config, "tests", "tests-3.11")


def test_posargs_and_tool_environment_variables_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _project(tmp_path)
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    plain = _key(config, "tests", "tests-3.11")
    with_args = changed.stage_inputs(
        cast(nox.Session, _session("tests-3.11", ["-k", "slow"])), _stage("tests"), config
    ).key
    assert with_args != plain
    monkeypatch.setenv("PYTEST_ADDOPTS", "-x")
    assert _key(config, "tests", "tests-3.11") != plain


def test_environment_and_tool_versions_count(tmp_path: Path) -> None:
    config = _project(tmp_path)
    before = _key(config, "lint")
    site = ENV_DIR[0] / "lib" / "python3.11" / "site-packages"
    (site / "black-24.1.0.dist-info").rename(site / "black-24.2.0.dist-info")
    upgraded = _key(config, "lint")
    assert upgraded != before
    fingerprint.EnvRecord("base", ["install-2"]).save(ENV_DIR[0])
    assert _key(config, "lint") != upgraded
    (ENV_DIR[0] / fingerprint.ENV_FILE).unlink()
    with pytest.raises(LookupError, match="no fingerprint"):
        _key(config, "lint")
    outside = FakeSession("lint", [], None)  # --no-venv: the tools are unknown
    with pytest.raises(LookupError, match="environment"):
        changed.stage_inputs(cast(nox.Session, outside), _stage("lint"), config)


def test_stages_that_cannot_be_fingerprinted_always_run(tmp_path: Path) -> None:
    config = _project(tmp_path)
    with pytest.raises(LookupError):
        _key(config, "coverage")  # not in SCOPES: reads other sessions' outputs
    audited = load(config.root, {"security": {"audit": True}})
    with pytest.raises(LookupError, match="advisory"):
        _key(audited, "security")
    assert _key(config, "security")  # bandit alone depends on files only


def test_verdict_needs_a_finished_record_the_same_fingerprint_and_the_saved_reports(
    tmp_path: Path,
) -> None:
    config = _project(tmp_path)
    inputs = changed.StageInputs({"files": "a", "config": "b"})
    assert changed._verdict(config, "lint", inputs, None) == "no completed run recorded"
    unfinished = {"fingerprint": inputs.key, "outputs": []}  # no finished marker
    assert changed._verdict(config, "lint", inputs, unfinished) == "no completed run recorded"
    old = {
        "fingerprint": "other",
        "finished": "2026-11-27T09:00:00Z",
        "inputs": {"files": "x", "config": fingerprint.digest("b")},
    }
    why = changed._verdict(config, "lint", inputs, old)
    assert why is not None and "(files)" in why
    record = {"fingerprint": inputs.key, "outputs": ["ruff.json"], "finished": "2026"}
    missing = changed._verdict(config, "lint", inputs, record)
    assert missing is not None and "ruff.json" in missing
    saved = changed.stash_dir(config, "lint")
    saved.mkdir(parents=True)
    (saved / "ruff.json").write_text("[]")
    assert changed._verdict(config, "lint", inputs, record) is None


def test_a_failed_run_is_replayed_with_its_reports_and_reason_until_forced(tmp_path: Path) -> None:
    from nox.command import CommandFailed
    from nox.sessions import _SessionQuit

    from noxops.reports.records import Recorder

    config = _project(tmp_path)
    stage = _stage("lint")
    ruff = config.reports / "ruff.json"
    first = _session("lint", [changed.FLAG])
    recorder = Recorder()
    with (
        pytest.raises(_SessionQuit),
        changed.tracking(cast(nox.Session, first), stage, config, recorder) as needed,
    ):
        assert needed
        ruff.parent.mkdir(parents=True, exist_ok=True)
        ruff.write_text('["finding"]')
        raise _SessionQuit("lint failed: black")
    record = changed._load_record(changed.record_path(config, "lint"))
    assert record is not None and record["status"] == "failed" and record["finished"]
    assert record["reason"] == "lint failed: black" and record["outputs"] == ["ruff.json"]
    assert recorder.keep_log == changed.stash_dir(config, "lint") / changed.LOG

    ruff.write_text("[]")  # a later run (another stage, another branch) overwrote it
    second = _session("lint", [changed.FLAG])
    again = Recorder()
    with (
        pytest.raises(_SessionQuit, match=r"lint failed: black \(unchanged since .*not rerun"),
        changed.tracking(cast(nox.Session, second), stage, config, again),
    ):
        raise AssertionError("a replayed failure does not run the stage")  # pragma: no cover
    assert ruff.read_text() == '["finding"]'  # its own findings, restored
    assert again.replayed == record["finished"]

    forced = _session("lint", [changed.FLAG, changed.NO_CACHE])
    with changed.tracking(cast(nox.Session, forced), stage, config) as needed:
        assert needed and forced.posargs == []
    fresh = changed._load_record(changed.record_path(config, "lint"))
    assert fresh is not None and fresh["status"] == "success"

    # A command that failed is re-raised as one; Ctrl-C records nothing.
    (config.root / "src" / "demo" / "__init__.py").write_text("X = 5\n")
    with (
        pytest.raises(CommandFailed),
        changed.tracking(cast(nox.Session, _session("lint", [changed.FLAG])), stage, config),
    ):
        raise CommandFailed("Returned code 1")
    with (
        pytest.raises(CommandFailed, match="not rerun"),
        changed.tracking(cast(nox.Session, _session("lint", [changed.FLAG])), stage, config),
    ):
        raise AssertionError("replayed")  # pragma: no cover
    (config.root / "src" / "demo" / "__init__.py").write_text("X = 6\n")
    with (
        pytest.raises(KeyboardInterrupt),
        changed.tracking(cast(nox.Session, _session("lint", [changed.FLAG])), stage, config),
    ):
        raise KeyboardInterrupt
    assert not changed.record_path(config, "lint").exists()  # never replayed from a killed run


def test_tracking_records_success_and_then_reports_up_to_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _project(tmp_path)
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    stage = _stage("lint")
    first = _session("lint", [changed.FLAG])
    with changed.tracking(cast(nox.Session, first), stage, config) as needed:
        assert needed
        (config.reports / "ruff.json").parent.mkdir(parents=True, exist_ok=True)
        (config.reports / "ruff.json").write_text("[]")
    record = changed._load_record(config.reports / "fingerprints" / "lint.json")
    assert record is not None and record["outputs"] == ["ruff.json"]
    key = (config.reports / "fingerprints" / "lint.txt").read_text().strip()
    assert key == record["fingerprint"] and len(key) == 64

    output = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    second = _session("lint", [changed.FLAG])
    with changed.tracking(cast(nox.Session, second), stage, config) as needed:
        assert not needed
    assert any("up to date" in line for line in second.logged)
    assert output.read_text() == f"fingerprint-lint={key}\n"

    # A failed run leaves no record: the next one runs.
    (config.root / "src" / "demo" / "__init__.py").write_text("X = 3\n")
    third = _session("lint", [changed.FLAG])
    with (
        pytest.raises(RuntimeError),
        changed.tracking(cast(nox.Session, third), stage, config) as needed,
    ):
        assert needed
        raise RuntimeError("lint failed")
    assert not (config.reports / "fingerprints" / "lint.json").exists()
    (config.root / "src" / "demo" / "__init__.py").write_text("X = 1\n")  # back as it was
    fourth = _session("lint", [changed.FLAG])
    with changed.tracking(cast(nox.Session, fourth), stage, config) as needed:
        assert needed


def test_a_run_keeps_only_its_own_report_files_when_others_write_beside_it(tmp_path: Path) -> None:
    """Under ``nox -j`` other sessions write their reports while this one runs: a replay of
    this session must never restore (stale copies of) their files over fresh ones."""
    from noxops.stages import STAGES
    from noxops.stages.base import output_owners

    config = _project(tmp_path)
    owners = output_owners(STAGES.for_config(config), config)
    py = config.pythons[-1]
    written = [
        "ruff.json",  # lint's own
        "bandit.json",  # security's
        f"junit-{py}.xml",  # tests-<py>'s
        f"coverage/.coverage.{py}",  # tests-<py>'s coverage data
        f"coverage/.coverage.{py}-journal",  # ... while SQLite writes it
        f"coverage-{py}.xml.partial",  # tests-<py>'s XML, while it is being written
        "htmlcov/index.html",  # under the coverage session's folder
        "notes.txt",  # declared by no stage: kept
    ]
    with changed.tracking(
        cast(nox.Session, _session("lint", [changed.FLAG])), _stage("lint"), config, None, owners
    ) as needed:
        assert needed
        for name in written:
            (config.reports / name).parent.mkdir(parents=True, exist_ok=True)
            (config.reports / name).write_text(name)
    record = changed._load_record(changed.record_path(config, "lint"))
    assert record is not None and record["outputs"] == ["notes.txt", "ruff.json"]

    # The tests session of that Python keeps its own files, not another Python's.
    other = config.pythons[0]
    session = _session(f"tests-{py}", [changed.FLAG])
    with changed.tracking(cast(nox.Session, session), _stage("tests"), config, None, owners):
        for name in (f"junit-{py}.xml", f"junit-{other}.xml", f"coverage/.coverage.{py}"):
            (config.reports / name).write_text("again")
    record = changed._load_record(changed.record_path(config, f"tests-{py}"))
    assert record is not None
    assert record["outputs"] == [f"coverage/.coverage.{py}", f"junit-{py}.xml"]


def test_the_flags_found_are_remembered_per_session_object(tmp_path: Path) -> None:
    config = _project(tmp_path)
    both = _session("tests-3.11", [changed.FLAG, "-x", changed.NO_CACHE])
    assert changed.requested(cast(nox.Session, both), config)
    assert changed.forced(cast(nox.Session, both))
    assert both.posargs == ["-x"]  # neither flag reaches the tools
    assert changed.was_requested(cast(nox.Session, both))
    assert changed.was_forced(cast(nox.Session, both))

    only = _session("tests-3.11", [changed.FLAG])
    assert changed.requested(cast(nox.Session, only), config)
    assert not changed.forced(cast(nox.Session, only))
    assert changed.was_requested(cast(nox.Session, only))
    assert not changed.was_forced(cast(nox.Session, only))  # another session's flag
    assert not changed.was_requested(cast(nox.Session, _session("lint", [])))


def test_the_nox_version_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A result recorded under one nox release is not replayed under another (nox has no
    ``__version__``: the version comes from its distribution's metadata)."""
    config = _project(tmp_path)
    parts = changed.stage_inputs(cast(nox.Session, _session()), _stage("lint"), config).parts
    assert parts["nox"] == noxapi.nox_version() != "?"
    before = _key(config, "lint")
    monkeypatch.setattr(noxapi, "nox_version", lambda: "1999.1.1")
    assert _key(config, "lint") != before


def test_a_replay_says_which_commit_it_replays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record keeps the commit its run ran on (the CI provider's): a replay's line says
    "replayed from <commit>", where records travel between CI jobs through the cache."""
    config = _project(tmp_path)
    monkeypatch.setenv("GITLAB_CI", "true")
    monkeypatch.setenv("CI_COMMIT_SHA", "0123456789abcdef" * 2 + "01234567")
    stage = _stage("lint")
    with changed.tracking(cast(nox.Session, _session("lint", [changed.FLAG])), stage, config):
        pass
    record = changed._load_record(changed.record_path(config, "lint"))
    assert record is not None and record["commit"] == "0123456789abcdef" * 2 + "01234567"
    monkeypatch.setenv("CI_COMMIT_SHA", "fedcba9876543210" * 2 + "fedcba98")  # a later commit
    again = _session("lint", [changed.FLAG])
    with changed.tracking(cast(nox.Session, again), stage, config) as needed:
        assert not needed
    (line,) = [m for m in again.logged if "up to date" in m]
    assert "unchanged since" in line and "replayed from 0123456789ab;" in line


@pytest.mark.parametrize(
    ("record", "why"),
    [
        ('{"fingerprint": "', "truncated, or not a JSON object"),
        ('["lint"]', "truncated, or not a JSON object"),
        ('{"session": "tests-3.12"}', "it is the record of 'tests-3.12'"),
        ('{"session": "lint", "status": "success", "finished": "x"}', "no fingerprint"),
        ("escape", "report files outside reports/"),
        ("rootless", "the folder it ran in is not an absolute path"),
    ],
)
def test_a_corrupt_or_foreign_record_is_ignored_in_one_line_and_the_stage_runs(
    tmp_path: Path, record: str, why: str
) -> None:
    """A record from a CI cache is never trusted: a truncated file, another tool's or another
    session's, or one whose report files point outside reports/ (its replay would write
    there) is ignored with one line, the stage runs, and its record replaces it."""
    config = _project(tmp_path)
    stage = _stage("lint")
    path = changed.record_path(config, "lint")
    victim = config.root / "victim.txt"
    victim.write_text("mine\n")
    first = _session("lint", [changed.FLAG])
    with changed.tracking(cast(nox.Session, first), stage, config):
        pass  # a real record, then spoiled: its fingerprint matches the inputs
    if record == "escape":
        good = json.loads(path.read_text())
        good["outputs"] = ["../victim.txt"]
        (changed.stash_dir(config, "lint").parent / "victim.txt").write_text("forged\n")
        record = json.dumps(good)
    if record == "rootless":
        good = json.loads(path.read_text())
        good["root"] = "builds/acme/shop"
        record = json.dumps(good)
    path.write_text(record)
    second = _session("lint", [changed.FLAG])
    with changed.tracking(cast(nox.Session, second), stage, config) as needed:
        assert needed  # it runs
    said = [m for m in second.logged if not m.startswith("noxops: fingerprint of")]
    assert said == [
        "noxops: lint runs: ignoring reports/fingerprints/lint.json, not a record noxops "
        f"wrote for it: {why}"
    ]
    assert not any("up to date" in m for m in second.logged)
    fresh = changed._load_record(path)
    assert fresh is not None and fresh["session"] == "lint" and fresh["status"] == "success"
    assert victim.read_text() == "mine\n"  # never written through


def test_a_record_made_in_another_folder_replays_with_this_folders_paths(tmp_path: Path) -> None:
    """A CI job may work in another folder than the run it replays (GitLab's runner slots,
    Jenkins's per-branch workspaces): the folder is not an input; the restored report files
    name this folder where they named that one, and only that folder."""
    import shutil

    stage = _stage("lint")
    first = _project(tmp_path / "slot0")
    ruff = first.reports / "ruff.json"
    with changed.tracking(cast(nox.Session, _session("lint", [changed.FLAG])), stage, first):
        ruff.parent.mkdir(parents=True, exist_ok=True)
        there = f"{first.root}/src/demo/__init__.py"
        ruff.write_bytes(
            (
                f'[{{"filename": "{there}", "code": "F401"}},\r\n'
                f' {{"filename": "{first.root}2/other.py"}}, "{first.root}",'
                f' "https://docs.example{first.root}/page"]'
            ).encode()
        )
        (first.reports / "data.bin").write_bytes(b"SQLite format 3\0" + str(first.root).encode())
    made = changed._load_record(changed.record_path(first, "lint"))
    assert made is not None and made["root"] == str(first.root)

    (tmp_path / "slot1").mkdir()
    shutil.copytree(first.root, tmp_path / "slot1" / "demo")
    second = load(tmp_path / "slot1" / "demo")
    assert _key(second, "lint") == _key(first, "lint")  # the folder is not an input
    ruff2 = second.reports / "ruff.json"
    ruff2.write_text("[]")
    again = _session("lint", [changed.FLAG])
    with changed.tracking(cast(nox.Session, again), stage, second) as needed:
        assert not needed  # replayed
    assert ruff2.read_bytes().decode() == (
        f'[{{"filename": "{second.root}/src/demo/__init__.py", "code": "F401"}},\r\n'
        f' {{"filename": "{first.root}2/other.py"}}, "{second.root}",'
        f' "https://docs.example{first.root}/page"]'
    )
    binary = b"SQLite format 3\0" + str(first.root).encode()
    assert (second.reports / "data.bin").read_bytes() == binary  # binary: left as it is
    assert (
        f"noxops: lint's recorded run was made in {first.root}: its report files are restored "
        f"with this folder's paths ({second.root})"
    ) in again.logged

    # In its own folder nothing is rewritten, and nothing said.
    same = _session("lint", [changed.FLAG])
    with changed.tracking(cast(nox.Session, same), stage, first) as needed:
        assert not needed
    assert not any("recorded run was made in" in m for m in same.logged)
    assert str(first.root) in ruff.read_text()


def test_a_run_made_at_the_filesystem_root_is_not_rebased(tmp_path: Path) -> None:
    report = tmp_path / "ruff.json"
    report.write_text('[{"filename": "/src/demo/__init__.py"}]')
    changed._rebase(report, "/", str(tmp_path))
    assert report.read_text() == '[{"filename": "/src/demo/__init__.py"}]'
