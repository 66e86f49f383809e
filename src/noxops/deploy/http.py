"""The one place deploy code opens URLs: only http and https, never file: or custom schemes."""

from __future__ import annotations

import ssl
import urllib.parse
import urllib.request
from typing import Any, Optional, Union

from noxops.errors import NoxopsError

__all__ = ["open_url"]


def open_url(
    target: Union[str, urllib.request.Request],
    *,
    timeout: float,
    context: Optional[ssl.SSLContext] = None,
) -> Any:
    """``urllib.request.urlopen`` for http(s) URLs only (a clear error for anything else)."""
    url = target.full_url if isinstance(target, urllib.request.Request) else target
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in ("http", "https"):
        shown = url.split("?", 1)[0]
        raise NoxopsError(f"{shown!r}: only http:// and https:// URLs can be used here")
    # The scheme is checked above.
    return urllib.request.urlopen(  # noqa: S310  # nosec B310
        target, timeout=timeout, context=context
    )
