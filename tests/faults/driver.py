"""A run the fault tests interrupt: ``python driver.py MODE [MOMENT SIGNAL]``.

MODE ``smoke`` starts the fault image with a helper container through
:class:`noxops.image.smoke.RunningService`; ``login`` logs in to a registry (a fake ``docker``
CLI on PATH) and pushes; ``kube`` writes the kubeconfig from ``$FAULT_KUBECONFIG`` and opens a
client with a client key. MOMENT names the ``docker`` subcommand (``create``, ``create#2``,
``start``, ``network``, ``push``) during which, 50 ms in, the run sends itself SIGNAL; ``serve``
means once everything is up; ``-`` means never. The run prints ``READY`` when up, then
sleeps (a live neighbour) until ``FAULT_HOLD`` seconds pass.

MODE ``local`` starts PostgreSQL, then Redis, with the ``local`` provider and prints
``MOMENT <name>`` at ``initdb`` (initdb running), ``initdb-done`` (the postmaster about to be
spawned), ``postgres`` (PostgreSQL ready) and ``redis`` (both ready); at the MOMENT asked for
it pauses ``FAULT_HOLD`` seconds (the test SIGKILLs it there).

MODE ``services`` starts PostgreSQL and Redis with the ``docker`` provider, as ``nox -s
integration`` does (:class:`noxops.services.select.Services`), ``FAULT_TRIES`` times, and sends
itself SIGNAL once per try at the MOMENT of PostgreSQL's start: ``starting`` (the worker
threads being started), ``before-create`` (nothing created yet), ``create`` (the engine
creating the container), ``created`` (the container exists, not yet ready) or ``readiness``
(the first readiness query). Where the start goes on by itself, it goes on only once the run
has reacted to the signal (the worst case: the create comes after the interrupt). Each try
labels its containers with its own owner (``$NOXOPS_OWNER-<try>``) and prints ``TRY <n>
<outcome>``; the run waits for every start thread before the next try.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from noxops.containers import engine, leases
from noxops.deploy import kube
from noxops.image import runner, smoke
from noxops.image.auth import Credentials, logged_in
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


class _Aim:
    """Sends the signal once per try, at one moment of PostgreSQL's start."""

    def __init__(self, moment: str, signame: str) -> None:
        self.moment = moment
        self.signum = getattr(signal, signame)
        self.armed = False
        self.handled = threading.Event()  # the run reacted: it cancelled the starts

    def arm(self) -> None:
        self.armed, self.handled = True, threading.Event()

    def fire(self, moment: str, *, wait: bool) -> None:
        """At ``moment``: send the signal (once); with ``wait``, go on only once handled."""
        if not self.armed or moment != self.moment:
            return
        self.armed = False
        os.kill(os.getpid(), self.signum)
        if wait:
            self.handled.wait(60)


def _aim_services(aim: _Aim) -> None:
    from docker.models.containers import ContainerCollection

    from noxops.services import base
    from noxops.services.postgres import KIND as POSTGRES

    real_cancel = base.Running.cancel

    def cancel(self: base.Running) -> None:
        aim.handled.set()
        real_cancel(self)

    real_thread = threading.Thread

    class Thread(real_thread):  # type: ignore[misc,valid-type]
        def start(self) -> None:
            super().start()
            if self.name == "noxops-start-postgres":
                aim.fire("starting", wait=False)  # the main thread: raised right here

    real_create = ContainerCollection.create

    def create(self: Any, image: str, *args: Any, **kwargs: Any) -> Any:
        postgres = image.startswith("postgres")
        if postgres:
            aim.fire("before-create", wait=True)
            aim.fire("create", wait=False)  # handled while the engine creates
        made = real_create(self, image, *args, **kwargs)
        if postgres:
            aim.fire("created", wait=True)
        return made

    real_probe = POSTGRES.probe

    def probe(endpoint: Any, timeout: float) -> None:
        if aim.armed and aim.moment == "readiness":
            aim.fire("readiness", wait=True)
            raise base.NotReady("the aimed signal came first")
        real_probe(endpoint, timeout)

    base.Running.cancel = cancel  # type: ignore[method-assign]
    threading.Thread = Thread  # type: ignore[misc]
    ContainerCollection.create = create
    POSTGRES.probe = probe  # type: ignore[method-assign]


def _services(moment: str, signame: str) -> None:
    from noxops.services.base import ServiceError
    from noxops.services.select import Services, Settings, plan

    aim = _Aim(moment, signame)
    _aim_services(aim)
    owner = os.environ.get(engine.OWNER_ENV, "fault")
    choices = plan(["postgres", "redis"], "docker")
    for n in range(int(os.environ.get("FAULT_TRIES", "1"))):
        os.environ[engine.OWNER_ENV] = f"{owner}-{n}"
        aim.arm()
        try:
            with Services(choices, Settings(ready_timeout=60)):
                outcome = "READY"
        except KeyboardInterrupt as exc:
            outcome = f"interrupted {type(exc).__name__}"
        except ServiceError as exc:
            outcome = f"failed {' '.join(str(exc).split())[:300]}"
        # Another try must not meet this one's threads (the run would have ended here).
        for thread in threading.enumerate():
            if thread.name.startswith("noxops-") and thread is not threading.current_thread():
                thread.join(120)
        print(f"TRY {n} {outcome}", flush=True)


def main(mode: str, moment: str = "-", signame: str = "SIGTERM") -> None:
    if mode == "local":
        _local(moment)
        return
    if mode == "services":
        _services(moment, signame)
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
            runner._push("127.0.0.1:5999/app:1", env, docker=engine.docker, log=print, timeout=600)
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
