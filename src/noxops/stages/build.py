"""The ``build`` stage (wheel, sdist, container image) and ``smoke`` (tests against the image)."""
