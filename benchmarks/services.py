#!/usr/bin/env python3
"""Time from session start to PostgreSQL and Redis both ready, per provider, side by side.

    .venv/bin/python benchmarks/services.py [--runs 3] [--providers local,docker,url]

"Session start" is the moment the integration stage starts choosing providers (Docker
engine detection included); "ready" is the first answered real query (SELECT 1, PING). The
url provider is measured against servers this script starts first (as CI `services:` would
be). Goals: local under 2 s, docker under 5 s with the images present.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from noxops.services.base import ServiceError
from noxops.services.local import LocalRunning
from noxops.services.postgres import KIND as POSTGRES
from noxops.services.redis import KIND as REDIS
from noxops.services.select import Services, Settings, plan

GOALS = {"local": 2.0, "docker": 5.0}


def measure(provider: str, env: dict[str, str]) -> tuple[float, float, float]:
    """Seconds until postgres ready, redis ready, and both ready (from session start)."""
    started = time.monotonic()
    choices = plan(["postgres", "redis"], provider, env=env)
    with Services(choices, Settings()) as running:
        both = time.monotonic() - started
        return running["postgres"].ready_seconds, running["redis"].ready_seconds, both


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--providers", default="local,docker,url")
    args = parser.parse_args(argv)
    providers = [p.strip() for p in args.providers.split(",") if p.strip()]
    results: dict[str, list[tuple[float, float, float]]] = {}
    problems: dict[str, str] = {}
    with ExitStack() as stack:
        env: dict[str, str] = {}
        if "url" in providers:
            pg = stack.enter_context(LocalRunning(POSTGRES, 30))
            cache = stack.enter_context(LocalRunning(REDIS, 30))
            env = {"DATABASE_URL": pg.url, "REDIS_URL": cache.url}
        for provider in providers:
            try:
                measure(provider, env)  # warm-up: imports, page cache, image layers
                results[provider] = [measure(provider, env) for _ in range(args.runs)]
            except ServiceError as exc:
                problems[provider] = str(exc).splitlines()[0]
    header = f"{'':28}" + "".join(f"{p:>12}" for p in results)
    print(f"time to ready, median of {args.runs} runs (min in brackets), seconds")
    print(header)
    for index, label in enumerate(("postgres ready", "redis ready", "both ready from start")):
        cells = []
        for runs in results.values():
            values = [r[index] for r in runs]
            cells.append(f"{statistics.median(values):6.2f} ({min(values):4.2f})")
        print(f"{label:28}" + "".join(f"{c:>12}" for c in cells))
    goal_cells = [f"< {GOALS[p]:g}" if p in GOALS else "-" for p in results]
    print(f"{'goal':28}" + "".join(f"{c:>12}" for c in goal_cells))
    verdicts = []
    for provider, runs in results.items():
        median = statistics.median(r[2] for r in runs)
        if provider in GOALS:
            verdicts.append("met" if median < GOALS[provider] else "MISSED")
        else:
            verdicts.append("-")
    print(f"{'goal met (median)':28}" + "".join(f"{v:>12}" for v in verdicts))
    for provider, problem in problems.items():
        print(f"{provider}: not measured: {problem}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
