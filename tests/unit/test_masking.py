"""One masker for every secret noxops prints or logs."""

from __future__ import annotations

import base64

from noxops import masking
from noxops.errors import NoxopsError
from noxops.services.base import mask_url


def test_a_database_url_with_an_unencoded_at_is_masked_whole() -> None:
    text = "DATABASE_URL postgresql://app:p@ss@w0rd@db.example:5432/app is refused"
    shown = masking.mask(text)
    assert "p@ss" not in shown and "w0rd" not in shown and "ss@" not in shown
    assert "postgresql://app:***@db.example:5432/app" in shown
    assert mask_url(text) == shown


def test_registered_secrets_and_the_docker_login_pair_are_masked() -> None:
    masking.register_login("bot", "hunter2-registry")
    try:
        pair = base64.b64encode(b"bot:hunter2-registry").decode()
        shown = masking.mask(f"denied: hunter2-registry; auth {pair}")
        assert "hunter2" not in shown and pair not in shown
        assert str(NoxopsError("push failed: hunter2-registry")) == "push failed: ****"
    finally:
        masking.forget("hunter2-registry", pair)


def test_short_values_are_not_registered() -> None:
    masking.register("ab")
    assert masking.mask("ab cd") == "ab cd"
