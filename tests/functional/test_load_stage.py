"""``nox -s build load`` on a copy of examples/service: the built image with its PostgreSQL
and Redis helpers under locust load, gated on ``[tool.noxops.slo]``. The default SLO passes,
an impossible one fails, and the figures reach summary.json and the HTML report (with the
chart). Nothing the runs started is left behind.

The machine these tests run on is small and shared (the service, its helpers and locust share
two cores with other work), so the load uses 4 users: the SLO is the default one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.noxrun import run_nox

from noxops.containers import engine
from noxops.containers.engine import SMOKE_LABEL

pytestmark = [pytest.mark.docker, pytest.mark.slow]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "service"


def _mine(image_id: str) -> list[str]:
    """The containers of this image still there (other test runs may share the engine)."""
    out: str = engine.docker(
        "ps", "-aq", "--filter", f"label={SMOKE_LABEL}", "--filter", f"ancestor={image_id}"
    ).stdout
    return out.split()


def _image(project: Path) -> str:
    manifest = project / "reports" / "build-manifest.json"
    return str(json.loads(manifest.read_text()).get("image_id") or "")


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The example, copied into a git repository and built once."""
    project = tmp_path_factory.mktemp("load") / "service"
    shutil.copytree(
        EXAMPLE, project, ignore=shutil.ignore_patterns(".nox", "build", "dist", "reports")
    )
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('"noxops-examples/notes"', '"noxops-test/notes-load"')
        + "\n[tool.noxops.load]\nusers = 4\n"
    )
    for args in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "example"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
            cwd=project, check=True, capture_output=True,
        )  # fmt: skip
    built = run_nox(project, "-s", "build", timeout=900)
    assert built.returncode == 0, built
    try:
        yield project
    finally:
        image_id = _image(project)
        if image_id:
            engine.docker("rmi", "-f", image_id, check=False)


def _checks(project: Path) -> dict[str, dict[str, object]]:
    summary = json.loads((project / "reports" / "summary.json").read_text(encoding="utf-8"))
    return {c["name"]: c for c in summary["checks"]}


def test_the_default_slo_passes_and_its_figures_reach_the_report(service: Path) -> None:
    run = run_nox(service, "-s", "load", "report", timeout=900)
    assert "Session load was successful" in run.output, run.output[-3000:]
    assert "SLO met: p95 " in run.output
    load = _checks(service)["load"]
    assert load["status"] == "passed", load
    metrics = load["metrics"]
    assert isinstance(metrics, dict)
    assert metrics["requests"] > 0 and metrics["failures"] == 0
    assert 0 < metrics["p95_ms"] <= 500 and metrics["rps"] >= 10
    assert load["sources"] == ["reports/load.json", "reports/load.svg"]
    page = (service / "reports" / "report.html").read_text(encoding="utf-8")
    assert "<h2>Charts</h2>" in page and "data:image/svg+xml;base64," in page
    assert f"p95 {metrics['p95_ms']:.0f} ms" in page
    assert _mine(_image(service)) == []  # the service container is gone


def test_an_impossible_slo_fails_the_stage(service: Path) -> None:
    pyproject = service / "pyproject.toml"
    original = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(
        original.replace("[tool.noxops.load]\nusers = 4\n", "")
        + "\n[tool.noxops.slo]\np95_latency_ms = 0.01\nmin_throughput_rps = 1000000\n"
        "\n[tool.noxops.load]\nusers = 4\nduration = 5\n",
        encoding="utf-8",
    )
    try:
        run = run_nox(service, "-s", "load", "report", timeout=900)
    finally:
        pyproject.write_text(original, encoding="utf-8")
    assert run.returncode != 0
    assert "the service missed its SLO" in run.output, run
    assert "is above the SLO's 0.01 ms" in run.output
    assert "is below the SLO's 1e+06 req/s" in run.output
    load = _checks(service)["load"]
    assert load["status"] == "failed" and load["blocks"] is True
    assert any("above the SLO" in str(d) for d in load["details"])  # type: ignore[attr-defined]
