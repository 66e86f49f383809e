# The repository's own integration session: tests/integration against real PostgreSQL and
# Redis (provider chosen automatically: Docker here, since 30-container-engine.sh started it).
.venv/bin/nox -s integration
