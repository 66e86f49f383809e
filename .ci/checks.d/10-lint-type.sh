# The repository's own lint and type sessions, through its own noxfile.
.venv/bin/nox -s lint type
