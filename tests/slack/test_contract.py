"""Contract: the real slack-bolt app inside SlackAdapter against the fake Slack, over the HTTP Events API."""

from __future__ import annotations

import time

import pytest

from adapters.slack.texts import text
from adapters.testing.slack import SentMessage
from bot.messages import HUMAN_PAYLOAD
from tests.slack.conftest import Harness


async def test_mention_is_answered_in_its_thread_with_blocks(slack: Harness) -> None:
    delivery = await slack.fake.user("U1001").mentions("C0GENERAL", "Is 5 > 3 & <b>true</b>?")
    assert delivery.status == 200
    [answer] = await slack.fake.wait_for_messages("C0GENERAL", 1)
    assert answer.thread_ts == delivery.ts, "answered in the mention's thread"
    assert answer.body == "echo: Is 5 > 3 & <b>true</b>?"
    assert "&lt;b&gt;" in answer.blocks[0]["text"]["text"], "mrkdwn is escaped"
    assert answer.context == ["Sources: Returns & refunds"]
    assert "<https://shop.example/returns|Returns &amp; refunds>" in str(answer.blocks)
    assert [b[0] for b in answer.buttons] == [
        "Yes",
        text("human", "en"),
        text("helpful", "en"),
        text("not_helpful", "en"),
    ]
    [message] = slack.bot.received
    assert message.conversation.conversation_id == f"C0GENERAL:{delivery.ts}"
    assert message.user_id == "U1001" and message.message_id == delivery.ts


async def test_follow_up_in_the_thread_is_the_same_conversation(slack: Harness) -> None:
    user = slack.fake.user("U1002")
    first = await user.mentions("C0GENERAL", "what is the return window?")
    await slack.fake.wait_for_messages("C0GENERAL", 1)
    await user.mentions("C0GENERAL", "and for sale items?", thread_ts=first.ts)
    answers = await slack.fake.wait_for_messages("C0GENERAL", 2, thread_ts=first.ts)
    assert [a.body for a in answers] == ["echo: what is the return window?", "echo: and for sale items?"]
    assert slack.bot.received[0].conversation == slack.bot.received[1].conversation


async def test_dm_is_answered_in_the_dm(slack: Harness) -> None:
    user = slack.fake.user("U1003")
    await user.says("你好，我的订单到哪了？")
    [answer] = await slack.fake.wait_for_messages(user.dm_channel, 1)
    assert answer.body == "echo: 你好，我的订单到哪了？" and answer.thread_ts is None
    assert slack.bot.received[0].conversation.conversation_id == user.dm_channel


async def test_channel_messages_without_a_mention_and_bot_messages_are_ignored(slack: Harness) -> None:
    user = slack.fake.user("U1004")
    assert (await user.says_in_channel("C0GENERAL", "chatting among ourselves")).status == 200
    own = user.message("my own echo", channel=user.dm_channel, channel_type="im")
    own.update(user=slack.fake.bot_user_id, bot_id=slack.fake.bot_id)
    assert (await slack.fake.post_event(own)).status == 200
    other = user.message("another bot", channel=user.dm_channel, channel_type="im")
    other.update(subtype="bot_message", bot_id="BOTHER")
    assert (await slack.fake.post_event(other)).status == 200
    await user.says("real question")
    await slack.fake.wait_for_messages(user.dm_channel, 1)
    await slack.fake.wait_quiet(0.1)
    assert [m.text for m in slack.bot.received] == ["real question"]


async def test_slash_command_is_acked_and_answered_privately(slack: Harness) -> None:
    delivery = await slack.fake.user("U1005").slash("how long does shipping take?", channel="C0STAFF")
    assert delivery.status == 200 and "how long does shipping take?" in delivery.body
    shown, answer = await slack.fake.wait_for_messages("C0STAFF", 2)
    assert shown.via == "ack" and shown.ephemeral_to == "U1005" and "how long does shipping take?" in shown.body
    assert answer.via == "response_url" and answer.ephemeral_to == "U1005"
    assert answer.body == "echo: how long does shipping take?"
    empty = await slack.fake.user("U1005").slash("  ", channel="C0STAFF")
    assert "/kefu" in empty.body and len(slack.bot.received) == 1


async def test_a_private_answer_after_its_response_url_expired_goes_ephemeral_or_to_the_dm(slack: Harness) -> None:
    user = slack.fake.user("U1015")
    slack.fake.fail_next("chat.postEphemeral", status=200, error="not_in_channel")
    await user.slash("slow first", channel="C0PRIVATE")
    await user.slash("slow second", channel="C0PRIVATE")
    for url in slack.fake.response_urls.values():
        url["uses"] = 5  # Slack honours a response_url 5 times within 30 minutes
    slack.bot.hold.set()

    def answers() -> list[SentMessage]:  # the acks echo the questions to the user alone
        return [m for m in slack.fake.messages if m.via != "ack"]

    await slack.fake.wait_until(lambda: len(answers()) == 2)
    [dm, ephemeral] = answers()
    assert (dm.channel, dm.ephemeral_to, dm.body) == ("U1015", None, "echo: slow first"), "not in the channel"
    assert (ephemeral.via, ephemeral.ephemeral_to, ephemeral.body) == (
        "chat.postEphemeral",
        "U1015",
        "echo: slow second",
    )


async def test_url_verification_echoes_the_challenge(slack: Harness) -> None:
    delivery = await slack.fake.url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
    assert delivery.status == 200
    assert delivery.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


async def test_forged_missing_and_stale_signatures_get_401(slack: Harness) -> None:
    user = slack.fake.user("U1006")
    assert (await user.says("forged", secret="not-the-secret")).status == 401
    assert (await user.says("unsigned", secret=None)).status == 401
    assert (await user.says("stale", timestamp=time.time() - 6 * 60)).status == 401
    assert (await slack.fake.url_verification(secret="guess")).status == 401
    assert (await user.slash("forged", secret="guess")).status == 401
    assert slack.bot.received == []
    assert (await user.says("signed", timestamp=time.time() - 4 * 60)).status == 200, "within 5 minutes is fine"
    await slack.fake.wait_for_messages(user.dm_channel, 1)


async def test_retried_delivery_is_answered_once(slack: Harness) -> None:
    user = slack.fake.user("U1007")
    event = user.message("only once please", channel=user.dm_channel, channel_type="im")
    first = await slack.fake.post_event(event, event_id="Ev0RETRY")
    again = await slack.fake.post_event(event, event_id="Ev0RETRY", retry_num=1)
    as_new = await slack.fake.post_event(event, event_id="Ev0OTHER", retry_num=2)
    assert (first.status, again.status, as_new.status) == (200, 200, 200)
    await user.says("next")
    await slack.fake.wait_for_messages(user.dm_channel, 2)
    await slack.fake.wait_quiet(0.2)
    assert [m.body for m in slack.fake.messages_in(user.dm_channel)] == ["echo: only once please", "echo: next"]


async def test_a_slow_pipeline_does_not_hold_the_ack(slack: Harness) -> None:
    user = slack.fake.user("U1008")
    delivery = await user.says("slow question")
    assert delivery.status == 200
    assert slack.fake.messages_in(user.dm_channel) == [], "acknowledged while the turn is still running"
    slack.bot.hold.set()
    [answer] = await slack.fake.wait_for_messages(user.dm_channel, 1)
    assert answer.body == "echo: slow question"


@pytest.mark.slow
async def test_a_five_second_pipeline_is_acked_within_slacks_three_seconds(slack: Harness) -> None:
    user = slack.fake.user("U1014")
    delivery = await user.says("five seconds of thinking")
    assert delivery.status == 200 and delivery.elapsed_s < 3.0, f"acked after {delivery.elapsed_s:.2f} s"
    [answer] = await slack.fake.wait_for_messages(user.dm_channel, 1, timeout=15)
    assert answer.body == "echo: five seconds of thinking"
    assert [d.status for d in slack.fake.deliveries] == [200], "no retry was needed"


async def test_429_retry_after_is_honoured(slack: Harness) -> None:
    slack.fake.fail_next("chat.postMessage", status=429, retry_after=1)
    user = slack.fake.user("U1009")
    await user.says("one")
    await user.says("two")
    answers = await slack.fake.wait_for_messages(user.dm_channel, 2, timeout=10)
    assert [a.body for a in answers] == ["echo: one", "echo: two"]
    calls = slack.fake.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [429, 200, 200]
    assert calls[1].at - calls[0].at >= 0.95, "Retry-After was not honoured"
    assert slack.adapter.web is not None and slack.adapter.web.rate_limited == 1


async def test_audio_clip_and_image_are_downloaded_with_the_bot_token(slack: Harness) -> None:
    clip = b"\x1aE\xdf\xa3" + bytes(range(256)) * 300
    image = b"\x89PNG\r\n\x1a\n" + b"i" * 5000
    audio = slack.fake.add_file(clip, name="audio_message.webm", mimetype="audio/webm", subtype="slack_audio")
    photo = slack.fake.add_file(image, name="label.png", mimetype="image/png")
    user = slack.fake.user("U1010")
    await user.says("", files=[audio])
    await user.mentions("C0GENERAL", "is this the right label?", files=[photo])
    [voice] = await slack.fake.wait_for_messages(user.dm_channel, 1)
    [described] = await slack.fake.wait_for_messages("C0GENERAL", 1)
    assert voice.body == f"voice {len(clip)} bytes audio/webm"
    assert described.body == f"echo: is this the right label?; photo {len(image)} bytes image/png"
    assert slack.bot.fetched == [[clip], [image]] or slack.bot.fetched == [[image], [clip]]
    assert slack.bot.received[0].attachments[0].locator == audio["id"]
    assert await slack.adapter.fetch(audio["id"]) == clip, "fetched again by id, as after a restart"


async def test_other_files_get_a_polite_answer(slack: Harness) -> None:
    pdf = slack.fake.add_file(b"%PDF-1.7", name="invoice.pdf", mimetype="application/pdf")
    user = slack.fake.user("U1011")
    await user.says("", files=[pdf])
    [answer] = await slack.fake.wait_for_messages(user.dm_channel, 1)
    assert answer.body == text("unsupported", "en") and answer.buttons == []
    assert slack.bot.received[0].text == "[file invoice.pdf]"


async def test_quick_reply_and_feedback_buttons(slack: Harness) -> None:
    user = slack.fake.user("U1012")
    await user.says("hi")
    [answer] = await slack.fake.wait_for_messages(user.dm_channel, 1)
    assert (await user.presses(answer, "Yes")).status == 200
    await slack.fake.wait_for_messages(user.dm_channel, 2)
    assert slack.bot.received[1].payload == "yes" and slack.bot.received[1].text == "Yes"
    await user.presses(answer, text("human", "en"))
    await slack.fake.wait_for_messages(user.dm_channel, 3)
    assert slack.bot.received[2].payload == HUMAN_PAYLOAD
    await user.presses(answer, text("not_helpful", "en"))
    await slack.fake.wait_until(lambda: bool(slack.feedback))
    [feedback] = slack.feedback
    assert feedback.helpful is False and feedback.message_id == answer.ts and feedback.user_id == "U1012"
    assert feedback.conversation.conversation_id == user.dm_channel
    await slack.fake.wait_until(lambda: any(m.via == "response_url" for m in slack.fake.messages))
    thanks = [m for m in slack.fake.messages if m.via == "response_url"]
    assert [m.body for m in thanks] == [text("thanks", "en")] and thanks[0].ephemeral_to == "U1012"
    assert len(slack.bot.received) == 3


async def test_long_reply_is_split_within_slacks_limits(slack: Harness) -> None:
    user = slack.fake.user("U1013")
    long_question = " ".join(f"Sentence {n:05d} of a long question." for n in range(800))
    await user.says(long_question)
    await slack.fake.wait_until(lambda: len(slack.fake.messages_in(user.dm_channel)) >= 3)
    await slack.fake.wait_quiet(0.1)
    parts = slack.fake.messages_in(user.dm_channel)
    assert " ".join(p.body for p in parts).replace("\n", " ").split() == f"echo: {long_question}".split()
    assert all(p.buttons == [] for p in parts[:-1]) and parts[-1].buttons
    assert all(c.status == 200 and c.error is None for c in slack.fake.calls_to("chat.postMessage"))
