"""The full loop again with `kefu run` in a real process, SIGKILLed between "Take over" and the operator's reply:
nothing lost (the shopper's voice note sent while kefu was down reaches the thread as its transcript, the ticket
message is still updated in place, thread replies still find their ticket), nothing sent twice."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from adapters.testing.slack import FakeSlack, SentMessage
from adapters.testing.telegram import FakeTelegram
from bot.config import Settings
from tests.conftest import spoken_wav
from tests.reliability.processes import KefuProcess, wait_for

pytestmark = pytest.mark.slow

HANDOFF, ANA, EVE, CHAT = "C0HANDOFF", "U0ANA", "U0EVE", 7101
_RUNNING = re.compile(r"is running: (http://\S+)")


async def started(kefu: KefuProcess, fake_slack: FakeSlack, fake_telegram: FakeTelegram) -> None:
    """Start ``kefu run``; once it serves, point the fake Slack at its ``/slack/events``."""
    polls = len(fake_telegram.calls_to("getUpdates"))
    kefu.start()
    marker = f"===== start {kefu.starts} ====="

    def url() -> str | None:
        found = _RUNNING.findall(kefu.output().rpartition(marker)[2])
        return found[-1] if found else None

    await wait_for(
        lambda: url() is not None and len(fake_telegram.calls_to("getUpdates")) > polls,
        kefu,
        timeout=180,
        what="kefu serving",
    )
    fake_slack.events_url = f"{url()}/slack/events"


def public(fake: FakeSlack, *, thread_ts: str | None = None) -> list[SentMessage]:
    return [m for m in fake.messages_in(HANDOFF, thread_ts=thread_ts) if m.ephemeral_to is None]


@pytest.fixture
def spoken_question(tmp_path: Path) -> bytes:
    return spoken_wav("Can I return shoes I wore once?", tmp_path / "voice.wav").read_bytes()


async def test_a_restart_between_take_over_and_the_reply_loses_nothing_and_repeats_nothing(
    fake_slack: FakeSlack,
    fake_telegram: FakeTelegram,
    demo_components: object,
    demo_settings: Settings,
    tmp_path: Path,
    spoken_question: bytes,
) -> None:
    kefu = KefuProcess(
        demo_settings,
        tmp_path / "store.sqlite3",
        tmp_path / "kefu.log",
        KEFU_HTTP__PORT="0",
        KEFU_TELEGRAM__TOKEN=fake_telegram.token,
        KEFU_TELEGRAM__API_BASE=fake_telegram.base_url,
        KEFU_SLACK__BOT_TOKEN=fake_slack.bot_token,
        KEFU_SLACK__API_BASE=fake_slack.base_url,
        KEFU_SLACK__SIGNING_SECRET=fake_slack.signing_secret,
        KEFU_SLACK__HANDOFF_CHANNEL=HANDOFF,
        KEFU_SLACK__OPERATORS=f"{ANA}, S0NOBODY",
    )
    fake_slack.usergroups["S0NOBODY"] = []
    shopper = fake_telegram.user(CHAT)
    try:
        await started(kefu, fake_slack, fake_telegram)
        shopper.says("I want to talk to a human")
        await fake_telegram.wait_for_messages(CHAT, 1, timeout=60)
        await fake_slack.wait_for_messages(HANDOFF, 1, timeout=30)
        [card] = public(fake_slack)
        await fake_slack.user(ANA).presses(card, "🙋 Take over")
        await fake_telegram.wait_for_messages(CHAT, 2, timeout=30)
        shopper.says("Are you there?")
        await fake_slack.wait_for_messages(HANDOFF, 1, thread_ts=card.ts, timeout=60)
        kefu.kill()

        shopper.sends_voice(spoken_question, mime_type="audio/wav", duration=2)  # while kefu is down
        await started(kefu, fake_slack, fake_telegram)
        await wait_for(
            lambda: len(public(fake_slack, thread_ts=card.ts)) >= 2,
            kefu,
            timeout=240,
            what="the voice note in the thread",
        )
        reply = await fake_slack.user(ANA).says_in_channel(HANDOFF, "Hi, Ana here. Let me check.", thread_ts=card.ts)
        await fake_telegram.wait_for_messages(CHAT, 3, timeout=30)
        event = fake_slack.history[-1]
        assert event["ts"] == reply.ts
        again = await fake_slack.post_event(dict(event, event_ts=event["ts"]), event_id=reply.event_id, retry_num=1)
        assert again.status == 200

        await fake_slack.user(EVE).presses(card, "✅ Resolve")
        await wait_for(
            lambda: any(m.ephemeral_to == ANA and m.buttons for m in fake_slack.messages),
            kefu,
            timeout=120,
            what="a suggested reply",
        )
        [suggestion] = [m for m in fake_slack.messages if m.ephemeral_to == ANA and m.buttons]
        await fake_slack.user(ANA).presses(suggestion, "📤 Send")
        await fake_slack.user(ANA).presses(card, "✅ Resolve")
        shopper.says("How long does shipping take?")
        await fake_telegram.wait_for_messages(CHAT, 6, timeout=60)
        await fake_telegram.wait_quiet(1.0, timeout=60)
        await fake_slack.wait_quiet(1.0, timeout=60)
        assert kefu.terminate() == 0, kefu.output()[-3000:]
    finally:
        if kefu.alive():
            kefu.kill()

    texts = [m.text for m in fake_telegram.sent_to(CHAT)]
    assert texts[1:5] == [
        "A colleague has joined the conversation.",
        "Hi, Ana here. Let me check.",
        texts[3],
        texts[4],
    ], texts
    assert texts[3].split() == suggestion.body.split()
    assert texts[4].startswith("Your colleague has closed this conversation.")
    assert len(texts) == 6 and "day" in texts[5].lower(), texts
    assert [m.ts for m in public(fake_slack) if m.thread_ts is None] == [card.ts], "one ticket message, updated"
    assert "Resolved" in card.context[-1] and card.edits == 2, "taken, resolved: no repeated update after the restart"
    thread = [m.body for m in public(fake_slack, thread_ts=card.ts)]
    assert thread[0].endswith("Are you there?") and "🎤" in thread[1] and "return" in thread[1].lower(), thread
    assert not [line for line, n in Counter(thread).items() if n > 1], f"a line posted twice: {thread}"
    assert "Only kefu's operators" in [m for m in fake_slack.messages if m.ephemeral_to == EVE][-1].text
