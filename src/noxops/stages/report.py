"""The ``report`` stage: one quality gate over every stage's results."""
