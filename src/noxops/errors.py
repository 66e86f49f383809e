"""Errors that are the user's to fix: they are printed as one clear message, never a traceback."""

from __future__ import annotations

from noxops.masking import mask

__all__ = ["ConfigError", "NoxopsError", "StageTimeout"]


class NoxopsError(Exception):
    """A problem the user can fix: the message says what was wrong, where, and how to fix it.

    Its text never shows a secret: registered secrets and URL passwords are masked.
    """

    def __str__(self) -> str:
        return mask(super().__str__())


class ConfigError(NoxopsError):
    """``[tool.noxops]`` (or an argument standing in for it) holds something noxops cannot use."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        self.file = file
        self.key = key
        self.problem = problem
        super().__init__(f"{file}: {key}: {problem}")


class StageTimeout(NoxopsError):
    """A stage ran past its configured timeout and was stopped."""
