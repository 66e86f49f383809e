"""The one masker: every secret noxops handles is registered here, and every message it prints
or logs goes through :func:`mask`.

Registered are the registry password (and the base64 ``user:password`` that ``docker login``
stores), kubeconfig tokens and keys, service passwords, and, when a session starts, the value
of every environment variable that holds a secret (:func:`register_environ`: names with
PASSWORD, TOKEN, SECRET or ending in _KEY, and the password of every URL in a value). A
password is registered as written, percent-decoded, percent-encoded and escaped as JSON and
Python write it, because each of those forms reaches some output. A webhook URL whose path
is its secret (a Slack incoming webhook) is registered whole and by its path
(:func:`register_webhook`), and printed as :func:`shown_webhook`. Besides those, the
password of any URL in a message is masked: it runs from ``scheme://user:`` to the last
``@`` before the host, so it may hold ``@ / # ?``, spaces and quotes unencoded
(``postgresql://app:p@ss/w#rd@db/app``). :class:`noxops.errors.NoxopsError` masks its own
message, so a user-facing error never shows a registered secret.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Callable, Optional, TypeVar
from urllib.parse import quote, quote_plus, unquote, urlsplit

__all__ = [
    "MASK",
    "URL_MASK",
    "USERINFO_SAFE",
    "forget",
    "mask",
    "mask_data",
    "mask_urls",
    "masked",
    "register",
    "register_environ",
    "register_login",
    "register_password",
    "register_url",
    "register_webhook",
    "shown_webhook",
    "split_url",
]

MASK = "****"
URL_MASK = "***"
_MIN_LENGTH = 4  # shorter values would mask ordinary words
_lock = threading.Lock()
_secrets: set[str] = set()

# scheme://user: (the user holds no ":", "@", "/", space or quote); the password follows.
_URL_HEAD = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s'\"]*:")
_SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://")
_HOST_START = re.compile(r"[A-Za-z0-9\[]")
# Variables whose whole value is a secret.
_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|TOKEN|SECRET|_KEY$", re.IGNORECASE)
_PLAIN = frozenset({"true", "false", "none", "null", "unset"})  # switches, not secrets
# What a userinfo may hold unencoded besides letters, digits and "_.-~" (RFC 3986), and "%"
# so that what is already encoded stays so.
USERINFO_SAFE = "%!$&'()*+,;="


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


def register_password(password: str) -> None:
    """``password`` in every form an output may show it: as is, percent-encoded (as a URL
    holds it, ``+`` for a space in a query), and escaped inside JSON and Python strings."""
    register(
        password,
        quote(password, safe=""),
        quote(password, safe=USERINFO_SAFE),
        quote_plus(password, safe=""),
        json.dumps(password, ensure_ascii=False)[1:-1],
        repr(password)[1:-1],
    )


def _password_end(text: str, start: int, stop: int) -> Optional[int]:
    """Where the password starting at ``start`` ends: the last ``@`` before ``stop`` that a
    host follows, else the last ``@`` (a URL without a host); None when there is none."""
    last = text.rfind("@", start, stop)
    at = last
    while at >= 0:
        if _HOST_START.match(text, at + 1):
            return at
        at = text.rfind("@", start, at)
    return last if last >= 0 else None


def split_url(url: str) -> Optional[tuple[str, str, str, str]]:
    """``scheme://``, user, password (as written) and the rest (host, port, path) of a URL
    with a password, read leniently: the password runs to the last ``@`` before the host;
    None when ``url`` has no ``user:password@``."""
    head = _URL_HEAD.match(url)
    if head is None:
        return None
    at = _password_end(url, head.end(), len(url))
    if at is None:
        return None
    scheme, _, user = head.group()[:-1].partition("://")
    return f"{scheme}://", user, url[head.end() : at], url[at + 1 :]


def register_url(url: str) -> None:
    """The password of ``url``, as written and percent-decoded, in all its forms."""
    parts = split_url(url.strip())
    if parts is not None:
        register_password(parts[2])
        register_password(unquote(parts[2]))


def register_webhook(url: str) -> None:
    """A webhook URL whose path is the secret (``https://hooks.slack.com/services/T…/B…/…``):
    the URL and its path, in all their forms, since an error may quote either."""
    register_password(url)
    register_password(urlsplit(url).path)
    register_url(url)


def shown_webhook(url: str) -> str:
    """A webhook URL as it may be printed: its scheme and host, the path (the secret) hidden."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}/{URL_MASK}" if parts.scheme else URL_MASK


def register_environ(env: Mapping[str, str], names: Iterable[str] = ()) -> None:
    """The secrets in an environment: the values of ``names`` and of every variable whose
    name says it holds a secret, and the password of every URL in a value."""
    wanted = set(names)
    for name, value in env.items():
        if (name in wanted or _SECRET_NAME.search(name)) and value.lower() not in _PLAIN:
            register_password(value)
        if "://" in value:
            register_url(value)


def forget(*values: object) -> None:
    """Stop masking ``values`` (tests)."""
    with _lock:
        for value in values:
            _secrets.discard(str(value))


def mask_urls(text: str) -> str:
    """``text`` with the password of every URL in it replaced. A password ends at the last
    ``@`` before the host on its line and before the next ``scheme://``."""
    if "@" not in text:  # most log lines: no password possible
        return text
    parts: list[str] = []
    pos = 0
    while True:
        head = _URL_HEAD.search(text, pos)
        if head is None:
            break
        stop = len(text)
        for end in (text.find("\n", head.end()), text.find("\r", head.end())):
            stop = end if 0 <= end < stop else stop
        following = _SCHEME.search(text, head.end(), stop)
        at = _password_end(text, head.end(), following.start() if following else stop)
        if at is None:
            parts.append(text[pos : head.end()])
            pos = head.end()
            continue
        parts.append(f"{text[pos : head.end()]}{URL_MASK}@")
        pos = at + 1
    parts.append(text[pos:])
    return "".join(parts)


def mask(text: str) -> str:
    """``text`` with every registered secret (``****``) and URL password (``***``) replaced."""
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    return mask_urls(text)


T = TypeVar("T")


def mask_data(value: T) -> T:
    """A copy of ``value`` (text, or dataclasses, lists, tuples and dicts of it) with every
    text masked: for what is written as JSON or HTML, masked before it is escaped."""
    found: object = value
    if isinstance(value, str):
        found = mask(value)
    elif isinstance(value, (list, tuple)):
        found = type(value)(mask_data(item) for item in value)
    elif isinstance(value, dict):
        found = {key: mask_data(item) for key, item in value.items()}
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: mask_data(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init
        }
        found = dataclasses.replace(value, **changes)
    return found  # type: ignore[return-value]


def masked(log: Callable[[str], None]) -> Callable[[str], None]:
    """``log`` with every line masked first."""

    def write(line: str) -> None:
        log(mask(line))

    return write
