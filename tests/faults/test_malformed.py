"""Malformed inputs: each gives one clear line naming what and where, never a traceback, a
secret or a wrong pass (the inputs the reliability issue found; numbers in
docs/reliability.md)."""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.noxrun import run_nox

from noxops.deploy import approval
from noxops.deploy.kube import KubeClient, KubeError, kubeconfig_from_env, load_kubeconfig
from noxops.image import manifest
from noxops.reports.cobertura import read_coverage
from noxops.reports.model import ReadProblem
from noxops.services.base import kind
from noxops.services.select import Choice, Services, Settings

TOKEN = "planted-kube-token-8c1f0e"  # noqa: S105 - a planted secret the output must not show


def _one_line(message: str) -> str:
    assert "\n" not in message and "Traceback" not in message, message
    return message


def _kubeconfig(
    server: str = "https://k8s.example:6443", token: str = TOKEN, user: str = ""
) -> str:
    return (
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters: [{{name: k, cluster: {{server: '{server}'}}}}]\n"
        "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
        f"users:\n- name: u\n  user:\n{user or f'    token: {token}'}\n"
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# Text that looks like PEM but holds no key or certificate: it decodes, and ssl refuses it.
FAKE_CERT = b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"
FAKE_KEY = b"-----BEGIN PRIVATE KEY-----\ncGxhbnRlZC1rZXk=\n-----END PRIVATE KEY-----\n"


@pytest.fixture
def env_var(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    yield "NOXOPS_TEST_KUBECONFIG"


def test_manifest_image_id_not_a_string(tmp_path: Path) -> None:
    path = tmp_path / "build-manifest.json"
    good = manifest.Manifest(project="app", version="1", image="app", tags=["1"])
    data = good.to_dict() | {"image_id": 12345}
    path.write_text(json.dumps(data))
    with pytest.raises(manifest.ManifestError) as err:
        manifest.load(path)
    assert "image_id" in _one_line(str(err.value))


def test_kubeconfig_of_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_bytes(os.urandom(256) + b"\xff\xfe")
    with pytest.raises(KubeError) as err:
        load_kubeconfig(path)
    assert "not UTF-8" in _one_line(str(err.value)) and str(path) in str(err.value)


def test_random_bytes_in_the_kubeconfig_variable_name_the_variable(
    env_var: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(env_var, base64.b64encode(os.urandom(300)).decode())
    with kubeconfig_from_env(env_var) as path, pytest.raises(KubeError) as err:
        load_kubeconfig(path, where=f"the kubeconfig in ${env_var}")
    message = _one_line(str(err.value))
    assert f"${env_var}" in message and "noxops-kube-" not in message
    assert not path.exists()  # the private copy is gone


def test_a_yaml_error_never_quotes_the_token(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text(_kubeconfig() + "  broken: [unclosed\n")
    with pytest.raises(KubeError) as err:
        load_kubeconfig(path, where="the kubeconfig in $KUBE_CONFIG")
    message = _one_line(str(err.value))
    assert TOKEN not in message and "$KUBE_CONFIG" in message and "line" in message


def test_a_bearer_token_over_plain_http_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOXOPS_KUBE_ALLOW_HTTP", raising=False)
    path = tmp_path / "config"
    path.write_text(_kubeconfig(server="http://k8s.example:8080"))
    with pytest.raises(KubeError) as err:
        load_kubeconfig(path)
    message = _one_line(str(err.value))
    assert "clear text" in message and "NOXOPS_KUBE_ALLOW_HTTP=1" in message
    assert TOKEN not in message
    monkeypatch.setenv("NOXOPS_KUBE_ALLOW_HTTP", "1")  # the explicit opt-in
    assert load_kubeconfig(path).token == TOKEN
    monkeypatch.delenv("NOXOPS_KUBE_ALLOW_HTTP")
    path.write_text(_kubeconfig(server="http://127.0.0.1:8080"))  # never leaves the machine
    assert load_kubeconfig(path).server == "http://127.0.0.1:8080"


def test_coverage_of_zero_lines_is_not_100_percent(tmp_path: Path) -> None:
    path = tmp_path / "coverage.xml"
    path.write_text(
        '<?xml version="1.0" ?><coverage version="7.6" lines-valid="0" lines-covered="0" '
        'line-rate="1" branches-valid="0" branches-covered="0"><packages/></coverage>'
    )
    with pytest.raises(ReadProblem) as err:
        read_coverage(path, tmp_path)
    assert "0 lines" in _one_line(str(err.value))


def test_a_bad_service_url_fails_at_once_without_waiting_for_the_other() -> None:
    bad = Choice(kind("postgres"), "url", "DATABASE_URL", url="postgresql://app:pw@:5432/app")
    # A server that never answers: without the fix, the failure waited out its 10 s.
    slow = Choice(kind("redis"), "url", "REDIS_URL", url="redis://127.0.0.1:9/0")
    started = time.monotonic()
    with pytest.raises(Exception) as err, Services([bad, slow], Settings(url_timeout=10)):
        pass
    assert time.monotonic() - started < 5
    message = str(err.value)
    assert "names no host" in message and "was cancelled" not in message
    assert "pw@" not in message


def test_the_rollback_refusal_names_the_rollback_session() -> None:
    with pytest.raises(approval.ApprovalRequired) as err:
        approval.require_approval("prod", [], {}, action="rollback")
    message = _one_line(str(err.value))
    assert "`nox -s rollback-prod -- --approve`" in message and "deploy-prod" not in message


@pytest.mark.parametrize("shape", ["yaml", "json"])
def test_a_kubeconfig_nested_5000_deep_is_one_line(tmp_path: Path, shape: str) -> None:
    path = tmp_path / "config"
    deep = "[" * 5000 + "]" * 5000
    path.write_text(f"current-context: {deep}\n" if shape == "yaml" else f'{{"a": {deep}}}')
    with pytest.raises(KubeError) as err:
        load_kubeconfig(path)
    message = _one_line(str(err.value))
    assert str(path) in message and "nested too deeply" in message


def test_a_deep_kubeconfig_in_a_variable_names_the_variable(
    env_var: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    deep = "{a: " * 5000 + TOKEN + "}" * 5000
    monkeypatch.setenv(env_var, _b64(deep.encode()))
    with kubeconfig_from_env(env_var) as path, pytest.raises(KubeError) as err:
        load_kubeconfig(path, where=f"the kubeconfig in ${env_var}")
    message = _one_line(str(err.value))
    assert f"${env_var}" in message and "nested too deeply" in message
    assert TOKEN not in message and "noxops-kube-" not in message


def test_a_token_that_is_not_a_string_is_refused_not_sent(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text(_kubeconfig(user=f"    token: [{TOKEN}, second]"))
    with pytest.raises(KubeError) as err:
        load_kubeconfig(path)
    message = _one_line(str(err.value))
    assert "users.u.token: expected a string, found a list" in message and TOKEN not in message


@pytest.mark.parametrize(
    ("user", "problem"),
    [
        # b64decode without validation reads "@@@@" as b"": the key vanished, silently
        (f"    client-certificate-data: {_b64(FAKE_CERT)}\n    client-key-data: '@@@@'", "base64"),
        ("    client-certificate-data: '@@@@'\n    client-key-data: '@@@@'", "base64"),
        (
            f"    client-certificate-data: {_b64(FAKE_CERT)}\n"
            f"    client-key-data: {_b64(TOKEN.encode())}",
            "holds no PEM",
        ),
        (f"    client-key-data: {_b64(FAKE_KEY)}", "a client key without a client certificate"),
        (f"    client-certificate-data: {_b64(FAKE_CERT)}", "without a client key"),
    ],
)
def test_broken_client_credentials_are_an_error_never_dropped(
    tmp_path: Path, user: str, problem: str
) -> None:
    path = tmp_path / "config"
    path.write_text(_kubeconfig(user=user))
    with pytest.raises(KubeError) as err:
        load_kubeconfig(path)
    message = _one_line(str(err.value))
    assert str(path) in message and "users.u" in message and problem in message
    assert TOKEN not in message and "@@@@" not in message


def test_client_credentials_that_ssl_cannot_load_are_one_line(tmp_path: Path) -> None:
    path = tmp_path / "config"
    user = f"    client-certificate-data: {_b64(FAKE_CERT)}\n    client-key-data: {_b64(FAKE_KEY)}"
    path.write_text(_kubeconfig(user=user))
    cfg = load_kubeconfig(path, where="the kubeconfig in $KUBE_CONFIG")
    with pytest.raises(KubeError) as err:
        KubeClient(cfg)
    message = _one_line(str(err.value))
    assert "$KUBE_CONFIG" in message and "client certificate and key" in message


@pytest.mark.parametrize(
    ("pyproject", "expected"),
    [
        (b'[project]\nname = "caf\xe9"\n[tool.noxops]\n', ": (file): is not UTF-8 (byte 0xe9"),
        (
            b'[project]\nname = "p"\n[tool.noxops.deploy."st aging/../x"]\n',
            ": tool.noxops.deploy: environment name 'st aging/../x' is not a DNS label",
        ),
    ],
)
def test_nox_list_shows_one_line_for_a_value_that_cannot_work(
    tmp_path: Path, pyproject: bytes, expected: str
) -> None:
    pytest.importorskip("nox")  # nox runs on 3.10+
    (tmp_path / "pyproject.toml").write_bytes(pyproject)
    (tmp_path / "noxfile.py").write_text("import noxops\n\nnoxops.sessions()\n")
    run = run_nox(tmp_path, "-l", timeout=300)
    assert run.returncode != 0, run
    assert "Traceback" not in run.output, run
    assert f"nox > noxops: {tmp_path.resolve() / 'pyproject.toml'}{expected}" in run.output, run
