"""Contract: follow-ups without a mention in channel threads the bot takes part in, with the real slack-bolt app
against the fake Slack; other threads' chatter is left alone."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import pytest

from adapters.slack.threads import JoinedThreads
from adapters.testing.slack import SentMessage
from tests.slack.conftest import Harness


async def test_a_follow_up_without_a_mention_is_answered_in_the_thread_as_the_same_conversation(
    slack: Harness,
) -> None:
    user = slack.fake.user("U2001")
    first = await user.mentions("C0GENERAL", "what is the return window?")
    await slack.fake.wait_for_messages("C0GENERAL", 1, thread_ts=first.ts)
    follow_up = await user.says_in_channel("C0GENERAL", "and for sale items?", thread_ts=first.ts)
    assert follow_up.status == 200
    answers = await slack.fake.wait_for_messages("C0GENERAL", 2, thread_ts=first.ts)
    assert [a.body for a in answers] == ["echo: what is the return window?", "echo: and for sale items?"]
    assert slack.bot.received[0].conversation == slack.bot.received[1].conversation
    assert slack.fake.calls_to("conversations.replies") == [], "a thread the bot joined needs no look-up"


async def test_a_colleague_joining_the_thread_is_answered_too(slack: Harness) -> None:
    first = await slack.fake.user("U2002").mentions("C0GENERAL", "who approves refunds?")
    await slack.fake.wait_for_messages("C0GENERAL", 1, thread_ts=first.ts)
    await slack.fake.user("U2003").says_in_channel("C0GENERAL", "and over 500 euros?", thread_ts=first.ts)
    await slack.fake.wait_for_messages("C0GENERAL", 2, thread_ts=first.ts)
    assert [m.user_id for m in slack.bot.received] == ["U2002", "U2003"]


async def test_threads_the_bot_is_not_part_of_are_ignored_with_one_look_up(slack: Harness) -> None:
    user = slack.fake.user("U2004")
    root = await user.says_in_channel("C0GENERAL", "lunch?")
    for said in ("pizza", "sushi", "both"):
        assert (await user.says_in_channel("C0GENERAL", said, thread_ts=root.ts)).status == 200
    await slack.fake.wait_quiet(0.1)
    assert slack.bot.received == [] and slack.fake.messages == []
    assert len(slack.fake.calls_to("conversations.replies")) == 1, "the answer is remembered per thread"


async def test_a_mention_in_a_thread_the_bot_ignored_so_far_joins_it(slack: Harness) -> None:
    user = slack.fake.user("U2005")
    root = await user.says_in_channel("C0GENERAL", "the printer is broken again")
    await user.says_in_channel("C0GENERAL", "which one?", thread_ts=root.ts)
    await user.mentions("C0GENERAL", "how do I report broken equipment?", thread_ts=root.ts)
    await slack.fake.wait_for_messages("C0GENERAL", 1, thread_ts=root.ts)
    await user.says_in_channel("C0GENERAL", "and who pays for it?", thread_ts=root.ts)
    answers = await slack.fake.wait_for_messages("C0GENERAL", 2, thread_ts=root.ts)
    assert [a.body for a in answers] == ["echo: how do I report broken equipment?", "echo: and who pays for it?"]


async def test_the_message_event_of_a_mention_is_not_answered_twice(slack: Harness) -> None:
    """Slack sends both ``app_mention`` and ``message.channels`` for a mention in a thread the bot is in."""
    user = slack.fake.user("U2006")
    first = await user.mentions("C0GENERAL", "first question")
    await slack.fake.wait_for_messages("C0GENERAL", 1, thread_ts=first.ts)
    mention = user.message(
        "second question", channel="C0GENERAL", channel_type="channel", thread_ts=first.ts, mention=True
    )
    assert (await slack.fake.post_event(mention)).status == 200
    as_mention = dict(mention, type="app_mention")
    as_mention.pop("channel_type")
    assert (await slack.fake.post_event(as_mention)).status == 200
    await slack.fake.wait_for_messages("C0GENERAL", 2, thread_ts=first.ts)
    await slack.fake.wait_quiet(0.1)
    assert [m.text for m in slack.bot.received] == ["first question", "second question"]


async def test_a_thread_the_bot_answered_before_a_restart_is_found_in_slack(slack: Harness) -> None:
    user = slack.fake.user("U2007")
    root = await user.says_in_channel("C0GENERAL", "kefu, what is the warranty?")
    slack.fake.record_message(SentMessage("C0GENERAL", slack.fake.next_ts(), "Two years.", [], thread_ts=root.ts))
    await user.says_in_channel("C0GENERAL", "and for refurbished items?", thread_ts=root.ts)
    await slack.fake.wait_for_messages("C0GENERAL", 2, thread_ts=root.ts)
    assert slack.bot.received[0].conversation.conversation_id == f"C0GENERAL:{root.ts}"
    [lookup] = slack.fake.calls_to("conversations.replies")
    assert lookup.params["ts"] == root.ts


async def test_a_thread_that_cannot_be_read_is_not_answered_and_logged(
    slack: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    user = slack.fake.user("U2008")
    root = await user.says_in_channel("C0PRIVATE", "secret plans")
    slack.fake.fail_next("conversations.replies", status=200, error="missing_scope")
    with caplog.at_level(logging.WARNING, logger="adapters.slack.threads"):
        delivery = await user.says_in_channel("C0PRIVATE", "more plans", thread_ts=root.ts)
    assert delivery.status == 200, "acknowledged, so Slack does not retry it"
    await slack.fake.wait_quiet(0.1)
    assert slack.bot.received == []
    assert "could not read thread" in caplog.text


async def test_edits_and_bot_replies_in_a_joined_thread_are_ignored(slack: Harness) -> None:
    user = slack.fake.user("U2009")
    first = await user.mentions("C0GENERAL", "question")
    await slack.fake.wait_for_messages("C0GENERAL", 1, thread_ts=first.ts)
    edit = user.message("edited", channel="C0GENERAL", channel_type="channel", thread_ts=first.ts)
    edit["subtype"] = "message_changed"
    other_bot = user.message("a bot's note", channel="C0GENERAL", channel_type="channel", thread_ts=first.ts)
    other_bot.update(subtype="bot_message", bot_id="BOTHER")
    for event in (edit, other_bot):
        assert (await slack.fake.post_event(event)).status == 200
    await slack.fake.wait_quiet(0.1)
    assert [m.text for m in slack.bot.received] == ["question"]


async def test_a_slow_look_up_gives_up_in_time_and_is_tried_again(caplog: pytest.LogCaptureFixture) -> None:
    """The look-up runs before the ack: one Slack does not answer in time leaves the message unanswered."""
    calls: list[Mapping[str, str]] = []
    release = asyncio.Event()

    async def replies(query: Mapping[str, str]) -> dict[str, Any]:
        calls.append(query)
        if len(calls) == 1:
            await release.wait()
        return {"messages": [{"user": "UBOT", "text": "an answer", "ts": "2.0"}]}

    joined = JoinedThreads(bot_user_id="UBOT", bot_id="BBOT", replies=replies, timeout_s=0.05)
    with caplog.at_level(logging.WARNING, logger="adapters.slack.threads"):
        assert await joined.includes_bot("C1", "1.0") is False
    assert "could not read thread 1.0" in caplog.text
    assert await joined.includes_bot("C1", "1.0") is True, "not remembered as foreign: asked again"
    assert await joined.includes_bot("C1", "1.0") is True and len(calls) == 2
