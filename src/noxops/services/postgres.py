"""PostgreSQL: its URL, readiness query (``SELECT 1``), environment, container and local server."""

from __future__ import annotations

import glob
import grp
import importlib.util
import math
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
from pathlib import Path
from typing import Optional

from noxops.services.base import (
    ContainerSpec,
    Endpoint,
    Kind,
    LocalSpec,
    NotReady,
    ServiceError,
)

__all__ = ["KIND", "PostgresKind", "find_binaries"]

# Errors that waiting will not cure: report them at once.
_FATAL = (
    "password authentication failed",
    "does not exist",
    "could not translate host name",
    "Name or service not known",
    "no pg_hba.conf entry",
)
_BINARIES = ("initdb", "postgres")
# The usual install locations, newest version first: Debian/Ubuntu, RHEL/Fedora (PGDG),
# source builds, Homebrew.
_LOCATIONS = (
    "/usr/lib/postgresql/*/bin",
    "/usr/pgsql-*/bin",
    "/usr/local/pgsql/bin",
    "/opt/homebrew/opt/postgresql*/bin",
    "/usr/local/opt/postgresql*/bin",
)
_USERS = ("postgres", "nobody")


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path)[:2]) or (0,)


def _has_binaries(folder: Path) -> bool:
    return all(os.access(folder / name, os.X_OK) for name in _BINARIES)


def candidate_folders() -> list[Path]:
    """Where PostgreSQL's server binaries are looked for, in order."""
    folders: list[Path] = []
    explicit = os.environ.get("NOXOPS_PG_BIN")
    if explicit:
        folders.append(Path(explicit))
    on_path = shutil.which("initdb")
    if on_path:
        folders.append(Path(on_path).resolve().parent)
    for pattern in _LOCATIONS:
        matches = sorted(glob.glob(pattern), key=_version_key, reverse=True)  # noqa: PTH207
        folders.extend(Path(p) for p in matches)
    spec = importlib.util.find_spec("pgserver")  # the `local-servers` extra
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            folders.append(Path(location) / "pginstall" / "bin")
    return folders


def blocked_for(path: Path, user: str) -> Optional[Path]:
    """The first folder on the way to ``path`` that ``user`` may not enter, else ``None``."""
    entry = pwd.getpwnam(user)
    gids = {entry.pw_gid, *(g.gr_gid for g in grp.getgrall() if user in g.gr_mem)}
    for folder in [*reversed(path.parents), path]:
        try:
            info = folder.stat()
        except OSError:
            return folder
        if info.st_uid == entry.pw_uid:
            allowed = info.st_mode & stat.S_IXUSR
        elif info.st_gid in gids:
            allowed = info.st_mode & stat.S_IXGRP
        else:
            allowed = info.st_mode & stat.S_IXOTH
        if not allowed:
            return folder
    return None


def find_binaries() -> Optional[Path]:
    """The first folder holding ``initdb`` and ``postgres`` the server's user can run."""
    user = _account()
    for folder in candidate_folders():
        if _has_binaries(folder) and (user is None or blocked_for(folder, user) is None):
            return folder
    return None


def _account() -> Optional[str]:
    if os.geteuid() != 0:
        return None
    for name in _USERS:
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    return None


def server_user() -> Optional[str]:
    """The user to run the server as: ``None`` when not root, else a non-root account."""
    if os.geteuid() != 0:
        return None
    name = _account()
    if name is not None:
        return name
    raise ServiceError(
        "PostgreSQL refuses to run as root and neither a 'postgres' nor a 'nobody' user "
        "exists to run it as; create one (`useradd --system postgres`), run as a normal "
        "user, or use the docker provider"
    )


class PostgresKind(Kind):
    name = "postgres"
    title = "PostgreSQL"
    url_env = "DATABASE_URL"
    schemes = ("postgresql", "postgres")
    default_port = 5432
    default_image = "postgres:15"

    def probe(self, endpoint: Endpoint, timeout: float) -> None:
        try:
            import psycopg
        except ImportError:  # pragma: no cover - psycopg is a dependency of the tests here
            raise NotReady(
                "psycopg is not installed where noxops runs; install noxops[services]",
                fatal=True,
            ) from None
        try:
            with psycopg.connect(
                endpoint.url, connect_timeout=max(1, math.ceil(timeout)), autocommit=True
            ) as conn:
                conn.execute("SELECT 1").fetchone()
        except psycopg.Error as exc:
            message = " ".join(str(exc).split())
            raise NotReady(message, fatal=any(f in message for f in _FATAL)) from None

    def env(self, endpoint: Endpoint) -> dict[str, str]:
        return {
            self.url_env: endpoint.url,
            "PGHOST": endpoint.host,
            "PGPORT": str(endpoint.port),
            "PGUSER": endpoint.user,
            "PGPASSWORD": endpoint.password,
            "PGDATABASE": endpoint.database,
        }

    def container(self, password: str) -> ContainerSpec:
        return ContainerSpec(
            port=5432,
            endpoint=Endpoint("postgresql", "", 0, "postgres", password, "postgres"),
            env={
                "POSTGRES_USER": "postgres",
                "POSTGRES_PASSWORD": password,
                "POSTGRES_DB": "postgres",
                # The data lives in memory (a tmpfs, below): initdb's syncs cost nothing.
                "PGDATA": "/var/lib/postgresql/noxops-tmpfs/data",
                "POSTGRES_INITDB_ARGS": "--no-sync",
            },
            tmpfs=("/var/lib/postgresql/noxops-tmpfs",),
            # A throwaway server: durability off, the way the fast test setups run it.
            command=(
                "postgres",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ),
        )

    def local_available(self) -> Optional[str]:
        try:
            user = server_user()
        except ServiceError as exc:
            return str(exc)
        if find_binaries() is None:
            if user is not None:
                for folder in candidate_folders():
                    blocked = blocked_for(folder, user) if _has_binaries(folder) else None
                    if blocked is not None:
                        return (
                            f"the PostgreSQL binaries in {folder} cannot be run by user {user!r} "
                            f"(PostgreSQL refuses root): {blocked} is not searchable by it; "
                            f"install PostgreSQL where {user!r} can reach it (apt-get install "
                            "postgresql), make that folder searchable (chmod o+x), or use docker"
                        )
            searched = ", ".join(str(f) for f in candidate_folders()) or "nothing found"
            return (
                "no PostgreSQL server binaries (initdb, postgres) found on PATH or in "
                f"{', '.join(_LOCATIONS)} (candidates: {searched}); install them "
                "(apt-get install postgresql), or `pip install noxops[local-servers]`, "
                "or set NOXOPS_PG_BIN to their folder"
            )
        return None

    def local(self, workdir: Path, port: int, password: str) -> LocalSpec:
        binaries = find_binaries()
        if binaries is None:  # pragma: no cover - local_available() said so first
            raise ServiceError(self.local_available() or "PostgreSQL not found")
        pwfile = workdir / "pwfile"
        pwfile.write_text(password + "\n", encoding="utf-8")
        data = workdir / "data"
        return LocalSpec(
            prepare=[
                [
                    str(binaries / "initdb"),
                    "-D", str(data),
                    "-U", "postgres",
                    f"--pwfile={pwfile}",
                    "--auth-host=scram-sha-256",
                    "--auth-local=trust",
                    "-E", "UTF8",
                    "--locale=C",
                    "--no-sync",
                ],
            ],
            command=[
                str(binaries / "postgres"),
                "-D", str(data),
                "-p", str(port),
                "-h", "127.0.0.1",
                "-k", str(workdir),
                "-c", "fsync=off",
                "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off",
            ],
            endpoint=Endpoint("postgresql", "127.0.0.1", port, "postgres", password, "postgres"),
            log=workdir / "postgres.log",
            as_user=server_user(),
            stop_signal=signal.SIGINT,  # "fast" shutdown: does not wait for clients
            binary=str(binaries / "postgres"),
            pidfile=data / "postmaster.pid",
        )  # fmt: skip

    def stop_leftover(self, workdir: Path, port: int, binary: str) -> None:
        """``pg_ctl stop -m immediate`` (as the server's user when root) for the postmaster
        its ``postmaster.pid`` names, once that process is shown to run in this data folder;
        SIGQUIT (the same immediate shutdown) when ``pg_ctl`` is not there or fails."""
        from noxops.services.local import tied_process

        data = workdir / "data"
        proc = tied_process(data / "postmaster.pid", data, "postgres")
        if proc is None:  # not running, or not provably this folder's: signal nothing
            return
        pg_ctl = Path(binary).with_name("pg_ctl") if binary else None
        if pg_ctl is not None and os.access(pg_ctl, os.X_OK):
            user = server_user()  # as root: the account the server runs as
            entry = pwd.getpwnam(user) if user else None
            done = subprocess.run(
                [str(pg_ctl), "stop", "-D", str(data), "-m", "immediate", "-w", "-t", "10"],
                cwd=workdir, stdin=subprocess.DEVNULL, capture_output=True, timeout=20,
                check=False, user=entry.pw_uid if entry else None,
                group=entry.pw_gid if entry else None,
            )  # fmt: skip
            if done.returncode == 0:
                return
        proc.send_signal(signal.SIGQUIT)


KIND = PostgresKind()
