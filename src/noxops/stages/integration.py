"""The ``integration`` stage: tests/integration against real services."""
