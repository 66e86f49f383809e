"""Registry credentials: which environment variables hold them, and a private docker login.

The password never touches the disk. It travels on ``docker login``'s stdin, and the docker
commands of the login find it through a credential helper, ``docker-credential-noxops``: a
small script in a temporary ``DOCKER_CONFIG`` folder (mode 0700) that answers from the
commands' environment and drops what docker asks it to store, where docker itself would write
the base64 ``user:password`` into ``config.json``. The folder is deleted afterwards, on
SIGTERM and SIGHUP too, and by the next noxops run when this one was SIGKILLed
(:mod:`noxops.containers.leases`). Messages name the variable the password came from, never its
value, which is registered with :mod:`noxops.masking`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Optional

from noxops.ci import providers
from noxops.containers import engine, leases
from noxops.errors import NoxopsError
from noxops.image.settings import ImageConfig
from noxops.masking import mask, register_login

__all__ = [
    "CREDENTIALS_ENV",
    "HELPER",
    "Credentials",
    "credentials",
    "logged_in",
    "login",
    "registry_credentials",
]


@dataclasses.dataclass(frozen=True)
class Credentials:
    registry: str  # host[:port]
    username: str
    password: str = dataclasses.field(repr=False)
    source: str  # which variables they came from (for messages; never the values)


def _candidates(host: str, env: Mapping[str, str]) -> list[tuple[str, str]]:
    """The (user, password) variable pairs that may hold credentials for ``host``."""
    # noxops's own pair first, then each CI provider's for its own registry
    own = ("NOXOPS_REGISTRY_USER", "NOXOPS_REGISTRY_PASSWORD")
    return [own, *providers.credential_variables(env, host)]


def registry_credentials(host: str, env: Mapping[str, str]) -> Optional[Credentials]:
    """Credentials for ``host`` (host[:port]) from the environment, or None (anonymous)."""
    for user_var, password_var in _candidates(host, env):
        if env.get(user_var) and env.get(password_var):
            register_login(env[user_var], env[password_var])  # never printed from here on
            return Credentials(host, env[user_var], env[password_var], f"${password_var}")
    return None


def credentials(image_cfg: ImageConfig, env: Mapping[str, str]) -> Credentials:
    """Registry credentials from the environment; a clear error naming what to set."""
    if not image_cfg.registry:
        raise NoxopsError(
            "pushing needs [tool.noxops.image] registry, like 'ghcr.io/acme' or "
            "'registry.gitlab.com/acme/app'"
        )
    host = image_cfg.registry.split("/", 1)[0]
    found = registry_credentials(host, env)
    if found is not None:
        return found
    names = " and ".join(f"{u}/{p}" for u, p in _candidates(host, env))
    raise NoxopsError(
        f"pushing to {host} needs credentials: set {names} in the environment (or log in with "
        "`docker login` yourself and set [tool.noxops.image] login = false)"
    )


def login(
    creds: Credentials, env: Mapping[str, str], *, docker: engine.Docker = engine.docker
) -> None:
    """``docker login --password-stdin`` with ``env`` (a private ``DOCKER_CONFIG``): it checks
    the credentials before the long work starts."""
    proc = docker(
        "login", "--username", creds.username, "--password-stdin", creds.registry,
        input=creds.password + "\n", env=env, check=False, timeout=60,
    )  # fmt: skip
    if proc.returncode != 0:
        detail = mask((proc.stderr or proc.stdout).replace(creds.password, "****")).strip()
        raise NoxopsError(
            f"docker login to {creds.registry} as {creds.username} (password from "
            f"{creds.source}) failed: {detail}"
        )


# The credential helper: ``get`` answers from the environment, ``store`` (docker login) and
# ``erase`` write nothing, ``list`` knows of nothing stored.
HELPER = "noxops"
CREDENTIALS_ENV = "NOXOPS_DOCKER_CREDENTIALS"
_HELPER_SCRIPT = f"""#!/bin/sh
# noxops: registry credentials from the environment of the docker command, never from disk
case "$1" in
  get) cat >/dev/null; printf '%s' "${CREDENTIALS_ENV}";;
  store|erase) cat >/dev/null;;
  list) printf '{{}}';;
  *) exit 1;;
esac
"""
# The names docker looks a Docker Hub login up under.
_DOCKER_HUB = ("docker.io", "index.docker.io", "registry-1.docker.io")


def _helper_env(creds: Credentials, folder: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """Set up ``folder`` as a ``DOCKER_CONFIG`` whose login for ``creds.registry`` is answered
    by the helper (for that registry only: a base image's registry never gets it); the
    environment docker commands then need."""
    helper = folder / f"docker-credential-{HELPER}"
    helper.write_text(_HELPER_SCRIPT, encoding="utf-8")
    helper.chmod(0o700)
    names = [creds.registry]
    if creds.registry in _DOCKER_HUB:
        names.append("https://index.docker.io/v1/")
    config = {"credHelpers": dict.fromkeys(names, HELPER)}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    secret = {"ServerURL": creds.registry, "Username": creds.username, "Secret": creds.password}
    path = os.pathsep.join([str(folder), environ.get("PATH") or os.defpath])
    return {"DOCKER_CONFIG": str(folder), "PATH": path, CREDENTIALS_ENV: json.dumps(secret)}


@contextlib.contextmanager
def logged_in(
    creds: Optional[Credentials],
    environ: Mapping[str, str],
    *,
    docker: engine.Docker = engine.docker,
) -> Iterator[dict[str, str]]:
    """The environment for docker commands that talk to the registry.

    With credentials: a private, temporary ``DOCKER_CONFIG`` (mode 0700) logged in by stdin,
    whose login is kept in memory by the credential helper (on POSIX; elsewhere docker stores
    it in the folder's ``config.json``), deleted afterwards (the user's CLI plugins, like
    buildx, stay reachable through a link).
    """
    if creds is None:
        yield {}
        return
    with leases.interrupting(), leases.private_dir("noxops-docker-") as folder:  # mode 0700
        plugins = Path(environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "cli-plugins"
        if plugins.is_dir():
            (folder / "cli-plugins").symlink_to(plugins)
        env = {"DOCKER_CONFIG": str(folder)}
        if os.name == "posix":
            env = _helper_env(creds, folder, environ)
        login(creds, env, docker=docker)
        yield env
