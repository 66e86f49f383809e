"""One masker for every secret noxops prints or logs."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from urllib.parse import quote, quote_plus

import pytest

from noxops import masking
from noxops.errors import NoxopsError
from noxops.notify.channels import deliver
from noxops.notify.settings import PipelineNotifyConfig
from noxops.reports.model import Check
from noxops.services.base import kind, mask_url


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


@pytest.fixture(autouse=True)
def _registered() -> Iterator[None]:
    """What a test registers is forgotten after it."""
    saved = set(masking._secrets)
    yield
    masking._secrets.clear()
    masking._secrets.update(saved)


# Each piece of the password holds "zq": any piece that shows is found.
AWKWARD = ["zq1/zq2", "zq1#zq2", "zq1?zq2", "zq1 zq2", 'zq1"zq2', "zq1'zq2", "zq/#?@ \"'zq"]


@pytest.mark.parametrize("password", AWKWARD)
def test_a_url_password_is_masked_whatever_it_holds(password: str) -> None:
    for url in (
        f"postgresql://app:{password}@db.example:5432/app",
        f"redis://:{quote(password, safe='')}@db.example:6379/0",
    ):
        shown = masking.mask(f"DATABASE_URL {url!r} is refused; see {url}\nnext line")
        assert "zq" not in shown, shown
        assert shown.count(":***@db.example:") == 2 and shown.endswith("\nnext line")


def test_each_url_on_a_line_keeps_its_host_and_a_url_without_password_stays() -> None:
    text = "from postgres://u:zq/1@h1:5432/db and redis://:zq#2@h2/0 to http://127.0.0.1:8000/x"
    assert masking.mask(text) == (
        "from postgres://u:***@h1:5432/db and redis://:***@h2/0 to http://127.0.0.1:8000/x"
    )
    assert masking.mask("postgresql://app@db/app") == "postgresql://app@db/app"


def test_the_secrets_of_an_environment_are_masked_in_every_form() -> None:
    password = 'zq1/zq2 zq3"zq4'  # noqa: S105 - planted
    masking.register_environ(
        {
            "DATABASE_URL": f"postgresql://app:{password}@db/app",
            "DEPLOY_TOKEN": "zq-token-1",
            "SIGNING_KEY": "zq-key-2",
            "CHOSEN": "zq-named-3",
            "PLAIN": "visible-value",
            "USE_TOKEN": "true",
        },
        ["CHOSEN"],
    )
    forms = [password, quote(password, safe=""), quote_plus(password), json.dumps(password)]
    forms += ["zq-token-1", "zq-key-2", "zq-named-3"]
    shown = masking.mask(" | ".join(forms))
    assert "zq" not in shown, shown
    assert masking.mask("visible-value true") == "visible-value true"


def test_a_service_url_is_parsed_whole_and_its_password_registered() -> None:
    password = 'zq1/zq2#zq3?zq4 zq5"zq6@zq7'  # noqa: S105 - planted
    endpoint = kind("postgres").parse(f"postgresql://app:{password}@db.example:5433/app")
    assert (endpoint.host, endpoint.port, endpoint.user) == ("db.example", 5433, "app")
    assert endpoint.password == password and endpoint.database == "app"
    assert "zq" not in masking.mask(f"{endpoint.url} {password} {quote(password, safe='')}")


def test_masked_data_masks_every_text_of_a_report() -> None:
    check = Check("it", "failed", "postgres://u:zq/1@h/db", details=["token zq-token-9"])
    masking.register("zq-token-9")
    shown = masking.mask_data(check)
    assert "zq" not in json.dumps(shown.to_dict()) and shown.status == "failed"
    assert check.details == ["token zq-token-9"]  # a copy: the original is unchanged


# -- webhooks: notify/channels.py kept a second masker for them (issue #27 item 7) -------------
# It hid a Slack webhook (its path is the secret) and the SMTP password only in its own result;
# they are now registered here, so every later line is masked too.

# Unique per run: other tests register common test secrets (like "s3cret") for the process.
SECRET = f"zq-hook-{uuid.uuid4().hex}"  # a test webhook's secret path part
PASSWORD = "zq-smtp-passw0rd"  # noqa: S105 - a test credential


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
