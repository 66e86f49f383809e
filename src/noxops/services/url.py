"""The ``url`` provider: the CI system already runs the service and hands in its URL."""

from __future__ import annotations

from noxops.services.base import Kind, Running, Service

__all__ = ["UrlRunning"]


class UrlRunning(Running):
    """A server someone else runs (GitHub/GitLab ``services:``, a sidecar): only wait for it."""

    provider = "url"

    def __init__(self, kind: Kind, url: str, ready_timeout: float, source: str = "") -> None:
        super().__init__(kind, ready_timeout)
        self.url = url
        self.source = source or kind.url_env

    def start(self) -> Service:
        endpoint = self.kind.parse(self.url, what=self.source)  # malformed: fails at once
        return self.ready(endpoint, f"from {self.source}")

    def stop(self) -> None:
        """Nothing to stop: the server belongs to whoever started it."""
