"""The build's temporary folders carry a lease (issue 25, item 7).

``noxops-dist-*`` (the packages before dist/), ``noxops-wheelhouse-*`` (the resolution's
files) and ``noxops-build-*`` (the image's iid file and a full copy of the build context) had
none: a SIGKILLed build left them for good. Here real noxops code runs in child processes
until the command that works in the folder; one child is SIGKILLed there, another stays
alive, and a next run (a real ``build_packages``) reaps only the dead one's folder. Every
test has its own TMPDIR (tests/conftest.py), so the folders and leases counted are its own.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

PREFIXES = {"dist": "noxops-dist-", "wheelhouse": "noxops-wheelhouse-", "build": "noxops-build-"}

# A build stopped in the command that works in the temporary folder: it prints the folder,
# then waits for its stdin to close (or for SIGKILL) before failing that command.
CHILD = """
import subprocess, sys
from pathlib import Path
from noxops.image import packages, runner
from noxops.image.command import no_install
from noxops.config import load

mode, root = sys.argv[1], Path(sys.argv[2])

def hold(argv, env):
    args = list(argv)
    if "--out-dir" in args:  # uv build
        folder = Path(args[args.index("--out-dir") + 1])
    elif "-o" in args or "--iidfile" in args:  # uv pip compile, docker build
        folder = Path(args[args.index("-o" if "-o" in args else "--iidfile") + 1]).parent
    else:
        return
    print("FOLDER", folder, flush=True)
    if sys.argv[3:] == ["hold"]:
        sys.stdin.read()
        raise SystemExit(3)

def docker(*args, **kwargs):
    code = 0 if args[0] == "version" else 1
    return subprocess.CompletedProcess(list(args), code, "27.1.0\\n", "")

if mode == "dist":
    packages.build_packages(load(root), command=hold, install=no_install)
elif mode == "wheelhouse":
    packages.fill_wheelhouse(
        load(root), "app-0.1.0-py3-none-any.whl", command=hold, install=no_install,
        python="3.12", log=lambda line: None,
    )
else:
    config = load(root, {"image": {"wheelhouse": ""}})
    runner.run(config, [], command=hold, docker=docker, log=lambda line: None, environ={})
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    (root / "src" / "app").mkdir(parents=True)
    (root / "src" / "app" / "__init__.py").write_text("")
    (root / "pyproject.toml").write_text(
        "[project]\nname = 'app'\nversion = '0.1.0'\n"
        "[tool.noxops.image]\nsbom = false\npackages = false\nwheelhouse = 'build/wheelhouse'\n"
    )
    (root / "Dockerfile").write_text("FROM python:3.12-slim\n")
    return root


def _start(mode: str, project: Path) -> tuple[subprocess.Popen[str], Path]:
    """A build in ``mode`` held in its command; its temporary folder."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, mode, str(project), "hold"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()  # blocks until the child is in its command (or ended)
    assert line.startswith("FOLDER "), (line, proc.wait(60))
    return proc, Path(line.split(" ", 1)[1].strip())


def _end(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(60)
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            stream.close()


@pytest.mark.parametrize("mode", list(PREFIXES))
def test_a_sigkilled_builds_temporary_folder_is_reaped_by_the_next_run(
    project: Path, mode: str
) -> None:
    killed, dead_folder = _start(mode, project)
    live, live_folder = _start(mode, project)
    try:
        tmp = Path(tempfile.gettempdir())
        for folder in (dead_folder, live_folder):
            assert folder.parent == tmp and folder.name.startswith(PREFIXES[mode])
            assert folder.is_dir()
        if mode == "build":  # the full copy of the build context, without a .dockerignore
            assert (dead_folder / "context" / "src" / "app" / "__init__.py").is_file()
        killed.send_signal(signal.SIGKILL)
        assert killed.wait(60) == -signal.SIGKILL
        assert dead_folder.is_dir()  # what SIGKILL leaves

        subprocess.run(  # the next run: its own temporary folder reaps the dead's first
            [sys.executable, "-c", CHILD, "dist", str(project)], check=True, timeout=120
        )
        assert not dead_folder.exists()
        assert live_folder.is_dir()  # its owner lives: no proof, no reaping

        assert live.stdin is not None
        live.stdin.close()  # the live build's command fails: it removes its own folder
        assert live.wait(60) != 0
        assert not live_folder.exists()
    finally:
        _end(killed)
        _end(live)
