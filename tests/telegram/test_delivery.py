"""Outbound delivery through the real client: timeouts, giving up loudly, long replies, typing."""

from __future__ import annotations

import logging

import pytest

from adapters.telegram import DeliveryFailed
from bot.messages import ConversationRef, Reply, Source
from tests.telegram.conftest import Harness


async def test_a_hung_request_times_out_and_is_retried_once_delivered(tg: Harness) -> None:
    tg.fake.fail_next("sendMessage", hang_s=3)
    tg.fake.user(201).says("are you there?")
    [answer] = await tg.fake.wait_for_messages(201, 1, timeout=8)
    assert answer.text == "echo: are you there?"
    await tg.fake.wait_quiet(0.2)
    assert len(tg.fake.sent_to(201)) == 1


async def test_persistent_5xx_is_raised_and_logged_after_bounded_retries(
    tg: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    tg.fake.fail_next("sendMessage", status=502, times=5)
    with caplog.at_level(logging.ERROR), pytest.raises(DeliveryFailed, match="after 5 attempts"):
        await tg.adapter.send(ConversationRef("telegram", "202"), Reply(text="lost?"))
    assert any("FAILED after 5 attempts" in r.getMessage() for r in caplog.records)
    assert len(tg.fake.calls_to("sendMessage")) == 5
    await tg.adapter.send(ConversationRef("telegram", "202"), Reply(text="next one goes through"))
    assert [m.text for m in tg.fake.sent_to(202)] == ["next one goes through"]


async def test_a_refused_message_is_not_retried(tg: Harness) -> None:
    tg.fake.fail_next("sendMessage", status=403)
    with pytest.raises(DeliveryFailed, match="blocked by the user"):
        await tg.adapter.send(ConversationRef("telegram", "203"), Reply(text="hello?"))
    assert len(tg.fake.calls_to("sendMessage")) == 1
    with pytest.raises(ValueError, match="empty reply"):
        await tg.adapter.send(ConversationRef("telegram", "203"), Reply(text="  "))


async def test_long_reply_arrives_in_order_in_chunks_with_buttons_on_the_last(tg: Harness) -> None:
    body = " ".join(f"Step {i}: unscrew panel <{i}> & lift." for i in range(600))
    await tg.adapter.send(
        ConversationRef("telegram", "204"),
        Reply(text=body, quote="how do I open it", sources=(Source("m1", "Manual", 0.8),)),
    )
    sent = tg.fake.sent_to(204)
    assert len(sent) >= 5
    assert all(m.buttons == [] for m in sent[:-1]) and sent[-1].buttons
    visible = " ".join(m.text for m in sent)
    assert visible.startswith("how do I open it\n\nStep 0: unscrew panel <0> & lift.")
    assert visible.endswith("Step 599: unscrew panel <599> & lift.\n\nSources: Manual")


async def test_working_sends_typing(tg: Harness) -> None:
    await tg.adapter.working(ConversationRef("telegram", "205"))
    assert tg.fake.chat_actions == [(205, "typing")]


async def test_sending_to_another_channel_is_refused(tg: Harness) -> None:
    with pytest.raises(ValueError, match="not a Telegram conversation"):
        await tg.adapter.send(ConversationRef("slack", "C1"), Reply(text="hi"))
    with pytest.raises(ValueError, match="numeric"):
        await tg.adapter.send(ConversationRef("telegram", "@shop"), Reply(text="hi"))
