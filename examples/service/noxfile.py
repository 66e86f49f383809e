"""The notes service's whole pipeline; it is configured in pyproject.toml [tool.noxops]."""

import noxops

noxops.sessions()
