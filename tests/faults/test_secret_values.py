"""Secrets whose text the URL pattern alone cannot find: service passwords holding ``/ # ?``,
a space or quotes (given raw and percent-encoded), and a token in a variable of its own,
looked for in everything a real ``nox`` run shows and writes: the terminal, the session
records and logs, and every file the report writes."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest
from support.noxrun import copy_fixture, run_nox

from noxops.reports.output import OUTPUT_FILES

pytestmark = [pytest.mark.slow]

# Every piece of every planted secret holds "zq", so any piece that shows is found.
DB_PASSWORD = "zqA1/zqB2#zqC3?zqD4 zqE5\"zqF6'zqG7@zqH8"  # noqa: S105 - planted
REDIS_PASSWORD = 'zqJ1/zqK2#zqL3?zqM4 zqN5"zqP6'  # noqa: S105 - planted
TOKEN = "zqT0ken-zqT1-zqT2"  # noqa: S105 - planted
PLANTED = "zq"

# A stage of the project's own, as a test run that shows what it was given: it prints the
# secrets (one as a URL, one percent-decoded, one on its own) and writes a failing JUnit
# report that quotes them, so the report's findings carry them too.
LEAK_STAGE = """
import os, subprocess, sys
from urllib.parse import unquote
from noxops.stages import Output, stage

JUNIT = Output("junit-leak.xml", kind="junit", check="leak")
SHOW = '''
import os
from urllib.parse import unquote
db = os.environ["DATABASE_URL"]
print("db", db, "password", db.split(":", 2)[2].rsplit("@", 1)[0])
print("redis password", unquote(os.environ["REDIS_URL"].split(":", 2)[2].rsplit("@", 1)[0]))
print("token", os.environ["LEAK_DEPLOY_TOKEN"], flush=True)
'''

def leak_env(config, python):
    return []

@stage("leak", python="none", env=leak_env, outputs=[JUNIT])
def leak(session, config):
    '''Show what the environment holds.'''
    session.run(sys.executable, "-c", SHOW, external=True)
    message = f"{os.environ['DATABASE_URL']} {os.environ['LEAK_DEPLOY_TOKEN']}"
    quoted = message.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    JUNIT.path(config).write_text(
        '<testsuite name="leak" tests="1" failures="1" errors="0" skipped="0">'
        f'<testcase classname="leak" name="env"><failure message="{quoted}"/></testcase>'
        "</testsuite>",
        encoding="utf-8",
    )
"""


def _project(tmp_path: Path) -> Path:
    project = copy_fixture("integration_project", tmp_path)
    (project / "leak_stage.py").write_text(LEAK_STAGE, encoding="utf-8")
    (project / "noxfile.py").write_text(
        "import sys\nfrom pathlib import Path\nsys.path.insert(0, str(Path(__file__).parent))\n"
        "import leak_stage  # noqa: F401\nimport noxops\nnoxops.sessions()\n",
        encoding="utf-8",
    )
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    table = "[tool.noxops.integration]\n"
    pyproject.write_text(text.replace(table, f"{table}url_timeout = 1\n"), encoding="utf-8")
    return project


def test_service_passwords_and_tokens_are_masked_in_every_output(tmp_path: Path) -> None:
    project = _project(tmp_path)
    env = {
        "DATABASE_URL": f"postgresql://app:{DB_PASSWORD}@127.0.0.1:9/app",  # raw
        "REDIS_URL": f"redis://:{quote(REDIS_PASSWORD, safe='')}@127.0.0.1:9/0",  # encoded
        "LEAK_DEPLOY_TOKEN": TOKEN,
        "NOXOPS_PROVIDER": "url",
    }
    run = run_nox(project, "-s", "integration", "leak", "report", env=env, timeout=600)
    assert run.returncode != 0, run  # no server answers: integration fails, and the gate
    reports = project / "reports"
    written = [reports / name for name in OUTPUT_FILES.values()]
    records = sorted((reports / "sessions").glob("*.json"))
    logs = sorted((reports / "sessions").glob("*.log"))
    assert {p.stem for p in records} >= {"integration", "leak", "report"}, run
    assert {p.stem for p in logs} >= {"integration", "leak", "report"}, run
    # the run got as far as the places the secrets would show
    integration = json.loads((reports / "sessions" / "integration.json").read_text())
    assert "postgresql://app:***@127.0.0.1:9/app" in integration["reason"] or (
        "redis://:***@127.0.0.1:9/0" in integration["reason"]
    ), integration
    leak_log = (reports / "sessions" / "leak.log").read_text()
    assert "redis password ****" in leak_log and "token ****" in leak_log, leak_log
    summary = json.loads((reports / "summary.json").read_text())
    leak = next(c for c in summary["checks"] if c["name"] == "leak")
    assert leak["status"] == "failed" and "***" in json.dumps(leak), leak
    shown = {"terminal": run.output}
    for path in [*written, *records, *logs]:
        shown[str(path.relative_to(project))] = path.read_text(encoding="utf-8")
    leaks = [where for where, text in shown.items() if PLANTED in text]
    assert leaks == [], "\n".join(f"{w}: {shown[w]}" for w in leaks)
