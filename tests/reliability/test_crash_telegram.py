"""Fault suite: SIGKILL ``kefu run`` at random points while 20 Telegram chats send 300 messages, three times.

Message ids collide across chats as Telegram's do. After the last restart every message must have exactly one
answer, in its chat's order, and the same answers as a run that was never killed (answers depend only on the
message and the conversation so far, batching off). The one crash point that may duplicate (after Telegram
accepted a reply, before the outbox recorded it: Telegram has no idempotency key) is counted and bounded.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from adapters.testing.telegram import FakeTelegram
from bot.config import Settings
from tests.reliability.processes import KefuProcess, script, wait_for

pytestmark = pytest.mark.slow

CHATS = range(5001, 5021)
PER_CHAT = 15


def sent_texts(fake: FakeTelegram) -> dict[int, list[str]]:
    return {chat: [m.text for m in fake.sent.get(chat, [])] for chat in CHATS}


def total(fake: FakeTelegram) -> int:
    return sum(len(fake.sent.get(chat, [])) for chat in CHATS)


async def converse(
    fake: FakeTelegram, settings: Settings, tmp_path: Path, *, kills: int, seed: int, store: str | None = None
) -> KefuProcess:
    """Run the 300 messages through ``kefu run``, killed ``kills`` times at random points; returns the process.
    ``store``: a store URL (Redis); default a fresh SQLite file."""
    rng = random.Random(seed)
    for chat in CHATS:
        fake._message_ids[chat] = 9000
    users = {chat: fake.user(chat, language_code=None) for chat in CHATS}
    scripts = {chat: script(chat, PER_CHAT) for chat in CHATS}
    queue = [(chat, n) for n in range(PER_CHAT) for chat in CHATS]
    for chat, n in queue[:100]:
        users[chat].says(scripts[chat][n])
    later = queue[100:]

    async def keep_writing() -> None:
        for chat, n in later:
            users[chat].says(scripts[chat][n])
            await asyncio.sleep(rng.uniform(0.0, 0.06))

    kefu = KefuProcess(
        settings,
        store or tmp_path / f"store-{kills}.sqlite3",
        tmp_path / f"kefu-{kills}.log",
        KEFU_TELEGRAM__TOKEN=fake.token,
        KEFU_TELEGRAM__API_BASE=fake.base_url,
        KEFU_HTTP__PORT="0",
    )
    writer: asyncio.Task[None] | None = None
    try:
        for _ in range(kills):
            polls = len(fake.calls_to("getUpdates"))
            kefu.start()
            await wait_for(
                lambda polls=polls: len(fake.calls_to("getUpdates")) > polls, kefu, timeout=120, what="polling"
            )
            writer = writer or asyncio.create_task(keep_writing())
            target = total(fake) + rng.randint(5, 60)
            await wait_for(lambda target=target: total(fake) >= target, kefu, timeout=120, what=f"{target} replies")
            await asyncio.sleep(rng.uniform(0.0, 0.4))
            kefu.kill()
        kefu.start()
        writer = writer or asyncio.create_task(keep_writing())
        await writer
        await wait_for(
            lambda: all(len(v) >= PER_CHAT for v in sent_texts(fake).values()),
            kefu,
            timeout=300,
            what="every chat's answers",
        )
        await fake.wait_quiet(2.0, timeout=120)
        assert kefu.terminate() == 0, kefu.output()[-3000:]
    finally:
        if writer is not None:
            writer.cancel()
        if kefu.alive():
            kefu.kill()
    return kefu


def duplicates_of_one_reply(expected: list[str], got: list[str]) -> int:
    """How many answers in ``got`` repeat the answer just before them beyond ``expected`` (the documented crash
    point: Telegram took the reply, the outbox had not recorded it); fails on any other difference (a lost,
    extra or reordered answer)."""
    repeats, position = 0, 0
    for text in got:
        if position < len(expected) and text == expected[position]:
            position += 1
        elif position > 0 and text == expected[position - 1]:
            repeats += 1
        else:
            raise AssertionError(f"answer {text!r} out of place; expected {expected[position : position + 1]}")
    assert position == len(expected), f"missing answers: {expected[position:]}"
    return repeats


@pytest.mark.parametrize("store", ["sqlite", "redis"])
async def test_every_telegram_message_is_answered_once_in_order_through_three_kills(
    fake_telegram: FakeTelegram,
    demo_components: object,
    demo_settings: Settings,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
    store: str,
) -> None:
    """On the embedded SQLite file, and on the Redis store (the bot then keeps nothing on its own disk)."""
    url = request.getfixturevalue("redis_url") if store == "redis" else None
    async with FakeTelegram() as control_fake:
        await converse(control_fake, demo_settings, tmp_path_factory.mktemp("control"), kills=0, seed=1)
        expected = sent_texts(control_fake)
    assert all(len(texts) == PER_CHAT for texts in expected.values()), expected

    killed = await converse(fake_telegram, demo_settings, tmp_path, kills=3, seed=2026, store=url)
    got = sent_texts(fake_telegram)
    repeats = {chat: duplicates_of_one_reply(expected[chat], got[chat]) for chat in CHATS}
    print(f"crash suite: 300 messages, 3 kills, {sum(repeats.values())} replies repeated at a kill")
    assert max(repeats.values()) <= 3, f"a chat got more than one repeated reply per kill: {repeats}"
    assert "resumed" in killed.output() or "duplicate" in killed.output()
