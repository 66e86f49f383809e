"""Webhook URLs are masked by the one masker (issue #27 item 7): notify/channels.py kept a
second one that hid a Slack webhook (its path is the secret) and the SMTP password only in
its own result; they are now registered with ``noxops.masking``, so every later line is
masked too."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from noxops import masking
from noxops.notify.channels import deliver
from noxops.notify.config import PipelineNotifyConfig

SECRET = "zq-hook-s3cret"  # noqa: S105 - a test webhook's secret path part
PASSWORD = "zq-smtp-passw0rd"  # noqa: S105 - a test credential


@pytest.fixture(autouse=True)
def _registered() -> Iterator[None]:
    """What a test registers is forgotten after it."""
    saved = set(masking._secrets)
    yield
    masking._secrets.clear()
    masking._secrets.update(saved)


def test_a_webhook_is_masked_whole_and_by_its_path() -> None:
    url = f"https://hooks.slack.example/services/T1/B2/{SECRET}"
    assert SECRET in masking.mask(f"POST {url}")  # no password in it: unknown until registered
    masking.register_webhook(url)
    for line in (f"POST {url}", f"404 for /services/T1/B2/{SECRET}", repr(url)):
        assert SECRET not in masking.mask(line), line
    assert masking.shown_webhook(url) == "https://hooks.slack.example/***"
    assert masking.shown_webhook("not a url") == "***"


def test_deliver_registers_the_channels_secrets_for_every_later_line() -> None:
    url = f"ftp://hooks.example.test/services/T9/B9/{SECRET}"  # refused at once: no network
    env = {"NOXOPS_SLACK_WEBHOOK": url, "NOXOPS_SMTP_PASSWORD": PASSWORD}
    logged: list[str] = []
    sent = deliver(
        PipelineNotifyConfig(),
        env,
        slack=lambda: {"text": "x"},
        email=lambda sender, to: pytest.fail("no mail host is set"),
        default_sender="noxops@test",
        log=logged.append,
    )
    assert sent["slack"].startswith("failed: ") and "only http:// and https://" in sent["slack"]
    assert sent["email"].startswith("skipped")
    assert logged[0] == f"notification slack (ftp://hooks.example.test/***): {sent['slack']}"
    shown = " ".join([*sent.values(), *logged])
    assert SECRET not in shown
    # A later line, wherever it is printed, is masked as well.
    later = masking.mask(f"retrying {url} with {PASSWORD}")
    assert SECRET not in later and PASSWORD not in later
