"""Runs interrupted at chosen moments (SIGINT, SIGTERM, SIGHUP, SIGKILL), then a next run;
concurrent runs from two PID namespaces; planted secrets looked for everywhere.

Every check counts only what these tests started: each test has its own lease folder
(``NOXOPS_LEASE_DIR``), and a resource is this test's when its lease label names a lease in
that folder. Numbers: docs/reliability.md.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.certs import make_ca

from noxops.containers import engine

pytestmark = [pytest.mark.slow]

DRIVER = Path(__file__).with_name("driver.py")
IMAGE = "noxops-faults/http:1"
SECRET = "planted-Secret-7f3a9c21"  # noqa: S105 - planted: must appear nowhere
MOMENTS = ["network", "create", "create#2", "start#2", "serve"]


@pytest.fixture
def leases_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "leases"
    monkeypatch.setenv("NOXOPS_LEASE_DIR", str(folder))
    return folder


def _ours(leases_dir: Path) -> set[str]:
    return {p.stem for p in leases_dir.glob("*.lease")} if leases_dir.is_dir() else set()


def _docker_leftovers(leases_dir: Path) -> list[str]:
    """Containers and networks carrying a lease from this test's lease folder."""
    ours = _ours(leases_dir)
    fmt = f'{{{{.ID}}}} {{{{.Label "{engine.LEASE_LABEL}"}}}}'
    found: list[str] = []
    for listing in (["ps", "-a"], ["network", "ls"]):
        out = engine.docker(
            *listing, "--filter", f"label={engine.LEASE_LABEL}", "--format", fmt
        ).stdout
        found += [line.split()[0] for line in out.splitlines() if line.split()[-1] in ours]
    return found


def _temp_leftovers(leases_dir: Path) -> list[Path]:
    tmp = Path(tempfile.gettempdir())
    return [p for lease in _ours(leases_dir) for p in tmp.glob(f"noxops-*-{lease}-*")]


def _run(
    args: list[str], env: dict[str, str], timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    """The driver, run to its end (it interrupts itself as ``args`` say)."""
    argv = [sys.executable, str(DRIVER), *args]
    return subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _secret_everywhere(texts: list[str], roots: list[Path]) -> list[str]:
    """Where the planted secret (or its base64 login pair) shows."""
    needles = [SECRET, base64.b64encode(f"bot:{SECRET}".encode()).decode()]
    hits = [f"output {i}" for i, text in enumerate(texts) if any(n in text for n in needles)]
    for root in roots:
        for path in root.rglob("*") if root.is_dir() else []:
            if path.is_file() and not path.is_symlink():
                data = path.read_bytes()
                if any(n.encode() in data for n in needles):
                    hits.append(str(path))
    return hits


@pytest.fixture(scope="module")
def fault_image() -> Iterator[str]:
    if engine.available() is None:
        pytest.skip("no Docker engine answers (`docker version` failed)")
    with tempfile.TemporaryDirectory() as context:
        (Path(context) / "Dockerfile").write_text(
            'FROM python:3.12-slim\nCMD ["python", "-m", "http.server", "8000"]\n'
        )
        engine.docker("build", "-q", "-t", IMAGE, context, timeout=300)
    yield IMAGE


def _env(leases_dir: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "NOXOPS_LEASE_DIR": str(leases_dir), "FAULT_SECRET": SECRET, **extra}


@pytest.mark.docker
@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM", "SIGHUP", "SIGKILL"])
@pytest.mark.parametrize("moment", MOMENTS)
def test_smoke_interrupted_leaves_nothing_after_the_next_run(
    fault_image: str, leases_dir: Path, moment: str, signame: str
) -> None:
    if signame == "SIGHUP" and moment != "create":
        pytest.skip("SIGHUP is handled as SIGTERM: one moment is enough")
    env = _env(leases_dir)
    run = _run(["smoke", moment, signame], env)
    assert run.returncode != 0, run  # interrupted, not a success
    assert "Traceback" not in run.stderr or signame == "SIGKILL", run.stderr
    if signame != "SIGKILL":
        assert _docker_leftovers(leases_dir) == [], (moment, signame, run)
    # The next run starts (reaping what a killed one left) and ends normally.
    after = _run(["smoke", "-"], env)
    assert after.returncode == 0, after
    assert _docker_leftovers(leases_dir) == []
    inspect = engine.docker("ps", "-aq", "--filter", "label=org.noxops.smoke").stdout.split()
    details = engine.docker("inspect", *inspect, check=False).stdout if inspect else ""
    assert "bot:" not in details  # registry logins never reach a container
    assert _secret_everywhere([run.stdout, run.stderr, after.stdout, after.stderr], []) == []


@pytest.mark.docker
def test_a_run_in_another_pid_namespace_never_reaps_a_live_run(
    fault_image: str, leases_dir: Path
) -> None:
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs unshare as root")
    env = _env(leases_dir, FAULT_HOLD="60")
    ns = ["unshare", "--pid", "--fork", "--mount-proc"]
    with subprocess.Popen(
        [*ns, sys.executable, str(DRIVER), "smoke", "-"],
        env=env, stdout=subprocess.PIPE, text=True,
    ) as first:  # fmt: skip
        assert first.stdout is not None
        url = ""
        for line in first.stdout:
            if line.startswith("URL"):
                url = line.split()[1]
                break
        assert url, "the first run never came up"
        try:
            mine = _docker_leftovers(leases_dir)
            assert len(mine) == 3  # service, helper, network
            # A container whose owner label is faked (no lease file here): no proof.
            faked = engine.docker(
                "create", "--label", "org.noxops.smoke=x", "--label",
                f"{engine.LEASE_LABEL}=0123456789abcdef0123", IMAGE,
            ).stdout.strip()  # fmt: skip
            try:
                second = subprocess.run(
                    [*ns, sys.executable, str(DRIVER), "smoke", "-"],
                    env={**env, "FAULT_HOLD": "0"}, capture_output=True, text=True, timeout=90,
                    check=False,
                )  # fmt: skip
                assert second.returncode == 0, second
                assert "left by an earlier killed run" not in second.stdout
                assert set(mine) <= set(_docker_leftovers(leases_dir))
                assert engine.docker("inspect", faked, check=False).returncode == 0
            finally:
                engine.remove_container(faked)
            import urllib.request

            with urllib.request.urlopen(url + "/", timeout=5) as answer:  # noqa: S310
                assert answer.status == 200  # the first run's service still answers
        finally:
            import psutil

            for child in psutil.Process(first.pid).children(recursive=True):
                child.send_signal(signal.SIGTERM)  # unshare does not pass signals on
            first.wait(30)
    assert _docker_leftovers(leases_dir) == []


FAKE_DOCKER = """#!/bin/sh
# A docker CLI standing in for a registry: login stores the pair, push waits then echoes it.
case "$1" in
  login) read -r pw; mkdir -p "$DOCKER_CONFIG"
         printf '{"auths":{"%s":{"auth":"%s"}}}' "$5" "$(printf 'bot:%s' "$pw" | base64)" \\
           > "$DOCKER_CONFIG/config.json"; echo "Login Succeeded";;
  push) [ "${FAKE_PUSH_SECONDS:-0}" = 0 ] || exec sleep "$FAKE_PUSH_SECONDS"  # one process
        echo "pushed $2 with $(cat "$DOCKER_CONFIG/config.json")";;
  *) exit 1;;
esac
"""


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM", "SIGHUP", "SIGKILL"])
@pytest.mark.parametrize("moment", ["push", "serve"])
def test_registry_credentials_never_stay_on_disk(
    tmp_path: Path, leases_dir: Path, moment: str, signame: str
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(FAKE_DOCKER)
    (bin_dir / "docker").chmod(0o755)
    env = _env(leases_dir, PATH=f"{bin_dir}:{os.environ['PATH']}", FAKE_PUSH_SECONDS="20")
    if moment == "serve":
        env["FAKE_PUSH_SECONDS"] = "0"
    started = time.monotonic()
    if signame == "SIGKILL":
        with subprocess.Popen(
            [sys.executable, str(DRIVER), "login", "-"],
            env={**env, "FAULT_HOLD": "60"}, stdout=subprocess.PIPE, text=True,
        ) as proc:  # fmt: skip
            assert proc.stdout is not None
            proc.stdout.readline()  # CONFIG <folder>: logged in
            if moment == "push":
                time.sleep(0.5)
            proc.kill()
            proc.wait(10)  # dead: its lease's lock is dropped
            out = proc.stdout.read()
        assert _temp_leftovers(leases_dir)  # nothing runs after SIGKILL ...
        from noxops.containers import leases

        # ... the next run removes it. A child the run was forking when it was killed holds
        # the lease's lock until that child execs or dies (a few ms): there is no proof of
        # death before then, so the reaper waits for it, as a next run a moment later would.
        deadline = time.monotonic() + 5
        while not leases.reap_dirs() and time.monotonic() < deadline:
            time.sleep(0.1)
        texts = [out]
    else:
        run = _run(["login", moment, signame], env)
        assert run.returncode != 0, run
        texts = [run.stdout, run.stderr]
    assert time.monotonic() - started < 15  # the push did not run on
    assert _temp_leftovers(leases_dir) == []
    orphans = subprocess.run(
        ["pgrep", "-f", f"sleep {env['FAKE_PUSH_SECONDS']}"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    children = [pid for pid in orphans if _env_has(pid, str(leases_dir))]
    assert children == []  # no orphaned docker push
    assert _secret_everywhere(texts, [leases_dir, tmp_path]) == []


def _env_has(pid: str, value: str) -> bool:
    try:
        return value.encode() in Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM", "SIGHUP", "SIGKILL"])
def test_the_kubeconfig_never_stays_on_disk(leases_dir: Path, signame: str) -> None:
    ca = make_ca()
    client = ca.issue("deployer")
    config = (
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: k, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
        f"users:\n- name: u\n  user:\n    token: {SECRET}\n"
        f"    client-certificate-data: {base64.b64encode(client.cert_pem).decode()}\n"
        f"    client-key-data: {base64.b64encode(client.key_pem).decode()}\n"
    )
    env = _env(leases_dir, FAULT_KUBECONFIG=base64.b64encode(config.encode()).decode())
    if signame == "SIGKILL":
        with subprocess.Popen(
            [sys.executable, str(DRIVER), "kube", "-"],
            env={**env, "FAULT_HOLD": "60"}, stdout=subprocess.PIPE, text=True,
        ) as proc:  # fmt: skip
            assert proc.stdout is not None
            proc.stdout.readline()
            proc.kill()
            proc.wait(10)
            texts = [proc.stdout.read()]
        assert len(_temp_leftovers(leases_dir)) == 2  # the kubeconfig copy and the key folder
        from noxops.containers import leases

        leases.reap_dirs()
    else:
        run = _run(["kube", "serve", signame], env)
        assert run.returncode == 130, run
        texts = [run.stdout, run.stderr]
    assert _temp_leftovers(leases_dir) == []
    assert _secret_everywhere(texts, [leases_dir]) == []


SERVICE_MOMENTS = ["starting", "before-create", "create", "created", "readiness"]
SERVICE_TRIES = 20


@pytest.mark.docker
@pytest.mark.parametrize("moment", SERVICE_MOMENTS)
def test_sigterm_while_docker_services_start_leaves_no_container(
    leases_dir: Path, moment: str
) -> None:
    """SIGTERM at each moment of PostgreSQL's start beside Redis's (docker provider), many
    times: no try may leave a container (counted per try by its owner label)."""
    env = _env(leases_dir, FAULT_TRIES=str(SERVICE_TRIES), TESTCONTAINERS_RYUK_DISABLED="true")
    run = _run(["services", moment, "SIGTERM"], env, timeout=540)
    ours = _ours(leases_dir)
    labels = (engine.LEASE_LABEL, f"{engine.SERVICE_LABEL}.owner")
    fmt = " ".join(["{{.ID}}", *(f'{{{{.Label "{label}"}}}}' for label in labels)])
    listing = engine.docker(
        "ps", "-a", "--filter", f"label={engine.LEASE_LABEL}", "--format", fmt
    ).stdout.split("\n")
    left = [line.split() for line in listing if len(line.split()) == 3 and line.split()[1] in ours]
    try:
        tries = [line for line in run.stdout.splitlines() if line.startswith("TRY ")]
        assert run.returncode == 0, run
        assert len(tries) == SERVICE_TRIES, run
        assert all(line.endswith("interrupted Terminated") for line in tries), run.stdout
        leaked = sorted({owner.rsplit("-", 1)[1] for _, _, owner in left}, key=int)
        print(f"{moment}: tried {SERVICE_TRIES}, leaked {len(leaked)}")
        assert leaked == [], f"{moment}: tries {leaked} of {SERVICE_TRIES} left a container"
    finally:
        for ident, _, _ in left:
            engine.remove_container(ident)
