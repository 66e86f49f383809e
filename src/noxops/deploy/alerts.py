"""Prometheus alert rules for a deployed service: down for 1 minute, 5xx rate, p95 latency.

The rules assume the common metric names: ``up`` for scrape targets labelled with ``app`` and
``namespace``, ``http_requests_total`` with a ``status`` label, and the histogram
``http_request_duration_seconds``. They are written as a plain rules file (for
``promtool check rules`` and a file-based Prometheus) and as a ``PrometheusRule`` object for
the Prometheus Operator.
"""

from __future__ import annotations

from typing import Any

from noxops.deploy.settings import DeployEnvConfig

__all__ = ["prometheus_rule", "rule_groups"]


def rule_groups(cfg: DeployEnvConfig, app: str, env: str) -> dict[str, Any]:
    """The ``groups:`` document of a Prometheus rules file."""
    sel = f'app="{app}",namespace="{cfg.namespace}"'
    name = "".join(part.capitalize() for part in app.replace("_", "-").split("-"))
    labels = {"app": app, "env": env, "namespace": cfg.namespace}
    error = cfg.error_threshold  # [tool.noxops.slo] unless the environment overrides it
    latency = cfg.latency_threshold
    return {
        "groups": [
            {
                "name": f"{app}-{env}",
                "rules": [
                    {
                        "alert": f"{name}Down",
                        "expr": f"max(up{{{sel}}}) == 0 or absent(up{{{sel}}})",
                        "for": "1m",
                        "labels": {**labels, "severity": "critical"},
                        "annotations": {
                            "summary": f"{app} ({env}) is down",
                            "description": f"No {app} instance in {cfg.namespace} has answered "
                            "its scrape for 1 minute.",
                        },
                    },
                    {
                        "alert": f"{name}HighErrorRate",
                        "expr": (
                            f'sum(rate(http_requests_total{{{sel},status=~"5.."}}[5m])) / '
                            f"sum(rate(http_requests_total{{{sel}}}[5m])) > {error:g}"
                        ),
                        "for": "5m",
                        "labels": {**labels, "severity": "critical"},
                        "annotations": {
                            "summary": f"{app} ({env}) answers too many 5xx",
                            "description": f"More than {error:.1%} of requests failed with a 5xx "
                            "status over 5 minutes ({{ $value | humanizePercentage }}).",
                        },
                    },
                    {
                        "alert": f"{name}HighLatencyP95",
                        "expr": (
                            "histogram_quantile(0.95, sum by (le) "
                            f"(rate(http_request_duration_seconds_bucket{{{sel}}}[5m])))"
                            f" > {latency:g}"
                        ),
                        "for": "5m",
                        "labels": {**labels, "severity": "warning"},
                        "annotations": {
                            "summary": f"{app} ({env}) is slow",
                            "description": f"95th percentile latency is above {latency:g}s "
                            "({{ $value | humanizeDuration }}).",
                        },
                    },
                ],
            }
        ]
    }


def prometheus_rule(cfg: DeployEnvConfig, app: str, env: str) -> dict[str, Any]:
    """The same rules as a Prometheus Operator ``PrometheusRule``."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": f"{app}-alerts",
            "namespace": cfg.namespace,
            "labels": {"app": app, "env": env},
        },
        "spec": rule_groups(cfg, app, env),
    }
