"""The pytest plugin: fixtures for the integration services (see noxops.services)."""
