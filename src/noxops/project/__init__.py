"""Facts about the project: its pyproject, layout, lock files, tools and their pins,
interpreters, how it installs, coverage settings, and the paths noxops may own in it."""
