"""The one masker: every secret noxops handles is registered here, and every message it prints
or logs goes through :func:`mask`.

Registered are the registry password (and the base64 ``user:password`` that ``docker login``
stores), kubeconfig tokens and keys, service passwords; besides those, the password of any
URL in a message is masked, also when it holds an unencoded ``@``
(``postgresql://app:p@ss@db/app``). :class:`noxops.errors.NoxopsError` masks its own
message, so a user-facing error never shows a registered secret.
"""

from __future__ import annotations

import base64
import re
import threading
from typing import Callable

__all__ = [
    "MASK",
    "URL_MASK",
    "forget",
    "mask",
    "mask_urls",
    "masked",
    "register",
    "register_login",
]

MASK = "****"
URL_MASK = "***"
_MIN_LENGTH = 4  # shorter values would mask ordinary words
_lock = threading.Lock()
_secrets: set[str] = set()

# scheme://user:PASSWORD@host: the password runs to the last "@" before the host part, so an
# unencoded "@" in it is masked too.
_URL_PASSWORD = re.compile(
    r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s'\"]*:)(?P<pw>[^\s/?#'\"]*)@"
)


def register(*values: object) -> None:
    """Mask ``values`` (as text) from now on in everything :func:`mask` sees."""
    with _lock:
        for value in values:
            text = str(value or "")
            if len(text) >= _MIN_LENGTH:
                _secrets.add(text)
                stripped = text.strip()
                if len(stripped) >= _MIN_LENGTH:
                    _secrets.add(stripped)


def register_login(user: str, password: str) -> None:
    """A registry login: the password and the base64 ``user:password`` docker keeps."""
    pair = f"{user}:{password}".encode()
    register(password, base64.b64encode(pair).decode("ascii"))


def forget(*values: object) -> None:
    """Stop masking ``values`` (tests)."""
    with _lock:
        for value in values:
            _secrets.discard(str(value))


def mask_urls(text: str) -> str:
    """``text`` with the password of every URL in it replaced."""
    return _URL_PASSWORD.sub(lambda m: f"{m.group('head')}{URL_MASK}@", text)


def mask(text: str) -> str:
    """``text`` with every registered secret (``****``) and URL password (``***``) replaced."""
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    return mask_urls(text)


def masked(log: Callable[[str], None]) -> Callable[[str], None]:
    """``log`` with every line masked first."""

    def write(line: str) -> None:
        log(mask(line))

    return write
