"""noxops deletes and overwrites only what it made, inside the project (issue 25, item 1).

``wheelhouse = "./"`` had emptied a project (its sources, its .git and an uncommitted file),
``"../victim"`` a sibling folder, and ``manifest = "../../x.json"`` overwrote a file outside
the project. Here the projects are real folders in a real git repository, with a tracked
folder, an uncommitted file, a sibling folder and a symlink leading out; every bad value is
refused in one line when the configuration loads, and nothing is deleted.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from noxops.config import Config, load
from noxops.errors import ConfigError, NoxopsError
from noxops.image import packages
from noxops.image.command import no_install
from noxops.project import owned

WHEEL = "app-0.1.0-py3-none-any.whl"


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=root, check=True, capture_output=True,
    )  # fmt: skip


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A git project with committed sources and a tracked folder, an uncommitted file, a
    sibling folder ``victim`` and a symlink ``out`` leading to it."""
    root = tmp_path / "work" / "app"
    (root / "src" / "app").mkdir(parents=True)
    (root / "src" / "app" / "__init__.py").write_text("VALUE = 1\n")
    (root / "assets").mkdir()
    (root / "assets" / "logo.txt").write_text("logo\n")
    (root / "pyproject.toml").write_text("[project]\nname = 'app'\nversion = '0.1.0'\n")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "init")
    (root / "notes.txt").write_text("not committed yet\n")
    victim = tmp_path / "work" / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("keep me\n")
    (tmp_path / "x.json").write_text('{"mine": true}\n')
    (root / "out").symlink_to(victim)
    (root / "loop").symlink_to("loop")
    return root


def _snapshot(top: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(top)): p.read_bytes()
        for p in sorted(top.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def _configure(root: Path, table: str) -> None:
    text = (root / "pyproject.toml").read_text().split("[tool.noxops", 1)[0]
    (root / "pyproject.toml").write_text(text + table)


REFUSED = [
    ("[tool.noxops.image]\nwheelhouse = './'\n", "wheelhouse", "is the project folder itself"),
    ("[tool.noxops.image]\nwheelhouse = '.'\n", "wheelhouse", "is the project folder itself"),
    ("[tool.noxops.image]\nwheelhouse = '../victim'\n", "wheelhouse", "is outside the project"),
    ("[tool.noxops.image]\nwheelhouse = '/tmp'\n", "wheelhouse", "is outside the project"),
    ("[tool.noxops.image]\nwheelhouse = 'assets'\n", "wheelhouse", "holds files git tracks"),
    ("[tool.noxops.image]\nwheelhouse = 'src'\n", "wheelhouse", "holds files git tracks"),
    ("[tool.noxops.image]\nwheelhouse = 'out'\n", "wheelhouse", "through a symlink"),
    ("[tool.noxops.image]\nwheelhouse = 'out/wheels'\n", "wheelhouse", "through a symlink"),
    ("[tool.noxops.image]\nwheelhouse = '.git'\n", "wheelhouse", "is inside .git"),
    ("[tool.noxops.image]\nwheelhouse = '.git/wheels'\n", "wheelhouse", "is inside .git"),
    ("[tool.noxops.image]\nwheelhouse = 'pyproject.toml'\n", "wheelhouse", "is a file git tracks"),
    ("[tool.noxops.image]\nwheelhouse = 'loop/wheels'\n", "wheelhouse", "not a usable path"),
    ('[tool.noxops.image]\nwheelhouse = "a\\u0000b"\n', "wheelhouse", "not a usable path"),
    ("[tool.noxops.image]\nmanifest = '../../x.json'\n", "manifest", "is outside the folder"),
    ("[tool.noxops.image]\nmanifest = '../pyproject.toml'\n", "manifest", "is outside the folder"),
    ("[tool.noxops.image]\nmanifest = '.'\n", "manifest", "is the folder reports itself"),
    ("[tool.noxops]\nreports_dir = '.'\n", "reports_dir", "is the project folder itself"),
    ("[tool.noxops]\nreports_dir = '..'\n", "reports_dir", "is outside the project"),
    ("[tool.noxops]\nreports_dir = '../victim'\n", "reports_dir", "is outside the project"),
    ("[tool.noxops]\nreports_dir = 'src/app'\n", "reports_dir", "holds files git tracks"),
    ("[tool.noxops]\nreports_dir = 'out'\n", "reports_dir", "through a symlink"),
]


@pytest.mark.parametrize(
    ("table", "key", "why"), REFUSED, ids=[t.strip().splitlines()[-1] for t, _, _ in REFUSED]
)
def test_a_path_setting_that_is_not_noxopss_own_is_refused_at_load(
    project: Path, table: str, key: str, why: str
) -> None:
    before = _snapshot(project.parent.parent)
    _configure(project, table)
    with pytest.raises(ConfigError) as err:
        load(project)
    message = str(err.value)
    assert "\n" not in message
    assert f"{key}" in err.value.key and why in message, message
    assert "like '" in message  # how to fix it
    after = _snapshot(project.parent.parent)
    written = "work/app/pyproject.toml"  # the setting, above
    assert after.pop(written) != before.pop(written)
    assert after == before


def test_places_of_noxopss_own_load(project: Path) -> None:
    _configure(
        project,
        "[tool.noxops]\nreports_dir = 'out-reports'\n"
        "[tool.noxops.image]\nwheelhouse = 'build/wheelhouse'\nmanifest = 'build/m.json'\n",
    )
    config = load(project)
    assert config.image.wheelhouse == "build/wheelhouse"


def _fake_tools(argv: Sequence[str], env: Mapping[str, str]) -> None:
    """`uv build`, `uv pip compile` and `pip wheel`, each writing what the real one would."""
    args = list(argv)
    if args[:2] == ["uv", "build"]:
        out = Path(args[args.index("--out-dir") + 1])
        (out / WHEEL).write_bytes(b"new wheel")
        (out / "app-0.1.0.tar.gz").write_bytes(b"new sdist")
    elif args[:3] == ["uv", "pip", "compile"]:
        Path(args[args.index("-o") + 1]).write_text("app==0.1.0\nidna==3.7\n")
    elif "wheel" in args:
        folder = Path(args[args.index("--wheel-dir") + 1])
        for name in (WHEEL, "idna-3.7-py3-none-any.whl"):
            (folder / name).write_bytes(b"wheel")


def _fill(config: Config) -> list[str]:
    logged: list[str] = []
    packages.fill_wheelhouse(
        config, WHEEL, command=_fake_tools, install=no_install, python="3.12", log=logged.append
    )
    return logged


def _with_wheelhouse(config: Config, value: str) -> Config:
    """A configuration whose wheelhouse did not go through load (or changed on disk since)."""
    return dataclasses.replace(config, image=dataclasses.replace(config.image, wheelhouse=value))


def test_a_new_wheelhouse_is_made_marked_and_a_marked_one_emptied(project: Path) -> None:
    _configure(project, "[tool.noxops.image]\nwheelhouse = 'build/wheelhouse'\n")
    config = load(project)
    _fill(config)
    folder = project / "build" / "wheelhouse"
    assert (folder / owned.MARKER).is_file()
    (folder / "stale-1.0-py3-none-any.whl").write_bytes(b"old")
    (folder / "sub").mkdir()
    (folder / "sub" / "left.txt").write_text("x")
    _fill(config)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [owned.MARKER, WHEEL, "idna-3.7-py3-none-any.whl"]
    )


@pytest.mark.parametrize(
    "value",
    [
        *["src", "./", "../victim", "out", "notes-folder", "notes.txt", "planted-link", "loop"],
        pytest.param("a" * 300, id="name-too-long"),
    ],
)
def test_filling_refuses_a_folder_noxops_did_not_make(project: Path, value: str) -> None:
    """The second line of defence, when the filesystem changed after load or no git can
    tell: a folder holding anything, without the marker, is not emptied."""
    (project / "notes-folder").mkdir()
    (project / "notes-folder" / "draft.txt").write_text("draft\n")
    (project / "planted-link").symlink_to(project / "notes-folder")
    config = _with_wheelhouse(load(project), value)
    (project / ".git").rename(project / ".git-away")  # no git to ask: only the marker is proof
    before = _snapshot(project.parent.parent)
    with pytest.raises(ConfigError) as err:
        _fill(config)
    assert "\n" not in str(err.value) and "wheelhouse" in str(err.value)
    assert _snapshot(project.parent.parent) == before


def test_packages_refuse_a_dist_folder_leading_out(project: Path) -> None:
    victim = project.parent / "victim"
    (victim / WHEEL).write_bytes(b"someone else's wheel")
    (project / "dist").symlink_to(victim)
    before = _snapshot(victim)
    with pytest.raises(NoxopsError, match="through a symlink") as err:
        packages.build_packages(load(project), command=_fake_tools, install=no_install)
    assert "\n" not in str(err.value)
    assert _snapshot(victim) == before


def test_packages_still_replace_only_their_own_files_in_dist(project: Path) -> None:
    dist = project / "dist"
    dist.mkdir()
    (dist / "app-0.0.9-py3-none-any.whl").write_bytes(b"old")
    (dist / "other-1.0.tar.gz").write_bytes(b"theirs")
    (dist / "README").write_text("theirs\n")
    wheel, sdist = packages.build_packages(load(project), command=_fake_tools, install=no_install)
    assert (wheel, sdist) == (WHEEL, "app-0.1.0.tar.gz")
    assert sorted(p.name for p in dist.iterdir()) == sorted(
        ["README", "other-1.0.tar.gz", WHEEL, "app-0.1.0.tar.gz"]
    )


def test_nox_list_refuses_a_bad_wheelhouse_in_one_line(project: Path) -> None:
    """What the issue saw, one level up: the noxfile's load refuses before any session."""
    pytest.importorskip("nox")  # nox needs Python 3.10+: not in the tests-3.9 session
    _configure(project, "[tool.noxops.image]\nwheelhouse = './'\n")
    (project / "noxfile.py").write_text("import noxops\nnoxops.sessions()\n")
    proc = subprocess.run(
        [sys.executable, "-m", "nox", "-l"], cwd=project, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if "wheelhouse" in line]
    assert len(lines) == 1 and "is the project folder itself" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert (project / "src" / "app" / "__init__.py").is_file()
