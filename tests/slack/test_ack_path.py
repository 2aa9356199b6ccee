"""What the ack path does not do: slack-bolt asks nothing of Slack per request (kefu's start-up ``auth.test`` is
reused, not called again by every request in flight before the first answer)."""

from __future__ import annotations

import asyncio

from tests.slack.conftest import Harness


async def test_a_burst_of_events_costs_no_auth_test_calls(slack: Harness) -> None:
    assert len(slack.fake.calls_to("auth.test")) == 1, "start-up's"
    users = [slack.fake.user(f"U3{n:03d}") for n in range(30)]
    deliveries = await asyncio.gather(*(user.says(f"question {n}") for n, user in enumerate(users)))
    assert [d.status for d in deliveries] == [200] * 30
    await slack.fake.wait_until(lambda: len(slack.fake.calls_to("chat.postMessage")) == 30)
    assert len(slack.fake.calls_to("auth.test")) == 1, "none per request"


async def test_the_bots_own_messages_are_still_recognised(slack: Harness) -> None:
    """bolt's self-event filter works from the authorization kefu hands it."""
    user = slack.fake.user("U3100")
    own = user.message("an answer of mine", channel=user.dm_channel, channel_type="im")
    own["user"] = slack.fake.bot_user_id  # no bot_id: only bolt's filter, by the bot's user id, catches it
    assert (await slack.fake.post_event(own)).status == 200
    await user.says("a real question")
    await slack.fake.wait_for_messages(user.dm_channel, 1)
    await slack.fake.wait_quiet(0.1)
    assert [m.text for m in slack.bot.received] == ["a real question"]
