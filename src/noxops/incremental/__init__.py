"""Doing less work per run: replays of unchanged stages (``--changed-only``),
the tests a change affects, environments kept and prepared ahead, and test shards."""
