# The main job: the repository's whole local pipeline through its own noxfile (lint, type,
# security, tests on Python 3.9-3.12, combined coverage, integration against real PostgreSQL
# and Redis, and the report's quality gate).
.venv/bin/nox
