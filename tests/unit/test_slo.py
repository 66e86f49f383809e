"""One SLO, ``[tool.noxops.slo]``, drives the canary analysis and the Prometheus alert rules
(checked by promtool when it is installed); a deploy environment's own numbers still win."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from noxops.config import load
from noxops.deploy import canary
from noxops.deploy.context import DeployContext
from noxops.deploy.runner import run
from noxops.deploy.settings import DeployEnvConfig
from noxops.errors import ConfigError
from noxops.load.slo import SLOConfig, misses

SLO = "[tool.noxops.slo]\np95_latency_ms = 250\nmax_error_ratio = 0.01\nmin_throughput_rps = 20\n"


def _project(tmp_path: Path, env_table: str = "") -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "shop-web"\n' + SLO + "[tool.noxops.deploy.staging]\n" + env_table,
        encoding="utf-8",
    )
    return tmp_path


def _rules(project: Path) -> list[dict[str, Any]]:
    import yaml

    config = load(project)
    result = run(config, "staging", ["--dry-run", "--image=reg.test/web:1"], log=lambda _: None)
    assert result.outcome == "planned"
    path = project / "reports" / "deploy" / "staging" / "alerts.rules.yml"
    promtool = shutil.which("promtool")
    if promtool is not None:
        proc = subprocess.run(
            [promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
    rules: list[dict[str, Any]] = yaml.safe_load(path.read_text())["groups"][0]["rules"]
    return rules


def test_the_alert_rules_use_the_slo(tmp_path: Path) -> None:
    rules = {r["alert"]: r["expr"] for r in _rules(_project(tmp_path))}
    assert rules["ShopWebHighErrorRate"].endswith("> 0.01")
    assert rules["ShopWebHighLatencyP95"].endswith("> 0.25")  # seconds, from 250 ms


def test_an_environment_override_wins(tmp_path: Path) -> None:
    project = _project(tmp_path, "error_rate_threshold = 0.2\nlatency_p95_threshold = 1.5\n")
    rules = {r["alert"]: r["expr"] for r in _rules(project)}
    assert rules["ShopWebHighErrorRate"].endswith("> 0.2")
    assert rules["ShopWebHighLatencyP95"].endswith("> 1.5")


def test_the_canary_fails_a_round_above_the_slo_error_ratio(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg = DeployEnvConfig(
        strategy="canary", prometheus_url="http://prometheus.test", analysis_rounds=1,
        slo=SLOConfig(max_error_ratio=0.01),
    )  # fmt: skip
    ctx = SimpleNamespace(
        cfg=cfg, app="web", ns="default", dry_run=False, analysis=[], log=lambda _: None,
        wait=lambda _: None,
    )  # fmt: skip
    monkeypatch.setattr(canary, "check_service", lambda *a, **k: None)
    monkeypatch.setattr(canary, "error_rate", lambda url, query: 0.02)
    with pytest.raises(canary.AnalysisFailed, match=r"2\.00% is above the threshold 1\.00%"):
        canary._analyse(cast(DeployContext, ctx), 10, "web-canary")
    monkeypatch.setattr(canary, "error_rate", lambda url, query: 0.005)
    canary._analyse(cast(DeployContext, ctx), 10, "web-canary")
    assert ctx.analysis[-1]["result"] == "passed"


def test_misses_and_validation(tmp_path: Path) -> None:
    slo = SLOConfig(p95_latency_ms=100, max_error_ratio=0.01, min_throughput_rps=50)
    assert misses(slo, p95_ms=80, error_ratio=0.0, rps=60) == []
    assert misses(slo, p95_ms=120, error_ratio=0.02, rps=10) == [
        "p95 latency 120 ms is above the SLO's 100 ms",
        "error ratio 2.00% is above the SLO's 1.00%",
        "throughput 10.0 req/s is below the SLO's 50 req/s",
    ]
    (tmp_path / "pyproject.toml").write_text(
        "[tool.noxops.slo]\nmax_error_ratio = 5\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"slo\.max_error_ratio: must be a fraction"):
        load(tmp_path)
