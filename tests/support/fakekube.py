"""A small fake Kubernetes API server on 127.0.0.1 for the deploy tests (real HTTP).

It stores objects by path, keeps ``metadata.generation``/``resourceVersion``, applies merge
and strategic-merge patches, and plays the controllers the deploy stage relies on:

- the Deployment controller: a changed pod template makes a new (or reused) ReplicaSet with a
  ``deployment.kubernetes.io/revision``; each GET of the Deployment advances the rollout one
  replica (``observedGeneration``, ``updatedReplicas``, ``availableReplicas``); an image in
  :attr:`FakeKube.never_ready` never becomes available (and, after ``deadline_ticks`` GETs,
  gets the ``ProgressDeadlineExceeded`` condition unless that is switched off);
- the API server's service proxy and an "ingress" (``/ingress/<ns>/<service>/<path>``) that
  answer for the pods behind a Service's selector: 503 when one of their images is in
  :attr:`FakeKube.unhealthy`, else 200 with the images;
- Argo Rollouts: a changed Rollout template goes Progressing, then Healthy or (image in
  :attr:`FakeKube.bad_analysis`) Degraded with an analysis message; ``status.abort`` works;
- Flagger: a changed target Deployment makes its Canary go Progressing, then Succeeded
  (the ``<target>-primary`` Deployment takes the template) or Failed.
"""

from __future__ import annotations

import copy
import hashlib
import json
import ssl
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional, TypeVar

__all__ = ["FakeKube", "FakePrometheus", "LoopbackServer"]

Key = tuple[str, str, str]  # (plural, namespace, name)


def _merge(target: Any, patch: Any, strategic: bool = False) -> Any:
    """RFC 7386 merge patch; with ``strategic``, lists of named objects merge by name."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif (
            strategic
            and isinstance(value, list)
            and isinstance(result.get(key), list)
            and all(isinstance(v, dict) and "name" in v for v in value + result[key])
        ):
            merged = {v["name"]: v for v in result[key]}
            for item in value:
                merged[item["name"]] = _merge(merged.get(item["name"], {}), item, True)
            result[key] = list(merged.values())
        else:
            result[key] = _merge(result.get(key), value, strategic)
    return result


def _template_hash(template: dict[str, Any]) -> str:
    clean = copy.deepcopy(template)
    clean.get("metadata", {}).get("labels", {}).pop("pod-template-hash", None)
    return hashlib.sha256(json.dumps(clean, sort_keys=True).encode()).hexdigest()[:10]


def _image(template: dict[str, Any]) -> str:
    containers = template.get("spec", {}).get("containers") or [{}]
    return str(containers[0].get("image", ""))


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


_Server = TypeVar("_Server", bound="LoopbackServer")


class LoopbackServer:
    """An HTTP(S) server on 127.0.0.1, served from a thread while used as a context manager."""

    def __init__(
        self, handler: type[BaseHTTPRequestHandler], tls: Optional[ssl.SSLContext] = None
    ) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self: _Server) -> _Server:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


class FakeKube(LoopbackServer):
    """The server; use as a context manager. Attributes steer the simulated controllers."""

    def __init__(
        self,
        token: str = "fake-token-0123",  # noqa: S107 - a test credential
        tls: Optional[ssl.SSLContext] = None,
    ) -> None:
        """``tls``: a server context to speak HTTPS (it may require client certificates)."""
        self.token = token
        self.objects: dict[Key, dict[str, Any]] = {}
        self.lock = threading.RLock()
        self.requests: list[tuple[str, str]] = []
        self.never_ready: set[str] = set()
        self.unhealthy: set[str] = set()
        self.bad_analysis: set[str] = set()
        self.deadline_ticks = 6
        self.progress_deadline = True
        self.analysis_ticks = 3
        self._version = 0
        self._progress: dict[Key, int] = {}
        self._ticks: dict[Key, int] = {}
        super().__init__(self._handler(), tls)

    # -- helpers for tests ----------------------------------------------------------------

    def kubeconfig(self, namespace: str = "default") -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": "fake",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "ci", "user": {"token": self.token}}],
            "contexts": [
                {
                    "name": "fake",
                    "context": {"cluster": "fake", "user": "ci", "namespace": namespace},
                }
            ],
        }

    def get(self, plural: str, namespace: str, name: str) -> Optional[dict[str, Any]]:
        with self.lock:
            obj = self.objects.get((plural, namespace, name))
            return copy.deepcopy(obj) if obj else None

    def names(self, plural: str, namespace: str) -> list[str]:
        with self.lock:
            return sorted(n for (p, ns, n) in self.objects if p == plural and ns == namespace)

    def images_behind(self, namespace: str, selector: dict[str, str]) -> set[str]:
        """Images of running pods a selector reaches (Deployments with replicas > 0)."""
        with self.lock:
            found = set()
            for (plural, ns, _), dep in self.objects.items():
                if plural != "deployments" or ns != namespace:
                    continue
                template = dep["spec"]["template"]
                if dep["spec"].get("replicas", 1) and _matches(
                    selector, template.get("metadata", {}).get("labels", {})
                ):
                    found.add(_image(template))
            return found

    def serving(self, namespace: str, service: str) -> set[str]:
        """Images that receive traffic for ``service`` (VirtualService weights included)."""
        with self.lock:
            vs = self.objects.get(("virtualservices", namespace, service))
            if vs is not None:
                images: set[str] = set()
                for http in vs["spec"]["http"]:
                    if http.get("match"):
                        continue
                    for route in http["route"]:
                        if route.get("weight", 100) > 0:
                            host = route["destination"]["host"].split(".")[0]
                            svc = self.objects.get(("services", namespace, host))
                            if svc:
                                images |= self.images_behind(namespace, svc["spec"]["selector"])
                return images
            svc = self.objects.get(("services", namespace, service))
            return self.images_behind(namespace, svc["spec"]["selector"]) if svc else set()

    def seed(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Create an object directly (and, for Deployments, finish its rollout)."""
        plural = {
            "Deployment": "deployments",
            "Service": "services",
            "Rollout": "rollouts",
            "Canary": "canaries",
            "VirtualService": "virtualservices",
        }[obj["kind"]]
        ns = obj["metadata"].get("namespace", "default")
        with self.lock:
            created = self._create(plural, ns, copy.deepcopy(obj))
            if plural == "deployments":
                self._progress[(plural, ns, obj["metadata"]["name"])] = 10**6
                self._tick_deployment((plural, ns, obj["metadata"]["name"]))
            if plural == "rollouts":
                for _ in range(self.analysis_ticks + 1):
                    self._tick_rollout((plural, ns, obj["metadata"]["name"]))
            return created

    # -- object store -----------------------------------------------------------------------

    def _bump(self, obj: dict[str, Any]) -> None:
        self._version += 1
        obj["metadata"]["resourceVersion"] = str(self._version)

    def _create(self, plural: str, ns: str, obj: dict[str, Any]) -> dict[str, Any]:
        name = obj["metadata"]["name"]
        key = (plural, ns, name)
        if key in self.objects:
            raise _Status(409, f'{plural} "{name}" already exists')
        meta = obj["metadata"]
        meta.update(namespace=ns, uid=hashlib.sha256(repr(key).encode()).hexdigest(), generation=1)
        meta.setdefault("creationTimestamp", "2026-01-01T00:00:00Z")
        if plural == "services":
            obj["spec"]["clusterIP"] = f"10.0.0.{len(self.objects) % 250 + 1}"
        self._bump(obj)
        obj.setdefault("status", {})
        self.objects[key] = obj
        self._changed(key, None, obj)
        return obj

    def _update(self, key: Key, new: dict[str, Any]) -> dict[str, Any]:
        old = self.objects[key]
        if key[0] == "deployments" and new["spec"].get("selector") != old["spec"].get("selector"):
            raise _Status(422, "spec.selector: Invalid value: field is immutable")
        new["metadata"]["uid"] = old["metadata"]["uid"]
        new["metadata"]["generation"] = old["metadata"]["generation"]
        if key[0] == "services":
            new["spec"]["clusterIP"] = old["spec"]["clusterIP"]
        if new.get("spec") != old.get("spec"):
            new["metadata"]["generation"] += 1
        new["status"] = old.get("status", {})
        self._bump(new)
        self.objects[key] = new
        self._changed(key, old, new)
        return new

    def _delete(self, key: Key) -> None:
        if key not in self.objects:
            raise _Status(404, f'{key[0]} "{key[2]}" not found')
        del self.objects[key]
        if key[0] == "deployments":
            for rs_key in [k for k in self.objects if k[0] == "replicasets" and k[1] == key[1]]:
                owners = self.objects[rs_key]["metadata"].get("ownerReferences", [])
                if any(o["name"] == key[2] for o in owners):
                    del self.objects[rs_key]

    # -- simulated controllers --------------------------------------------------------------

    def _changed(self, key: Key, old: dict[str, Any] | None, new: dict[str, Any]) -> None:
        plural, ns, name = key
        old_template = old["spec"].get("template") if old else None
        if plural == "deployments":
            if (
                old is None
                or old_template != new["spec"]["template"]
                or old["spec"].get("replicas") != new["spec"].get("replicas")
            ):
                self._progress[key] = 0
                self._ticks[key] = 0
            if old is None or old_template != new["spec"]["template"]:
                self._new_revision(key, new)
                self._flagger_saw(ns, name, new)
        elif plural == "rollouts" and (old is None or old_template != new["spec"]["template"]):
            self._ticks[key] = 0
            status = new.setdefault("status", {})
            status.update(phase="Progressing", message="more replicas need to be updated")
            status.pop("abort", None)
            status["currentPodHash"] = _template_hash(new["spec"]["template"])

    def _new_revision(self, key: Key, dep: dict[str, Any]) -> None:
        _, ns, name = key
        template = dep["spec"]["template"]
        digest = _template_hash(template)
        owned = [
            rs
            for (p, n, _), rs in self.objects.items()
            if p == "replicasets"
            and n == ns
            and any(o["name"] == name for o in rs["metadata"].get("ownerReferences", []))
        ]
        top = max(
            [
                int(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"])
                for rs in owned
            ]
            or [0]
        )
        rs_name = f"{name}-{digest}"
        labels = {**template.get("metadata", {}).get("labels", {}), "pod-template-hash": digest}
        rs = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": rs_name,
                "namespace": ns,
                "labels": labels,
                "annotations": {"deployment.kubernetes.io/revision": str(top + 1)},
                "ownerReferences": [{"kind": "Deployment", "name": name, "apiVersion": "apps/v1"}],
            },
            "spec": {
                "replicas": dep["spec"].get("replicas", 1),
                "selector": {"matchLabels": labels},
                "template": _merge(template, {"metadata": {"labels": labels}}),
            },
            "status": {},
        }
        self._bump(rs)
        self.objects[("replicasets", ns, rs_name)] = rs  # reused hash: the revision moves up
        dep["metadata"].setdefault("annotations", {})["deployment.kubernetes.io/revision"] = str(
            top + 1
        )

    def _tick_deployment(self, key: Key) -> None:
        dep = self.objects[key]
        desired = int(dep["spec"].get("replicas", 1))
        status = dep.setdefault("status", {})
        status["observedGeneration"] = dep["metadata"]["generation"]
        image = _image(dep["spec"]["template"])
        self._ticks[key] = self._ticks.get(key, 0) + 1
        if image in self.never_ready:
            old_available = int(status.get("availableReplicas", 0))
            status.update(
                replicas=desired + 1,
                updatedReplicas=1,
                availableReplicas=min(old_available, desired),
                unavailableReplicas=1,
            )
            if self.progress_deadline and self._ticks[key] >= self.deadline_ticks:
                status["conditions"] = [
                    {
                        "type": "Progressing",
                        "status": "False",
                        "reason": "ProgressDeadlineExceeded",
                        "message": f'ReplicaSet "{key[2]}" has timed out progressing.',
                    }
                ]
            return
        progress = min(desired, self._progress.get(key, 0) + 1)
        self._progress[key] = progress
        status.update(
            replicas=desired if progress >= desired else desired + 1,
            updatedReplicas=progress,
            readyReplicas=desired,
            availableReplicas=desired if progress >= desired else max(0, desired - 1),
            conditions=[
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}
            ],
        )

    def _tick_rollout(self, key: Key) -> None:
        ro = self.objects[key]
        status = ro.setdefault("status", {})
        status["observedGeneration"] = str(ro["metadata"]["generation"])
        if status.get("phase") != "Progressing":
            return
        self._ticks[key] = self._ticks.get(key, 0) + 1
        if self._ticks[key] < self.analysis_ticks:
            return
        image = _image(ro["spec"]["template"])
        if image in self.bad_analysis:
            status.update(
                phase="Degraded",
                abort=True,
                message=(
                    "RolloutAborted: Rollout aborted update to revision 2: Metric "
                    '"error-rate" assessed Failed due to failed (1) > failureLimit (0)'
                ),
            )
        else:
            status.update(phase="Healthy", message="", stableRS=status.get("currentPodHash"))

    def _flagger_saw(self, ns: str, name: str, dep: dict[str, Any]) -> None:
        for (plural, cns, cname), canary in list(self.objects.items()):
            if plural != "canaries" or cns != ns:
                continue
            if canary["spec"].get("targetRef", {}).get("name") != name:
                continue
            status = canary.setdefault("status", {})
            primary = self.objects.get(("deployments", ns, f"{name}-primary"))
            spec_hash = _template_hash(dep["spec"]["template"])
            if primary and _template_hash(primary["spec"]["template"]) == spec_hash:
                status.update(phase="Succeeded", lastAppliedSpec=spec_hash, canaryWeight=0)
                continue
            status.update(
                phase="Progressing", lastAppliedSpec=spec_hash, canaryWeight=0, failedChecks=0
            )
            self._ticks[("canaries", cns, cname)] = 0

    def _tick_canary(self, key: Key) -> None:
        canary = self.objects[key]
        status = canary.setdefault("status", {})
        if status.get("phase") != "Progressing":
            return
        self._ticks[key] = self._ticks.get(key, 0) + 1
        target = canary["spec"]["targetRef"]["name"]
        dep = self.objects.get(("deployments", key[1], target))
        image = _image(dep["spec"]["template"]) if dep else ""
        if image in self.bad_analysis:
            status.update(canaryWeight=10, failedChecks=self._ticks[key])
            if self._ticks[key] >= self.analysis_ticks:
                status.update(
                    phase="Failed",
                    canaryWeight=0,
                    conditions=[
                        {
                            "type": "Promoted",
                            "status": "False",
                            "reason": "Failed",
                            "message": "Canary analysis failed, Deployment scaled to zero.",
                        }
                    ],
                )
                if dep:
                    dep["spec"]["replicas"] = 0
            return
        status["canaryWeight"] = min(50, 10 * self._ticks[key])
        if self._ticks[key] >= self.analysis_ticks and dep is not None:
            primary_key = ("deployments", key[1], f"{target}-primary")
            primary = self.objects.get(primary_key)
            if primary is not None:
                primary["spec"]["template"] = copy.deepcopy(dep["spec"]["template"])
            status.update(
                phase="Succeeded",
                canaryWeight=0,
                conditions=[
                    {
                        "type": "Promoted",
                        "status": "True",
                        "reason": "Succeeded",
                        "message": "Canary analysis completed successfully, promotion finished.",
                    }
                ],
            )

    def _tick(self, key: Key) -> None:
        if key not in self.objects:
            return
        if key[0] == "deployments":
            self._tick_deployment(key)
        elif key[0] == "rollouts":
            self._tick_rollout(key)
        elif key[0] == "canaries":
            self._tick_canary(key)

    # -- HTTP ---------------------------------------------------------------------------------

    def _answer_proxy(self, ns: str, service: str, path: str) -> tuple[int, dict[str, Any]]:
        svc = self.objects.get(("services", ns, service))
        if svc is None:
            return 404, {"kind": "Status", "message": f'services "{service}" not found'}
        images = self.images_behind(ns, svc["spec"]["selector"])
        if not images:
            return 503, {"message": f'no endpoints available for service "{service}"'}
        bad = images & self.unhealthy
        if bad:
            return 503, {"status": "unhealthy", "images": sorted(bad), "path": path}
        return 200, {"status": "ok", "images": sorted(images), "path": path}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, code: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> Any:
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length)) if length else None

            def _handle(self, method: str) -> None:
                parsed = urllib.parse.urlsplit(self.path)
                parts = [urllib.parse.unquote(p) for p in parsed.path.strip("/").split("/")]
                with fake.lock:
                    fake.requests.append((method, parsed.path))
                if parts[0] == "ingress" and len(parts) >= 3:
                    code, body = fake._answer_proxy(parts[1], parts[2], "/" + "/".join(parts[3:]))
                    return self._send(code, body)
                has_cert = isinstance(self.connection, ssl.SSLSocket) and bool(
                    self.connection.getpeercert()
                )
                if not has_cert and self.headers.get("Authorization") != f"Bearer {fake.token}":
                    return self._send(401, {"kind": "Status", "message": "Unauthorized"})
                try:
                    code, body = fake._route(method, parts, parsed.query, self.headers, self._body)
                except _Status as exc:
                    code, body = exc.code, {"kind": "Status", "code": exc.code, "message": exc.msg}
                return self._send(code, body)

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_PUT(self) -> None:
                self._handle("PUT")

            def do_PATCH(self) -> None:
                self._handle("PATCH")

            def do_DELETE(self) -> None:
                self._handle("DELETE")

        return Handler

    def _route(  # noqa: PLR0911 - one return per API verb
        self, method: str, parts: list[str], query: str, headers: Any, body: Any
    ) -> tuple[int, Any]:
        # /api/v1/namespaces/ns/plural[/name[/sub]] or /apis/group/version/namespaces/...
        start = 2 if parts[0] == "api" else 3
        if len(parts) < start + 3 or parts[start] != "namespaces":
            raise _Status(404, "not found")
        ns, plural = parts[start + 1], parts[start + 2]
        name = parts[start + 3] if len(parts) > start + 3 else None
        sub = "/".join(parts[start + 4 :]) if len(parts) > start + 4 else None
        with self.lock:
            if plural == "services" and name and sub and sub.startswith("proxy"):
                service = name.split(":")[0]
                return self._answer_proxy(ns, service, "/" + sub[len("proxy") :].lstrip("/"))
            if name is None:
                if method == "GET":
                    selector = urllib.parse.parse_qs(query).get("labelSelector", [""])[0]
                    wanted = dict(p.split("=", 1) for p in selector.split(",") if "=" in p)
                    items = [
                        copy.deepcopy(o)
                        for (p, n, _), o in sorted(self.objects.items())
                        if p == plural
                        and n == ns
                        and all(
                            o["metadata"].get("labels", {}).get(k) == v for k, v in wanted.items()
                        )
                    ]
                    return 200, {"kind": "List", "items": items}
                if method == "POST":
                    return 201, copy.deepcopy(self._create(plural, ns, body()))
                raise _Status(405, "method not allowed")
            key = (plural, ns, name)
            if method == "DELETE":
                self._delete(key)
                return 200, {"kind": "Status", "status": "Success"}
            if key not in self.objects:
                raise _Status(404, f'{plural} "{name}" not found')
            if method == "GET":
                self._tick(key)
                return 200, copy.deepcopy(self.objects[key])
            if method == "PUT":
                return 200, copy.deepcopy(self._update(key, body()))
            if method == "PATCH":
                strategic = "strategic" in headers.get("Content-Type", "")
                patch = body()
                if sub == "status":
                    obj = self.objects[key]
                    obj["status"] = _merge(obj.get("status", {}), patch.get("status", {}))
                    if obj["status"].get("abort"):
                        obj["status"].update(phase="Degraded", message="RolloutAborted")
                    self._bump(obj)
                    return 200, copy.deepcopy(obj)
                merged = _merge(self.objects[key], patch, strategic)
                return 200, copy.deepcopy(self._update(key, merged))
            raise _Status(405, "method not allowed")

    def iter_requests(self) -> Iterator[tuple[str, str]]:
        with self.lock:
            yield from list(self.requests)


class _Status(Exception):
    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg


class FakePrometheus(LoopbackServer):
    """``/api/v1/query`` on 127.0.0.1 answering :attr:`value` for every query (``None``: no
    data); the queries asked are kept in :attr:`queries`."""

    def __init__(self, value: Optional[float] = 0.0) -> None:
        self.value = value
        self.queries: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                parsed = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(parsed.query).get("query", [""])[0]
                fake.queries.append(query)
                result = (
                    [] if fake.value is None else [{"metric": {}, "value": [0, str(fake.value)]}]
                )
                data = json.dumps(
                    {"status": "success", "data": {"resultType": "vector", "result": result}}
                ).encode()
                self.send_response(200 if parsed.path == "/api/v1/query" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        super().__init__(Handler)
