"""A CycloneDX SBOM of the Python packages installed in an image.

The packages are read by the image's own Python (``importlib.metadata``, stdlib only), in a
throw-away container with no network: that is exactly what ships, including packages the
Dockerfile installs besides the project's wheel, resolved for the image's platform and
Python. (``cyclonedx-py environment`` would have to be installed into the image, changing
what it describes, or run on the host over a re-resolution of the wheel's dependencies,
which can differ from the image's.) The result is CycloneDX 1.5 JSON.
"""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

from noxops.containers import engine
from noxops.errors import NoxopsError

__all__ = ["INSPECT", "cyclonedx", "inspect_image", "purl"]

# Runs inside the image with its Python (3.8+): one JSON document on stdout.
INSPECT = r"""
import json, sys
from importlib import metadata
out = []
for dist in metadata.distributions():
    meta = dist.metadata
    name = meta["Name"]
    if not name:
        continue
    out.append({
        "name": name,
        "version": meta["Version"] or "",
        "summary": meta["Summary"] or "",
        "license": meta["License"] or "",
        "license_expression": meta["License-Expression"] or "",
        "classifiers": [
            c for c in (meta.get_all("Classifier") or []) if c.startswith("License ::")
        ],
        "requires": list(dist.requires or []),
    })
json.dump({"python": sys.version.split()[0], "packages": out}, sys.stdout)
"""


def inspect_image(
    image: str, python: str = "python", *, docker: engine.Docker = engine.docker
) -> dict[str, Any]:
    """The image's Python version and installed distributions (see :data:`INSPECT`)."""
    last = ""
    for interpreter in dict.fromkeys([python, "python3"]):
        proc = docker(
            "run", "--rm", "--network", "none", "--entrypoint", interpreter, image,
            "-c", INSPECT, check=False, timeout=120,
        )  # fmt: skip
        if proc.returncode == 0:
            try:
                data = json.loads(proc.stdout)
            except ValueError:
                last = proc.stdout[-300:]
                continue
            if isinstance(data, dict):
                return data
        last = (proc.stderr or proc.stdout).strip()[-300:]
    raise NoxopsError(
        f"could not list the Python packages of {image} for its SBOM ({last}); the image "
        "needs a Python 3.8+ on PATH, or set [tool.noxops.image] sbom = false"
    )


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def purl(name: str, version: str) -> str:
    """The package URL of a PyPI distribution."""
    return f"pkg:pypi/{_normalize(name)}@{version}"


def _licenses(pkg: dict[str, Any]) -> list[dict[str, Any]]:
    if pkg.get("license_expression"):
        return [{"expression": pkg["license_expression"]}]
    names = [c.rsplit("::", 1)[-1].strip() for c in pkg.get("classifiers", [])]
    text = str(pkg.get("license", "")).strip()
    if text and "\n" not in text and len(text) <= 80 and text.upper() != "UNKNOWN":
        names.insert(0, text)
    return [{"license": {"name": n}} for n in dict.fromkeys(names) if n]


def cyclonedx(
    inspected: dict[str, Any],
    *,
    image: str,
    version: str,
    project: str,
    tool_version: str,
    timestamp: datetime.datetime | None = None,
) -> dict[str, Any]:
    """The CycloneDX 1.5 document for an image's inspected packages."""
    when = timestamp or datetime.datetime.now(datetime.timezone.utc)
    packages = sorted(inspected.get("packages", []), key=lambda p: _normalize(p["name"]))
    refs = {_normalize(p["name"]): purl(p["name"], p["version"]) for p in packages}
    root_ref = f"image:{image}:{version}"
    components: list[dict[str, Any]] = []
    dependencies: list[dict[str, Any]] = []
    for pkg in packages:
        ref = refs[_normalize(pkg["name"])]
        component: dict[str, Any] = {
            "type": "library",
            "bom-ref": ref,
            "name": pkg["name"],
            "version": pkg["version"],
            "purl": ref,
        }
        if pkg.get("summary"):
            component["description"] = pkg["summary"]
        licenses = _licenses(pkg)
        if licenses:
            component["licenses"] = licenses
        components.append(component)
        needs = []
        for requirement in pkg.get("requires", []):
            if "extra" in requirement.partition(";")[2]:
                continue  # only installed with an extra
            match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
            dep = refs.get(_normalize(match[1])) if match else None
            if dep and dep != ref:
                needs.append(dep)
        dependencies.append({"ref": ref, "dependsOn": sorted(set(needs))})
    project_ref = refs.get(_normalize(project))
    dependencies.insert(0, {"ref": root_ref, "dependsOn": [project_ref] if project_ref else []})
    import uuid  # a CycloneDX serial number is a UUID URN; uuid is 6 ms of every start

    return {
        "$schema": "http://cyclonedx.org/schema/bom-1.5.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": {
            "timestamp": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "tools": {
                "components": [{"type": "application", "name": "noxops", "version": tool_version}]
            },
            "component": {
                "type": "container",
                "bom-ref": root_ref,
                "name": image,
                "version": version,
                "properties": [
                    {"name": "noxops:python", "value": str(inspected.get("python", ""))}
                ],
            },
        },
        "components": components,
        "dependencies": dependencies,
    }
