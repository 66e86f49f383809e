"""The private registry login without an engine: the credential helper docker runs answers
from the environment and writes nothing, and ``push_timeout`` is checked like every timeout.
(With the real CLI and engine: ``tests/faults/test_registry_credentials.py``.)"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Optional

import pytest

from noxops.config import load
from noxops.errors import ConfigError
from noxops.image.auth import HELPER, Credentials, logged_in

SECRET = "planted-helper-3d9f0b"  # noqa: S105 - planted: must never reach the disk


def _helper(action: str, stdin: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """What the docker CLI does with a credHelpers entry: run the helper found on PATH."""
    return subprocess.run(
        [f"docker-credential-{HELPER}", action],
        input=stdin, env={**os.environ, **env}, capture_output=True, text=True, check=False,
    )  # fmt: skip


@pytest.mark.skipif(os.name != "posix", reason="the helper is a POSIX shell script")
def test_the_helper_answers_from_the_environment_and_stores_nothing(tmp_path: Path) -> None:
    creds = Credentials("reg.test:5000", "bot", SECRET, "$FAULT_SECRET")
    stored: list[subprocess.CompletedProcess[str]] = []

    def docker(*args: str, env: Optional[Mapping[str, str]] = None, **_: object) -> object:
        assert args[0] == "login" and env is not None
        login = {"ServerURL": creds.registry, "Username": "bot", "Secret": SECRET}
        stored.append(_helper("store", json.dumps(login), env))  # as docker login does
        return subprocess.CompletedProcess(list(args), 0, "Login Succeeded\n", "")

    with logged_in(creds, {"PATH": os.environ["PATH"]}, docker=docker) as env:  # type: ignore[arg-type]
        folder = Path(env["DOCKER_CONFIG"])
        assert stored and stored[0].returncode == 0
        config = json.loads((folder / "config.json").read_text())
        assert config == {"credHelpers": {"reg.test:5000": HELPER}}
        answer = _helper("get", "reg.test:5000", env)
        assert answer.returncode == 0
        assert json.loads(answer.stdout) == {
            "ServerURL": "reg.test:5000", "Username": "bot", "Secret": SECRET,
        }  # fmt: skip
        assert json.loads(_helper("list", "", env).stdout) == {}
        on_disk = [p for p in folder.rglob("*") if p.is_file() and SECRET in p.read_text()]
        assert on_disk == []
    assert not folder.exists()


@pytest.mark.parametrize("value", ["0", "-1", "90000"])
def test_push_timeout_is_a_time_limit(tmp_path: Path, value: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.noxops.image]\npush_timeout = {value}\n")
    with pytest.raises(ConfigError) as err:
        load(tmp_path)
    assert err.value.key == "tool.noxops.image.push_timeout"
    assert "\n" not in str(err.value)
    (tmp_path / "pyproject.toml").write_text("[tool.noxops.image]\n")
    assert load(tmp_path).image.push_timeout == 600
