"""Real `nox -s build smoke` runs on a tiny HTTP service (tests/fixtures/service_project).

One image is built per module; the smoke runs then start it in different modes (healthy,
crashing, never healthy, failing tests, interrupted) and check that every container they
started is gone afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.noxrun import copy_fixture, run_nox
from support.traces import smoke_leftovers

from noxops.containers import engine
from noxops.image.smoke import LABEL

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def _git(project: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=project, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


def _smoke_containers() -> list[str]:
    """Every container (running or not) and network this test's smoke runs started."""
    return smoke_leftovers()


def _set_smoke_env(project: Path, **env: str) -> None:
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text().split("\n# test overrides\n")[0]
    extra = "\n# test overrides\n[tool.noxops.image.smoke.env]\n" if env else ""
    pyproject.write_text(text + extra + "".join(f'{k} = "{v}"\n' for k, v in env.items()))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, object]]]:
    project = copy_fixture("service_project", tmp_path_factory.mktemp("build"))
    _git(project, "init", "-q", "-b", "main")
    _git(project, "add", ".")
    _git(project, "commit", "-q", "-m", "initial")
    run = run_nox(project, "-s", "build", timeout=400)
    assert run.returncode == 0, run
    data = json.loads((project / "reports" / "build-manifest.json").read_text())
    try:
        yield project, data
    finally:
        if data.get("image_id"):
            engine.docker("rmi", "-f", str(data["image_id"]), check=False)


def test_build_makes_packages_image_labels_sbom_and_manifest(
    built: tuple[Path, dict[str, object]],
) -> None:
    project, data = built
    sha = _git(project, "rev-parse", "HEAD")
    assert data["image"] == "noxops-test/pingsvc"
    assert data["tags"] == ["main", f"main-{sha[:7]}", f"sha-{sha[:7]}", "latest"]
    assert data["wheel"] == "pingsvc-0.3.0-py3-none-any.whl"
    assert data["sdist"] == "pingsvc-0.3.0.tar.gz"
    assert sorted(p.name for p in (project / "dist").iterdir()) == [
        "pingsvc-0.3.0-py3-none-any.whl",
        "pingsvc-0.3.0.tar.gz",
    ]
    assert data["revision"] == sha
    assert data["digest"] is None and data["pushed"] is False
    # the manifest pins the image that exists in the engine, under every tag
    inspect = json.loads(engine.docker("image", "inspect", str(data["image_id"])).stdout)[0]
    assert sorted(inspect["RepoTags"]) == sorted(f"noxops-test/pingsvc:{t}" for t in data["tags"])
    labels = inspect["Config"]["Labels"]
    assert labels["org.opencontainers.image.title"] == "pingsvc"
    assert labels["org.opencontainers.image.description"].startswith("A tiny HTTP service")
    assert labels["org.opencontainers.image.source"] == "https://git.example/noxops/pingsvc"
    assert labels["org.opencontainers.image.revision"] == sha
    assert labels["org.opencontainers.image.version"] == "0.3.0"
    assert labels["org.opencontainers.image.licenses"] == "MIT"
    assert labels["org.opencontainers.image.created"].endswith("Z")
    assert data["labels"] == labels
    # the SBOM lists what is installed in the image, the project's wheel included
    sbom = json.loads((project / str(data["sbom"])).read_text())
    assert sbom["bomFormat"] == "CycloneDX" and sbom["specVersion"] == "1.5"
    names = {c["name"] for c in sbom["components"]}
    assert "pingsvc" in names and "pip" in names
    assert sbom["metadata"]["component"]["name"] == "noxops-test/pingsvc"


def test_smoke_passes_and_leaves_nothing_behind(built: tuple[Path, dict[str, object]]) -> None:
    project, data = built
    before = _smoke_containers()
    _set_smoke_env(project)
    run = run_nox(project, "-s", "smoke", timeout=300)
    assert run.returncode == 0, run
    assert "3 passed" in run.output
    assert f"starting {data['image_id']}" in run.output
    assert "/health answered HTTP 200" in run.output
    assert (project / "reports" / "junit-smoke.xml").is_file()
    assert _smoke_containers() == before


@pytest.mark.parametrize(
    ("mode", "message", "log_line"),
    [
        ("crash", "exited with code 3 before /health answered HTTP 200", "crashing on purpose"),
        ("unhealthy", "did not answer HTTP 200 on /health within 5s (last answer HTTP 503)",
         "health check failing on purpose"),
    ],
)  # fmt: skip
def test_broken_image_fails_with_its_logs_and_is_removed(
    built: tuple[Path, dict[str, object]], mode: str, message: str, log_line: str
) -> None:
    project, _ = built
    before = _smoke_containers()
    _set_smoke_env(project, PINGSVC_MODE=mode)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("timeout = 20", "timeout = 5"))
    try:
        started = time.monotonic()
        run = run_nox(project, "-s", "smoke", timeout=300)
    finally:
        pyproject.write_text(pyproject.read_text().replace("timeout = 5", "timeout = 20"))
    assert run.returncode == 1, run
    assert message in run.output, run
    assert f"---- logs of {built[1]['image_id']} ----" in run.output
    assert log_line in run.output, run
    assert "Traceback" not in run.output
    assert time.monotonic() - started < 120
    assert _smoke_containers() == before


def test_failing_smoke_tests_print_the_logs(built: tuple[Path, dict[str, object]]) -> None:
    project, _ = built
    before = _smoke_containers()
    _set_smoke_env(project)
    run = run_nox(project, "-s", "smoke", env={"PINGSVC_FAIL_TEST": "1"}, timeout=300)
    assert run.returncode == 1, run
    assert "1 failed, 2 passed" in run.output
    assert "pingsvc starting in mode ok" in run.output  # the container's logs
    assert _smoke_containers() == before


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupted_run_removes_the_container(
    built: tuple[Path, dict[str, object]], signum: int
) -> None:
    project, _ = built
    before = _smoke_containers()
    _set_smoke_env(project)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update({"PINGSVC_SLOW_TEST": "1", "NO_COLOR": "1"})
    lines: list[str] = []
    with subprocess.Popen(
        [sys.executable, "-m", "nox", "-s", "smoke", "--", "-s"],
        cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    ) as proc:  # fmt: skip
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                lines.append(line)
                if "slow smoke test started" in line:
                    assert len(_smoke_containers()) > len(before)  # it is running now
                    proc.send_signal(signum)
                    break
            lines.extend(proc.stdout.readlines())
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode != 0, "".join(lines)
    assert _smoke_containers() == before, "".join(lines)


def test_smoke_against_a_given_base_url(built: tuple[Path, dict[str, object]]) -> None:
    """`-- --base-url` tests an already running service: nothing is started."""
    project, data = built
    container = engine.docker(
        "run", "-d", "--rm", "-p", "127.0.0.1::8000", str(data["image_id"])
    ).stdout.strip()
    try:
        port = engine.docker("port", container, "8000/tcp").stdout.split(":")[-1].strip()
        run = run_nox(project, "-s", "smoke", "--", f"--base-url=http://127.0.0.1:{port}/")
    finally:
        engine.remove_container(container)
    assert run.returncode == 0, run
    assert f"smoke testing the deployed service at http://127.0.0.1:{port}" in run.output
    assert "3 passed" in run.output


def test_push_is_refused_without_credentials(built: tuple[Path, dict[str, object]]) -> None:
    project, _ = built
    pyproject = project / "pyproject.toml"
    original = pyproject.read_text()
    pyproject.write_text(
        original.replace('name = "noxops-test/pingsvc"', 'registry = "registry.example/acme"')
    )
    env = {"NOXOPS_REGISTRY_USER": "", "NOXOPS_REGISTRY_PASSWORD": ""}
    try:
        run = run_nox(project, "-s", "build", "--", "--push", env=env)
    finally:
        pyproject.write_text(original)
    assert run.returncode == 1, run
    assert "pushing to registry.example needs credentials: set NOXOPS_REGISTRY_USER/" in run.output
    assert "Successfully built" not in run.output  # refused before any work
    assert "Traceback" not in run.output


def test_leftovers_of_a_killed_run_are_reaped_and_nothing_else() -> None:
    """A run killed with SIGKILL cannot clean up; the next smoke run removes what it left,
    proven by its released lease, and leaves a live owner's and an unprovable (faked) owner's."""
    from noxops.containers import leases
    from noxops.image.smoke import reap_stale

    def labels(lease: str) -> list[str]:
        return engine.labels_args(
            {
                LABEL: "t",
                engine.LEASE_LABEL: lease,
                f"{LABEL}.pid": "1",
                **engine.owner_labels(LABEL),
            }
        )

    dead = leases.Lease().acquire()
    dead.release()  # as after SIGKILL: the file is there, nobody holds its lock
    image = "debian:bookworm-slim"
    stale = engine.docker("create", *labels(dead.id), image).stdout.strip()
    net = engine.docker("network", "create", *labels(dead.id), f"t-{stale[:12]}").stdout.strip()
    alive = engine.docker("create", *labels(leases.process_lease().id), image).stdout.strip()
    faked = engine.docker("create", *labels("0123456789abcdef0123"), image).stdout.strip()
    try:
        assert reap_stale() >= 2
        remaining = {c[:12] for c in _smoke_containers()}
        assert stale[:12] not in remaining
        assert net[:12] not in remaining
        assert alive[:12] in remaining  # its owner (this process) lives
        assert faked[:12] in remaining  # no lease file here: no proof, left alone
    finally:
        for container in (stale, alive, faked):
            engine.remove_container(container)
        engine.remove_network(net)


def _fresh(tmp_path: Path, extra: str = "") -> Path:
    project = copy_fixture("service_project", tmp_path)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace("[tool.noxops.image]\n", f"[tool.noxops.image]\n{extra}")
    )
    return project


def test_several_platforms_without_buildx_are_refused_up_front(tmp_path: Path) -> None:
    if engine.has_buildx():
        pytest.skip("this engine has buildx (`docker buildx version` answered)")
    project = _fresh(tmp_path, 'platforms = ["linux/amd64", "linux/arm64"]\n')
    run = run_nox(project, "-s", "build")
    assert run.returncode == 1, run
    assert "building for several platforms (linux/amd64, linux/arm64) needs docker buildx" in (
        run.output
    )
    assert "Successfully built" not in run.output and "Traceback" not in run.output


def test_no_engine_is_a_clear_error_and_packages_build_without_it(tmp_path: Path) -> None:
    project = _fresh(tmp_path)
    no_engine = {"DOCKER_HOST": f"unix://{tmp_path}/no-such.sock"}
    run = run_nox(project, "-s", "build", env=no_engine)
    assert run.returncode == 1, run
    assert "no Docker engine answers" in run.output and "--no-image" in run.output
    run = run_nox(project, "-s", "build", "--", "--no-image", env=no_engine)
    assert run.returncode == 0, run
    data = json.loads((project / "reports" / "build-manifest.json").read_text())
    assert data["wheel"] == "pingsvc-0.3.0-py3-none-any.whl"
    assert data["image"] is None and data["tags"] == []
