"""The Slack hand-off channel in worker mode, in one process: ``KefuFront`` (Telegram and Slack on the fakes, the
Slack desk) and a ``KefuWorker`` (the demo store's models) over the private Redis server. A Telegram shopper asks
for a person, the ticket the worker opens appears in #handoff, what the shopper writes next shows in its thread, the
operator takes, replies and resolves from Slack, and the shopper gets each reply once; the front is restarted in the
middle and catches up without posting anything twice."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from adapters.testing.slack import FakeSlack, SentMessage
from adapters.testing.telegram import FakeTelegram
from bot.app import Components
from bot.app.roles import KefuFront, KefuWorker
from bot.config import Settings, SlackSettings, TelegramSettings

pytestmark = pytest.mark.slow

HANDOFF, ANA, CHAT = "C0HANDOFF", "U0ANA", 7201


@pytest.fixture
def settings(demo_settings: Settings, fake_slack: FakeSlack, fake_telegram: FakeTelegram, redis_url: str) -> Settings:
    """Worker mode on the private Redis, Telegram and Slack on the fakes, the desk in #handoff; the desk is followed
    every 0.2 s (2 s by default) to keep the test short."""
    slack = SlackSettings(
        bot_token=SecretStr(fake_slack.bot_token),
        api_base=fake_slack.base_url,
        signing_secret=SecretStr(fake_slack.signing_secret),
        handoff_channel=HANDOFF,
        operators=[ANA],
    )
    telegram = TelegramSettings(token=SecretStr(fake_telegram.token), api_base=fake_telegram.base_url)
    return demo_settings.model_copy(
        update={
            "http": demo_settings.http.model_copy(update={"port": 0}),
            "slack": slack,
            "telegram": telegram,
            "store": demo_settings.store.model_copy(update={"url": redis_url, "outbox_poll_s": 0.2}),
        }
    )


@pytest.fixture
async def worker(settings: Settings, demo_components: Components) -> AsyncIterator[KefuWorker]:
    running = KefuWorker(settings, demo_components, serve_http=False)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


async def start_front(settings: Settings, fake_slack: FakeSlack) -> KefuFront:
    """A front serving on a free port, the fake Slack's events pointed at it."""
    front = KefuFront(settings)
    await front.start()
    assert front.http is not None
    fake_slack.events_url = f"{front.http.url}/slack/events"
    return front


def ticket_card(fake: FakeSlack) -> SentMessage:
    [card] = [m for m in fake.messages_in(HANDOFF) if m.thread_ts is None and m.ephemeral_to is None]
    return card


def thread(fake: FakeSlack, card: SentMessage) -> list[str]:
    return [m.body for m in fake.messages_in(HANDOFF, thread_ts=card.ts) if m.ephemeral_to is None]


async def test_the_slack_desk_runs_on_the_front_over_the_workers_tickets(
    settings: Settings, worker: KefuWorker, fake_slack: FakeSlack, fake_telegram: FakeTelegram
) -> None:
    front = await start_front(settings, fake_slack)
    try:
        shopper = fake_telegram.user(CHAT)
        shopper.says("I want to talk to a human")
        [escalated] = await fake_telegram.wait_for_messages(CHAT, 1, timeout=60)
        assert "colleague" in escalated.text
        await fake_slack.wait_for_messages(HANDOFF, 1, timeout=30)
        card = ticket_card(fake_slack)
        assert "Channel:* telegram" in card.body and "talk to a human" in card.body

        shopper.says("How long does shipping take?")  # the ticket waits: the bot answers, the thread shows both
        await fake_telegram.wait_for_messages(CHAT, 2, timeout=60)
        shown = await fake_slack.wait_for_messages(HANDOFF, 2, thread_ts=card.ts, timeout=30)
        assert shown[0].body.endswith("How long does shipping take?") and "day" in shown[1].body.lower()

        await fake_slack.user(ANA).presses(card, "🙋 Take over")
        [*_, joined] = await fake_telegram.wait_for_messages(CHAT, 3, timeout=30)
        assert joined.text == "A colleague has joined the conversation."
        assert "Taken" in card.context[-1]
        assert not any(m.ephemeral_to == ANA for m in fake_slack.messages), "no agent assist on the front"
    finally:
        await front.stop()

    front = await start_front(settings, fake_slack)  # restarted mid-hand-off
    try:
        shopper.says("Are you there?")  # the worker relays it to the ticket: the bot stays silent
        thread_now = await fake_slack.wait_for_messages(HANDOFF, 3, thread_ts=card.ts, timeout=30)
        assert thread_now[-1].body.endswith("Are you there?")

        await fake_slack.user(ANA).says_in_channel(HANDOFF, "Hi, Ana here. Let me check.", thread_ts=card.ts)
        [*_, relayed] = await fake_telegram.wait_for_messages(CHAT, 4, timeout=30)
        assert relayed.text == "Hi, Ana here. Let me check."

        await fake_slack.user(ANA).presses(card, "✅ Resolve")
        [*_, closed] = await fake_telegram.wait_for_messages(CHAT, 5, timeout=30)
        assert closed.text.startswith("Your colleague has closed this conversation.")
        assert "Resolved" in card.context[-1] and card.buttons == []

        await fake_telegram.wait_quiet(1.0)
        await fake_slack.wait_quiet(1.0)
        assert len(fake_telegram.sent_to(CHAT)) == 5, "every reply reached the shopper once"
        assert len(thread(fake_slack, card)) == 3, "the restarted front posted nothing twice"
        assert ticket_card(fake_slack) is card and card.edits == 2, "one ticket message, updated for take and resolve"
    finally:
        await front.stop()
