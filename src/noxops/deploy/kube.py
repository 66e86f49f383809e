"""A small Kubernetes REST client over plain HTTP(S): kubeconfig, get/list/create/patch/delete.

Only the standard library: ``urllib`` for HTTP and ``ssl`` for the cluster CA and client
certificates. Tokens, keys and certificates are never printed (they are registered with
:mod:`noxops.masking`, and a YAML error never quotes the kubeconfig); key material from a
kubeconfig is written (mode 0600) into a private temporary folder that
:meth:`KubeClient.close` removes, on SIGTERM and SIGHUP too, and that the next run removes
when this one was SIGKILLed (:mod:`noxops.containers.leases`). A bearer token is never sent over
plain
``http://`` to another machine unless ``NOXOPS_KUBE_ALLOW_HTTP=1`` says so.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import shutil
import ssl
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Optional

from noxops.containers import leases
from noxops.deploy.http import open_url
from noxops.errors import NoxopsError
from noxops.masking import register
from noxops.project.textfile import NotText, read_utf8

__all__ = [
    "KubeClient",
    "KubeError",
    "Kubeconfig",
    "api_path",
    "kubeconfig_from_env",
    "load_kubeconfig",
]

# kind -> (API group path, plural); everything noxops touches is namespaced.
KINDS: dict[str, tuple[str, str]] = {
    "Deployment": ("apis/apps/v1", "deployments"),
    "ReplicaSet": ("apis/apps/v1", "replicasets"),
    "Service": ("api/v1", "services"),
    "Pod": ("api/v1", "pods"),
    "ConfigMap": ("api/v1", "configmaps"),
    "Secret": ("api/v1", "secrets"),
    "Ingress": ("apis/networking.k8s.io/v1", "ingresses"),
    "VirtualService": ("apis/networking.istio.io/v1beta1", "virtualservices"),
    "DestinationRule": ("apis/networking.istio.io/v1beta1", "destinationrules"),
    "Rollout": ("apis/argoproj.io/v1alpha1", "rollouts"),
    "Canary": ("apis/flagger.app/v1beta1", "canaries"),
    "PrometheusRule": ("apis/monitoring.coreos.com/v1", "prometheusrules"),
}


class KubeError(NoxopsError):
    """The API server refused a request, or could not be reached."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


def _plural(kind: str) -> str:
    lower = kind.lower()
    if lower.endswith("y"):
        return lower[:-1] + "ies"
    if lower.endswith(("s", "x")):
        return lower + "es"
    return lower + "s"


def api_path(
    kind: str,
    namespace: str,
    name: str | None = None,
    *,
    api_version: str | None = None,
    subresource: str | None = None,
) -> str:
    """The REST path of a namespaced object (or its collection when ``name`` is ``None``)."""
    if kind in KINDS and (api_version is None or KINDS[kind][0].endswith(api_version)):
        group, plural = KINDS[kind]
    elif api_version:
        group = ("api/" if "/" not in api_version else "apis/") + api_version
        plural = _plural(kind)
    else:
        raise KubeError(f"unknown kind {kind!r}: give its apiVersion")
    path = f"/{group}/namespaces/{urllib.parse.quote(namespace)}/{plural}"
    if name is not None:
        path += "/" + urllib.parse.quote(name)
    if subresource:
        path += "/" + subresource
    return path


@dataclass
class Kubeconfig:
    """What a client needs from a kubeconfig's current (or chosen) context."""

    server: str
    token: Optional[str] = None
    ca_data: Optional[bytes] = None  # PEM
    ca_file: Optional[str] = None
    cert_data: Optional[bytes] = None  # PEM
    key_data: Optional[bytes] = None  # PEM
    cert_file: Optional[str] = None
    key_file: Optional[str] = None
    insecure: bool = False
    namespace: Optional[str] = None
    where: str = "the kubeconfig"  # how messages name the file (or the variable it came from)

    def __repr__(self) -> str:  # never show credentials
        return f"Kubeconfig(server={self.server!r})"


def _parse_text(text: str, where: str) -> dict[str, Any]:
    try:
        data = _parse(text, where)
    except RecursionError:  # both parsers recurse once per level: thousands of levels
        raise KubeError(
            f"{where} is nested too deeply to read (lists or mappings hundreds of levels "
            "inside each other); a kubeconfig is a few levels deep: write it again with "
            "`kubectl config view --raw`"
        ) from None
    if not isinstance(data, dict):
        raise KubeError(f"{where} is not a kubeconfig (expected a mapping at the top)")
    return data


def _parse(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        try:
            import yaml
        except ImportError:
            raise KubeError(
                f"{where} is YAML and PyYAML is not installed; install it "
                "(pip install pyyaml) in the environment running nox"
            ) from None
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            # Only where and what: PyYAML's own message quotes the line (a token, a key).
            mark = getattr(exc, "problem_mark", None)
            at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or "a syntax error"
            raise KubeError(f"{where} is not valid YAML or JSON ({problem}{at})") from None


def _named(data: Mapping[str, Any], key: str, name: str, where: str) -> dict[str, Any]:
    for entry in data.get(key + "s") or ():
        if isinstance(entry, dict) and entry.get("name") == name:
            value = entry.get(key) or {}
            return dict(value)
    raise KubeError(f"{where}: no {key} named {name!r} under {key}s")


_KINDS = {"list": "a list", "dict": "a mapping", "bool": "true or false", "int": "a number"}


def _string(table: Mapping[str, Any], key: str, where: str, owner: str) -> Optional[str]:
    """``table[key]`` when set; a value that is not a string is an error naming the key, never
    the value (it may be a credential)."""
    value = table.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        found = _KINDS.get(type(value).__name__, "a number")
        raise KubeError(
            f"{where}: {owner}.{key}: expected a string, found {found}; write it as one string, "
            "as `kubectl config view --raw` does"
        )
    return value


def _pem(table: Mapping[str, Any], key: str, where: str, owner: str) -> Optional[bytes]:
    """A ``*-data`` value: base64 of PEM text. One that does not decode is an error: read
    leniently it would become nothing, and requests would go out without the credential."""
    text = _string(table, key, where, owner)
    if text is None:
        return None
    fix = "copy it again from `kubectl config view --raw`"
    try:
        data = base64.b64decode("".join(text.split()), validate=True)
    except ValueError:
        raise KubeError(f"{where}: {owner}.{key} is not valid base64; {fix}") from None
    if not data.isascii() or b"-----BEGIN " not in data:
        raise KubeError(
            f"{where}: {owner}.{key} holds no PEM certificate or key (decoded, it has no "
            f"'-----BEGIN' line); {fix}"
        )
    return data


def _read_relative(value: str, base: Path) -> str:
    path = Path(value)
    return str(path if path.is_absolute() else base / path)


def _exec_token(spec: Mapping[str, Any], where: str) -> str:
    argv = [str(spec.get("command", "")), *[str(a) for a in spec.get("args") or ()]]
    env = dict(os.environ)
    for item in spec.get("env") or ():
        env[str(item["name"])] = str(item["value"])
    try:
        out = subprocess.run(argv, capture_output=True, text=True, env=env, check=True).stdout
        token = json.loads(out)["status"]["token"]
    except (OSError, subprocess.CalledProcessError, ValueError, KeyError, TypeError) as exc:
        raise KubeError(
            f"{where}: the exec credential plugin {argv[0]!r} gave no token ({type(exc).__name__})"
        ) from None
    return str(token)


_ALLOW_HTTP = "NOXOPS_KUBE_ALLOW_HTTP"


def _loopback(server: str) -> bool:
    host = urllib.parse.urlsplit(server).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_transport(cfg: Kubeconfig, where: str) -> None:
    """A credential over plain HTTP to another machine travels in clear text: refused."""
    if not cfg.server.startswith("http://") or _loopback(cfg.server):
        return
    if (cfg.token or cfg.cert_data or cfg.cert_file) and os.environ.get(_ALLOW_HTTP) != "1":
        raise KubeError(
            f"{where}: the server {cfg.server} is plain http:// and the user has credentials, "
            "which would travel in clear text; use the cluster's https:// address, or set "
            f"{_ALLOW_HTTP}=1 to send them anyway"
        )


def load_kubeconfig(
    path: str | Path, context: str | None = None, *, where: str | None = None
) -> Kubeconfig:
    """Read a kubeconfig file (YAML or JSON) and resolve ``context`` (default: current).

    ``where`` names it in messages (default: ``kubeconfig <path>``), e.g. the environment
    variable it came from when ``path`` is a temporary copy.
    """
    path = Path(path)
    where = where or f"kubeconfig {path}"
    try:
        text = read_utf8(path)
    except NotText as exc:
        if not exc.decoding:
            raise KubeError(f"cannot read {where}: {exc.strerror}") from None
        raise KubeError(
            f"{where} is not a kubeconfig (not UTF-8 text); expected YAML or JSON "
            "(from `kubectl config view --raw`)"
        ) from None
    data = _parse_text(text, where)
    name = context or data.get("current-context")
    if not name:
        raise KubeError(f"{where} has no current-context; set [tool.noxops.deploy.<env>] context")
    ctx = _named(data, "context", str(name), where)
    cluster = _named(data, "cluster", str(ctx.get("cluster")), where)
    user = _named(data, "user", str(ctx.get("user")), where) if ctx.get("user") else {}
    if not cluster.get("server"):
        raise KubeError(f"{where}: cluster {ctx.get('cluster')!r} has no server")
    base = path.parent
    cfg = Kubeconfig(
        server=str(cluster["server"]).rstrip("/"), namespace=ctx.get("namespace"), where=where
    )
    cfg.insecure = bool(cluster.get("insecure-skip-tls-verify", False))
    owner = f"clusters.{ctx.get('cluster')}"
    cfg.ca_data = _pem(cluster, "certificate-authority-data", where, owner)
    ca_file = _string(cluster, "certificate-authority", where, owner)
    if cfg.ca_data is None and ca_file:
        cfg.ca_file = _read_relative(ca_file, base)
    _user_credentials(cfg, user, base, where, f"users.{ctx.get('user')}")
    register(cfg.token, *(d.decode("ascii", "replace") for d in (cfg.key_data,) if d))
    _check_transport(cfg, where)
    return cfg


def _user_credentials(
    cfg: Kubeconfig, user: Mapping[str, Any], base: Path, where: str, owner: str
) -> None:
    token_file = _string(user, "tokenFile", where, owner)
    cfg.token = _string(user, "token", where, owner)
    if cfg.token is None and token_file:
        path = Path(_read_relative(token_file, base))
        try:
            cfg.token = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or "not UTF-8 text"
            raise KubeError(f"{where}: {owner}.tokenFile: cannot read {path}: {reason}") from None
    elif cfg.token is None and user.get("exec"):
        cfg.token = _exec_token(user["exec"], where)
    cfg.cert_data = _pem(user, "client-certificate-data", where, owner)
    cert_file = _string(user, "client-certificate", where, owner)
    if cfg.cert_data is None and cert_file:
        cfg.cert_file = _read_relative(cert_file, base)
    cfg.key_data = _pem(user, "client-key-data", where, owner)
    key_file = _string(user, "client-key", where, owner)
    if cfg.key_data is None and key_file:
        cfg.key_file = _read_relative(key_file, base)
    has_cert, has_key = bool(cfg.cert_data or cfg.cert_file), bool(cfg.key_data or cfg.key_file)
    if has_cert != has_key:  # one without the other authenticates nothing
        which = (
            "a client certificate without a client key"
            if has_cert
            else "a client key without a client certificate"
        )
        raise KubeError(
            f"{where}: {owner} has {which}; give both client-certificate(-data) and "
            "client-key(-data), as `kubectl config view --raw` shows them"
        )
    if user.get("username") and user.get("password") and not cfg.token:
        raise KubeError(f"{where}: basic-auth users are not supported; use a token")


@contextmanager
def kubeconfig_from_env(variable: str) -> Iterator[Path]:
    """Write the base64 kubeconfig held in ``variable`` to a private file; remove it after."""
    value = os.environ.get(variable, "")
    if not value.strip():
        raise KubeError(
            f"environment variable {variable} (kubeconfig_env) is empty or unset; set it to the "
            "base64-encoded kubeconfig (base64 -w0 ~/.kube/config)"
        )
    try:
        content = base64.b64decode(value.strip(), validate=False)
    except ValueError:
        raise KubeError(f"environment variable {variable} is not valid base64") from None
    with leases.interrupting(), leases.private_dir("noxops-kube-") as folder:
        path = folder / "kubeconfig"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        yield path


def _reason(exc: OSError) -> str:
    """What ssl or the file system said, without the paths of the private copies."""
    return str(getattr(exc, "reason", None) or exc.strerror or type(exc).__name__)


class KubeClient:
    """JSON over HTTP(S) to one API server; a context manager (it may hold key files)."""

    def __init__(self, config: Kubeconfig, *, timeout: float = 30.0) -> None:
        self.config = config
        self.server = config.server
        self.timeout = timeout
        self._tmp: str | None = None
        self._ssl: ssl.SSLContext | None = None
        try:
            if self.server.startswith("https://"):
                self._ssl = self._make_ssl()
        except BaseException:
            self.close()
            raise

    def _private_file(self, name: str, data: bytes) -> str:
        if self._tmp is None:
            self._tmp = str(leases.make_dir("noxops-kube-"))
        path = Path(self._tmp) / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return str(path)

    def _make_ssl(self) -> ssl.SSLContext:
        cfg = self.config
        try:
            if cfg.insecure:  # the kubeconfig says insecure-skip-tls-verify
                ctx = ssl._create_unverified_context()  # noqa: S323  # nosec B323
            elif cfg.ca_data:
                ctx = ssl.create_default_context(cadata=cfg.ca_data.decode("ascii"))
            else:
                ctx = ssl.create_default_context(cafile=cfg.ca_file)
        except OSError as exc:  # ssl.SSLError too
            raise KubeError(
                f"{cfg.where}: the cluster's CA does not load ({_reason(exc)}); copy "
                "certificate-authority(-data) again from `kubectl config view --raw`"
            ) from None
        cert = cfg.cert_file or (cfg.cert_data and self._private_file("client.crt", cfg.cert_data))
        key = cfg.key_file or (cfg.key_data and self._private_file("client.key", cfg.key_data))
        if cert:
            try:
                ctx.load_cert_chain(cert, key or None)
            except OSError as exc:
                raise KubeError(
                    f"{cfg.where}: the client certificate and key do not load ({_reason(exc)}); "
                    "they must be the PEM pair `kubectl config view --raw` shows"
                ) from None
        return ctx

    def close(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> KubeClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- HTTP -------------------------------------------------------------------------------

    def raw(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = "application/json",
        query: Mapping[str, str] | None = None,
    ) -> tuple[int, bytes]:
        """One request; the status and body, whatever the status."""
        url = self.server + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", content_type)
        if self.config.token:
            request.add_header("Authorization", f"Bearer {self.config.token}")
        try:
            with open_url(  # the cluster's URL, from the kubeconfig
                request, timeout=self.timeout, context=self._ssl
            ) as response:
                return int(response.status), bytes(response.read())
        except urllib.error.HTTPError as exc:
            return int(exc.code), bytes(exc.read())
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise KubeError(f"cannot reach the Kubernetes API at {self.server}: {reason}") from None

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = "application/json",
        query: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        status, payload = self.raw(method, path, body, content_type=content_type, query=query)
        try:
            data = json.loads(payload) if payload else {}
        except ValueError:
            data = {"message": payload[:200].decode("utf-8", "replace")}
        if status >= 400:
            message = data.get("message") if isinstance(data, dict) else None
            raise KubeError(
                f"Kubernetes API {method} {path}: HTTP {status}: {message or 'no message'}",
                status,
            )
        return data if isinstance(data, dict) else {"items": data}

    # -- verbs ------------------------------------------------------------------------------

    def get(self, path: str) -> dict[str, Any] | None:
        """The object, or ``None`` when it does not exist."""
        try:
            return self.request("GET", path)
        except KubeError as exc:
            if exc.status == 404:
                return None
            raise

    def list(self, path: str, label_selector: str | None = None) -> list[dict[str, Any]]:
        query = {"labelSelector": label_selector} if label_selector else None
        return list(self.request("GET", path, query=query).get("items") or [])

    def create(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self.request("POST", path, dict(body))

    def replace(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self.request("PUT", path, dict(body))

    def patch(self, path: str, body: Mapping[str, Any], *, kind: str = "merge") -> dict[str, Any]:
        """A merge (RFC 7386) or strategic-merge patch."""
        content_type = {
            "merge": "application/merge-patch+json",
            "strategic": "application/strategic-merge-patch+json",
        }[kind]
        return self.request("PATCH", path, dict(body), content_type=content_type)

    def delete(self, path: str) -> bool:
        """Delete (foreground propagation); ``False`` when it was already gone."""
        try:
            self.request(
                "DELETE",
                path,
                {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Foreground"},
            )
        except KubeError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def proxy_get(self, namespace: str, service: str, port: int, path: str) -> tuple[int, str]:
        """GET ``path`` on a Service through the API server's service proxy."""
        status, body = self.raw(
            "GET",
            f"/api/v1/namespaces/{namespace}/services/{service}:{port}/proxy{path}",
        )
        return status, body[:500].decode("utf-8", "replace")
