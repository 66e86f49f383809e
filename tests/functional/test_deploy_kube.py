"""The Kubernetes client against the fake API server: HTTPS with the cluster CA, client
certificates (mutual TLS) and bearer tokens, error statuses, and private key files."""

from __future__ import annotations

import base64
import json
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.certs import CA, make_ca
from support.fakekube import FakeKube

from noxops.deploy.kube import KubeClient, KubeError, api_path, load_kubeconfig


@pytest.fixture(scope="module")
def ca() -> CA:
    pytest.importorskip("cryptography")
    return make_ca()


@pytest.fixture
def tls_fake(ca: CA, tmp_path: Path) -> Iterator[FakeKube]:
    cert, key = ca.issue("kube-apiserver", server=True).write(tmp_path, "server")
    (tmp_path / "ca.crt").write_bytes(ca.cert_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.load_verify_locations(cafile=str(tmp_path / "ca.crt"))
    context.verify_mode = ssl.CERT_OPTIONAL  # client certificates or tokens
    with FakeKube(tls=context) as server:
        yield server


def _kubeconfig(fake: FakeKube, cluster: dict[str, object], user: dict[str, object]) -> str:
    return json.dumps(
        {
            "current-context": "ci",
            "clusters": [{"name": "c", "cluster": {"server": fake.url, **cluster}}],
            "users": [{"name": "u", "user": user}],
            "contexts": [{"name": "ci", "context": {"cluster": "c", "user": "u"}}],
        }
    )


def test_mutual_tls_with_embedded_certificates(ca: CA, tls_fake: FakeKube, tmp_path: Path) -> None:
    client = ca.issue("ci-deployer")

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    path = tmp_path / "kubeconfig"
    path.write_text(
        _kubeconfig(
            tls_fake,
            {"certificate-authority-data": b64(ca.cert_pem)},
            {
                "client-certificate-data": b64(client.cert_pem),
                "client-key-data": b64(client.key_pem),
            },
        )
    )
    cfg = load_kubeconfig(path)
    assert "BEGIN" not in repr(cfg)  # key material never shows
    with KubeClient(cfg) as kube:
        assert kube._tmp is not None
        folder = Path(kube._tmp)
        assert sorted(p.name for p in folder.iterdir()) == ["client.crt", "client.key"]
        assert (folder / "client.key").stat().st_mode & 0o777 == 0o600
        created = kube.create(
            api_path("Service", "shop"),
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": {}},
        )
        assert created["metadata"]["uid"]
    assert not folder.exists()  # removed on close


def test_ca_file_and_token_then_wrong_ca_is_refused(
    ca: CA, tls_fake: FakeKube, tmp_path: Path
) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text(
        _kubeconfig(tls_fake, {"certificate-authority": "ca.crt"}, {"token": tls_fake.token})
    )  # a CA path relative to the kubeconfig
    with KubeClient(load_kubeconfig(path)) as kube:
        assert kube.list(api_path("Deployment", "shop")) == []
        assert kube.get(api_path("Deployment", "shop", "missing")) is None
        with pytest.raises(KubeError, match="HTTP 404") as err:
            kube.patch(api_path("Deployment", "shop", "missing"), {"spec": {}})
        assert err.value.status == 404
    other = make_ca()
    (tmp_path / "ca.crt").write_bytes(other.cert_pem)
    kube = KubeClient(load_kubeconfig(path))
    try:
        with pytest.raises(KubeError, match="cannot reach the Kubernetes API"):
            kube.list(api_path("Deployment", "shop"))
    finally:
        kube.close()


def test_bad_token_is_unauthorized_and_not_printed(tmp_path: Path) -> None:
    with FakeKube() as fake:
        path = tmp_path / "kubeconfig"
        path.write_text(_kubeconfig(fake, {}, {"token": "wrong-token-987"}))
        with KubeClient(load_kubeconfig(path)) as kube, pytest.raises(KubeError) as err:
            kube.list(api_path("Deployment", "shop"))
    assert "HTTP 401" in str(err.value)
    assert "wrong-token-987" not in str(err.value)


def test_exec_credential_plugin(tmp_path: Path) -> None:
    import sys

    plugin = tmp_path / "plugin.py"
    plugin.write_text(
        "import json, os\n"
        'print(json.dumps({"kind": "ExecCredential", '
        '"status": {"token": os.environ["FAKE_TOKEN"]}}))\n'
    )
    with FakeKube() as fake:
        path = tmp_path / "kubeconfig"
        exec_spec = {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": sys.executable,
            "args": [str(plugin)],
            "env": [{"name": "FAKE_TOKEN", "value": fake.token}],
        }
        path.write_text(_kubeconfig(fake, {}, {"exec": exec_spec}))
        with KubeClient(load_kubeconfig(path)) as kube:
            assert kube.list(api_path("Service", "shop")) == []
