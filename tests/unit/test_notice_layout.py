"""One layout for every notice (``notify.message``): the pipeline's and a deploy's Slack
messages and e-mails are built by the same two functions, so both keep within Slack's limits
(a field's text at most 2000 characters: Slack refuses the whole message otherwise)."""

from __future__ import annotations

from typing import Any

from noxops.deploy.context import DeployResult
from noxops.notify import deploy as notify
from noxops.notify import message
from noxops.notify.outcome import Outcome


def _field_texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [f["text"] for b in blocks for f in b.get("fields", [])]


def test_a_deploy_notice_keeps_within_slacks_field_limit() -> None:
    image = "reg.test/web:" + "a" * 2500  # a long tag: fields must still be accepted
    result = DeployResult(
        env="production", strategy="rolling", action="deploy", image=image, outcome="deployed"
    )
    payload: dict[str, Any] = notify.slack_payload(result, "shop")
    texts = _field_texts(payload["blocks"])
    assert texts[2].startswith("*Image*\nreg.test/web:aaa")
    assert max(len(t) for t in texts) <= 2000
    assert payload["text"].endswith(image)  # the fallback line is not a field: kept whole


def test_deploy_and_pipeline_notices_lay_out_the_same_facts_alike() -> None:
    result = DeployResult(
        env="staging", strategy="rolling", action="deploy", image="i:1", outcome="failed",
        message="why", analysis=[{"round": 1}],
    )  # fmt: skip
    outcome = Outcome(project="shop", status="failure", verdict="FAILED", message="why")
    deploy_blocks = notify.slack_payload(result, "shop")["blocks"]
    pipeline_blocks = message.slack_payload(outcome)["attachments"][0]["blocks"]  # type: ignore[index]
    assert [b["type"] for b in deploy_blocks] == [b["type"] for b in pipeline_blocks]  # type: ignore[attr-defined]
    mail = notify.email_message(result, "shop", "ci@x.test", ["a@x.test"])
    assert mail.get_content().endswith('\nwhy\n\nAnalysis:\n  {"round": 1}\n')
