"""Defect 1 end to end: the real aiogram adapter, the fake Bot API, the durable runtime; ids collide across chats."""

from __future__ import annotations

from pathlib import Path

from adapters.telegram import RateLimiter, TelegramAdapter
from adapters.testing.telegram import FakeTelegram
from bot.inbox.sqlite import SqliteInbox
from bot.messages import Message, Reply
from bot.outbound import Channels
from bot.runtime import Runtime
from bot.sessions.sqlite import Database


async def test_200_updates_from_20_chats_with_the_same_message_ids_get_200_answers(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    async def echo(message: Message) -> Reply:
        return Reply(text=f"re {message.text}")

    db = await Database.open(tmp_path / "store.sqlite3")
    inbox = SqliteInbox(db)
    await inbox.setup()
    adapter = TelegramAdapter(
        token=fake_telegram.token,
        api_base=fake_telegram.base_url,
        polling_timeout_s=1,
        rate_limiter=RateLimiter(per_chat_interval_s=0.0, global_per_second=10_000),
    )
    chats = range(1001, 1021)
    for chat in chats:
        fake_telegram._message_ids[chat] = 9000  # every chat numbers its messages 9001, 9002, … like Telegram
    users = [fake_telegram.user(chat) for chat in chats]
    for n in range(10):
        for user in users:
            update = user.says(f"{user.chat_id}-{n}")
            assert update["message"]["message_id"] == 9001 + n
    channels = Channels()
    channels.add(adapter, live=False)
    runtime = Runtime(echo, outbound=channels, inbox=inbox)
    await adapter.start(runtime.dispatch)
    channels.go_live(adapter.name)
    try:
        await fake_telegram.wait_until(lambda: sum(len(v) for v in fake_telegram.sent.values()) >= 200, timeout=60)
        await runtime.join()
    finally:
        await adapter.stop()
        await runtime.stop()
        await db.close()
    for chat in chats:
        assert [m.text for m in fake_telegram.sent[chat]] == [f"re {chat}-{n}" for n in range(10)]
