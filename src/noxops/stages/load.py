"""The ``load`` stage: the built image under load, gated on ``[tool.noxops.slo]``.

It starts the image with its helper services exactly as ``smoke`` does (``[tool.noxops.image.
smoke]``: port, health and ready paths, environment, helper containers), drives it with
locust (headless, in the session's environment) for ``[tool.noxops.load] duration`` seconds,
and fails when the p95 latency, the error ratio or the throughput misses the SLO. Its figures
(``load.json``) and a chart (``load.svg``) go to the report. Registered only when the project
has a Dockerfile (nor is there a CI job without one). Not part of a plain ``nox``:
``nox -s build load``. Like ``smoke``, it refuses a build manifest of another commit than
HEAD's unless given ``-- --allow-other-revision`` (:mod:`noxops.image.revision`).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING

from noxops.errors import NoxopsError
from noxops.image.runner import load_enabled
from noxops.load.figures import read_stats
from noxops.load.settings import LoadConfig
from noxops.load.slo import misses
from noxops.stages.base import CI, Output, report_path, stage, write_json

if TYPE_CHECKING:
    import nox

    from noxops.config import Config

__all__ = ["LOAD", "PLOT", "load", "locustfile"]

LOAD = Output("load.json", kind="load", check="load")
PLOT = Output("load.svg", kind="file")


def locustfile(paths: list[str]) -> str:
    """A locustfile whose users GET each of ``paths`` in turn, without pauses."""
    return (
        '"""Written by noxops for the load stage: GET each path in turn, no pauses."""\n\n'
        "from locust import HttpUser, constant, task\n\n"
        f"PATHS = {json.dumps(paths)}\n\n\n"
        "class NoxopsUser(HttpUser):\n"
        "    wait_time = constant(0)\n\n"
        "    @task\n"
        "    def paths(self) -> None:\n"
        "        for path in PATHS:\n"
        "            self.client.get(path, name=path)\n"
    )


@stage(
    "load",
    default=False,
    section="load",
    settings=LoadConfig,
    enabled=load_enabled,  # as smoke: only where there is an image to start
    allow_parallel=False,
    outputs=[LOAD, PLOT],
    ci=CI(stage="smoke", docker=True),  # after build, beside smoke
)
def load(session: nox.Session, config: Config) -> None:
    """Load-test the built image with locust; fail when it misses [tool.noxops.slo]."""
    try:
        _load(session, config)
    except NoxopsError as exc:
        session.error(str(exc))


def _load(session: nox.Session, config: Config) -> None:
    # Imported here: every nox process loads the stage declarations; few run this one.
    from noxops.image.revision import allowed
    from noxops.image.runner import built_image, running_service
    from noxops.load.plot import svg

    lc, sc, slo = config.load, config.image.smoke, config.slo
    image = built_image(
        config, "load", allow_other_revision=allowed(session.posargs), log=session.log
    )
    session.install(*lc.requirements)
    if lc.locustfile:
        file = config.root / lc.locustfile
    else:
        paths = list(lc.paths) or [sc.health_path, *([sc.ready_path] if sc.ready_path else [])]
        file = report_path(config, "load", "locustfile.py")  # generated: not a report
        file.write_text(locustfile(paths), encoding="utf-8")
    prefix = report_path(config, "load", "locust")
    for old in prefix.parent.glob("locust_*.csv"):
        old.unlink()
    with running_service(config, image, session.log) as service:
        session.log(f"load: {lc.users} user(s) for {lc.duration:g}s against {service.base_url}")
        # locust exits 1 when any request failed: the SLO's error ratio judges that.
        session.run(
            "locust", "-f", str(file), "--headless", "--host", service.base_url,
            "-u", str(lc.users), "-r", f"{lc.spawn_rate:g}", "-t", f"{max(1, round(lc.duration))}s",
            "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING",
            success_codes=[0, 1],
        )  # fmt: skip
    figures = read_stats(prefix)
    missed = misses(slo, p95_ms=figures.p95_ms, error_ratio=figures.error_ratio, rps=figures.rps)
    plot = PLOT.path(config)
    plot.write_text(svg(figures.history, slo, f"{config.project_name} under load"), "utf-8")
    write_json(
        LOAD.path(config),
        {
            "image": image,
            "users": lc.users,
            "duration": lc.duration,
            "slo": asdict(slo),
            "figures": figures.as_dict(),
            "misses": missed,
            "passed": not missed,
            "plot": PLOT.name(config),
        },
    )
    figure = (
        f"p95 {figures.p95_ms:.0f} ms, {figures.error_ratio:.2%} errors, "
        f"{figures.rps:.1f} req/s over {figures.requests} request(s)"
    )
    if missed:
        session.error(f"the service missed its SLO ({figure}): {'; '.join(missed)}")
    session.log(f"SLO met: {figure}")
