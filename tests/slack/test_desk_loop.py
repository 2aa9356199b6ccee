"""The full loop on the real bot (`kefu run`'s app on the demo store, Whisper on CPU) with both fakes: a Telegram
shopper asks for a person, an operator works the ticket in Slack, and the bot answers again after it."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from adapters.testing.slack import FakeSlack, SentMessage
from adapters.testing.telegram import FakeTelegram
from bot.app import Components, Kefu, build_transcriber
from bot.config import Settings, SlackSettings, TelegramSettings
from tests.conftest import spoken_wav

pytestmark = pytest.mark.slow

HANDOFF, ANA, EVE, CHAT = "C0HANDOFF", "U0ANA", "U0EVE", 7001


@pytest.fixture(params=["sqlite", "redis"])
async def running_bot(
    request: pytest.FixtureRequest,
    demo_settings: Settings,
    demo_components: Components,
    fake_slack: FakeSlack,
    fake_telegram: FakeTelegram,
    tmp_path: Path,
) -> AsyncIterator[Kefu]:
    """The app `kefu run` starts with Telegram and Slack pointing at the fakes and the desk in #handoff, on an
    SQLite or a Redis store."""
    url = (
        request.getfixturevalue("redis_url") if request.param == "redis" else f"sqlite:///{tmp_path / 'store.sqlite3'}"
    )
    slack = SlackSettings(
        bot_token=SecretStr(fake_slack.bot_token),
        api_base=fake_slack.base_url,
        signing_secret=SecretStr(fake_slack.signing_secret),
        handoff_channel=HANDOFF,
        operators=[ANA],
    )
    telegram = TelegramSettings(token=SecretStr(fake_telegram.token), api_base=fake_telegram.base_url)
    settings = demo_settings.model_copy(
        update={
            "http": demo_settings.http.model_copy(update={"port": 0}),
            "slack": slack,
            "telegram": telegram,
            "store": demo_settings.store.model_copy(update={"url": url}),
        }
    )
    components = dataclasses.replace(demo_components, transcriber=build_transcriber(settings))
    bot = Kefu(settings, components, channels=["telegram", "slack"])
    await bot.start()
    assert bot.http is not None
    fake_slack.events_url = f"{bot.http.url}/slack/events"
    try:
        yield bot
    finally:
        await bot.stop()


@pytest.fixture
def spoken_question(tmp_path: Path) -> bytes:
    return spoken_wav("Can I return shoes I wore once?", tmp_path / "voice.wav").read_bytes()


def ticket_card(fake: FakeSlack) -> SentMessage:
    [card] = [m for m in fake.messages_in(HANDOFF) if m.thread_ts is None and m.ephemeral_to is None]
    return card


async def test_the_full_loop_from_telegram_to_the_slack_desk_and_back(
    running_bot: Kefu, fake_slack: FakeSlack, fake_telegram: FakeTelegram, spoken_question: bytes
) -> None:
    shopper = fake_telegram.user(CHAT)
    shopper.says("I want to talk to a human")
    [escalated] = await fake_telegram.wait_for_messages(CHAT, 1, timeout=60)
    assert "colleague" in escalated.text
    await fake_slack.wait_for_messages(HANDOFF, 1, timeout=30)
    card = ticket_card(fake_slack)
    assert "Channel:* telegram" in card.body and "talk to a human" in card.body

    await fake_slack.user(ANA).presses(card, "🙋 Take over")
    [_, joined] = await fake_telegram.wait_for_messages(CHAT, 2, timeout=30)
    assert joined.text == "A colleague has joined the conversation."
    assert "Taken" in card.context[-1]

    shopper.says("Are you there?")
    await fake_slack.wait_for_messages(HANDOFF, 1, thread_ts=card.ts, timeout=30)
    shopper.sends_voice(spoken_question, mime_type="audio/wav", duration=2)
    thread = await fake_slack.wait_for_messages(HANDOFF, 2, thread_ts=card.ts, timeout=180)
    shown = [m.body for m in thread if m.ephemeral_to is None]
    assert shown[0].endswith("Are you there?")
    assert "🎤" in shown[1] and "return" in shown[1].lower(), "the voice note as its transcript"
    assert len(fake_telegram.sent_to(CHAT)) == 2, "the bot is silent while Ana owns the conversation"

    await fake_slack.user(ANA).says_in_channel(HANDOFF, "Hi, Ana here. Let me check.", thread_ts=card.ts)
    [*_, relayed] = await fake_telegram.wait_for_messages(CHAT, 3, timeout=30)
    assert relayed.text == "Hi, Ana here. Let me check."

    await fake_slack.user(EVE).presses(card, "✅ Resolve")
    assert "Only kefu's operators" in [m for m in fake_slack.messages if m.ephemeral_to == EVE][-1].text
    assert "Taken" in card.context[-1]

    await fake_slack.wait_until(
        lambda: any(m.ephemeral_to == ANA and "return" in m.body.lower() for m in fake_slack.messages), timeout=120
    )
    suggestion = [m for m in fake_slack.messages if m.ephemeral_to == ANA and "return" in m.body.lower()][-1]
    assert suggestion.context[-1].startswith("Sources:"), "grounded in the knowledge base"
    await fake_slack.user(ANA).presses(suggestion, "📤 Send")
    [*_, sent] = await fake_telegram.wait_for_messages(CHAT, 4, timeout=30)
    assert sent.text.split() == suggestion.body.split()

    await fake_slack.user(ANA).presses(card, "✅ Resolve")
    [*_, closed] = await fake_telegram.wait_for_messages(CHAT, 5, timeout=30)
    assert closed.text.startswith("Your colleague has closed this conversation.")
    assert "Resolved" in card.context[-1] and card.buttons == []

    shopper.says("How long does shipping take?")
    [*_, answer] = await fake_telegram.wait_for_messages(CHAT, 6, timeout=60)
    assert "day" in answer.text.lower(), "the bot answers again"
    await fake_telegram.wait_quiet(0.5)
    assert len(fake_telegram.sent_to(CHAT)) == 6, "nothing sent twice"
