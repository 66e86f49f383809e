"""The commands the generated jobs run really run the sessions, in the CI graph's order.

The ``tests`` and ``coverage`` job commands of a generated ``.gitlab-ci.yml`` are run as a
CI runner would (``bash -c``, ``$PYTHON`` from the matrix) on a fixture project: coverage
then combines what the tests job left in reports/ without running the tests again
(``--no-dependencies``: the CI graph already ran what the session requires).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.noxrun import copy_fixture, set_noxops

from noxops.ci.command import expected_files
from noxops.config import load

yaml = pytest.importorskip("yaml")
BIN = Path(sys.executable).parent


def job_command(doc: dict[str, object], name: str) -> str:
    job = doc[name]
    assert isinstance(job, dict)
    script = job["script"]
    assert isinstance(script, list)
    (command,) = [line for line in script if str(line).startswith("nox ")]  # its session
    assert isinstance(command, str)
    return command


@pytest.mark.slow
def test_generated_job_commands_run_the_sessions(tmp_path: Path) -> None:
    python = f"{sys.version_info[0]}.{sys.version_info[1]}"
    project = copy_fixture("clean_project", tmp_path)
    set_noxops(project, f'python = ["{python}"]')
    doc = yaml.safe_load(expected_files(load(project), "gitlab")[".gitlab-ci.yml"])
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "NOX_DEFAULT_VENV_BACKEND")}
    env.update({"PYTHON": python, "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"})
    env.update({"NO_COLOR": "1", "CI": "true"})
    outputs: dict[str, str] = {}
    for name in ("tests", "coverage"):
        command = job_command(doc, name)
        proc = subprocess.run(
            ["bash", "-c", command],
            cwd=project,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=600,
            check=False,
        )
        assert proc.returncode == 0, f"{command}\n{proc.stdout}"
        outputs[name] = proc.stdout
    assert f"Running session tests-{python}" in outputs["tests"]
    assert "Running session coverage" in outputs["coverage"]
    assert f"Running session tests-{python}" not in outputs["coverage"]
    assert (project / "reports" / "coverage.xml").is_file()
    assert (project / "reports" / f"junit-{python}.xml").is_file()
