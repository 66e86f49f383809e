"""A run the fault tests interrupt: ``python driver.py MODE [MOMENT SIGNAL]``.

MODE ``smoke`` starts the fault image with a helper container through
:class:`noxops.build.smoke.RunningService`; ``login`` logs in to a registry (a fake ``docker``
CLI on PATH) and pushes; ``kube`` writes the kubeconfig from ``$FAULT_KUBECONFIG`` and opens a
client with a client key. MOMENT names the ``docker`` subcommand (``create``, ``create#2``,
``start``, ``network``, ``push``) during which, 50 ms in, the run sends itself SIGNAL; ``serve``
means once everything is up; ``-`` means never. The run prints ``READY`` when up, then
sleeps (a live neighbour) until ``FAULT_HOLD`` seconds pass.

MODE ``local`` starts PostgreSQL, then Redis, with the ``local`` provider and prints
``MOMENT <name>`` at ``initdb`` (initdb running), ``initdb-done`` (the postmaster about to be
spawned), ``postgres`` (PostgreSQL ready) and ``redis`` (both ready); at the MOMENT asked for
it pauses ``FAULT_HOLD`` seconds (the test SIGKILLs it there).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from noxops import leases
from noxops.build import engine, runner, smoke
from noxops.build.auth import Credentials, logged_in
from noxops.deploy import kube
from noxops.masking import register_login

IMAGE = os.environ.get("FAULT_IMAGE", "noxops-faults/http:1")


def _arm(moment: str, signame: str) -> None:
    """Send ``signame`` to this process 50 ms into the docker command named ``moment``."""
    if moment in ("-", "serve"):
        return
    name, _, nth = moment.partition("#")
    wanted = int(nth or 1)
    real = engine.docker
    seen = {"count": 0}

    def docker(*args: str, **kwargs: Any) -> Any:
        if args and args[0] == name:
            seen["count"] += 1
            if seen["count"] == wanted:
                signum = getattr(signal, signame)
                threading.Timer(0.05, os.kill, (os.getpid(), signum)).start()
        return real(*args, **kwargs)

    engine.docker = docker


def _fire(moment: str, signame: str) -> None:
    if moment == "serve":
        os.kill(os.getpid(), getattr(signal, signame))
        time.sleep(5)


def _hold() -> None:
    print("READY", flush=True)
    time.sleep(float(os.environ.get("FAULT_HOLD", "0")))


def _moment(name: str, wanted: str) -> None:
    print(f"MOMENT {name}", flush=True)
    if name == wanted:
        time.sleep(float(os.environ.get("FAULT_HOLD", "0")))


def _local(moment: str) -> None:
    from noxops.services.local import LocalRunning
    from noxops.services.postgres import KIND as POSTGRES
    from noxops.services.redis import KIND as REDIS

    real_spawn = LocalRunning._spawn

    def spawn(self: LocalRunning, argv: list[str], spec: Any) -> Any:
        name = Path(argv[0]).name
        if name == "postgres":
            _moment("initdb-done", moment)
        proc = real_spawn(self, argv, spec)
        if name == "initdb":
            _moment("initdb", moment)
        return proc

    LocalRunning._spawn = spawn  # type: ignore[method-assign]
    # SIGTERM unwinds (as in a session), also as PID 1 of a namespace, which ignores it else.
    with leases.interrupting(), LocalRunning(POSTGRES, ready_timeout=60) as postgres:
        print(f"URL {postgres.url}", flush=True)
        _moment("postgres", moment)
        with LocalRunning(REDIS, ready_timeout=60) as cache:
            print(f"URL {cache.url}", flush=True)
            _moment("redis", moment)
            _hold()


def main(mode: str, moment: str = "-", signame: str = "SIGTERM") -> None:
    if mode == "local":
        _local(moment)
        return
    _arm(moment, signame)
    if mode == "smoke":
        helper = smoke.SidecarSpec("cache", IMAGE, {"FAULT_SECRET": os.environ["FAULT_SECRET"]})
        with smoke.RunningService(
            IMAGE, port=8000, health_path="/", timeout=30, sidecars=(helper,),
            env={"FAULT_SECRET": os.environ["FAULT_SECRET"]},
        ) as service:  # fmt: skip
            print(f"URL {service.base_url}", flush=True)
            _fire(moment, signame)
            _hold()
    elif mode == "login":
        password = os.environ["FAULT_SECRET"]
        creds = Credentials("127.0.0.1:5999", "bot", password, "$FAULT_SECRET")
        register_login("bot", password)
        with logged_in(creds, os.environ) as env:
            print(f"CONFIG {env['DOCKER_CONFIG']}", flush=True)
            runner._push("127.0.0.1:5999/app:1", env, docker=engine.docker, log=print)
            _fire(moment, signame)
            _hold()
    elif mode == "kube":
        with kube.kubeconfig_from_env("FAULT_KUBECONFIG") as path:
            cfg = kube.load_kubeconfig(path, where="the kubeconfig in $FAULT_KUBECONFIG")
            with kube.KubeClient(cfg):
                print(f"CONFIG {path}", flush=True)
                _fire(moment, signame)
                _hold()
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    try:
        main(*sys.argv[1:])
    except KeyboardInterrupt as exc:
        print(f"interrupted: {exc}", flush=True)
        sys.exit(130)
