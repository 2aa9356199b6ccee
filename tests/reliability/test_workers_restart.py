"""Worker mode restarted whole during a human hand-off: every kefu process is killed with SIGKILL while the
shopper's messages wait on the stream; after the restart the hand-off, the history and those messages are intact,
and the operator's next reply reaches the shopper once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from adapters.testing.telegram import FakeTelegram
from bot.app import open_store
from bot.config import Settings
from bot.sessions.base import HandoffState
from bot.sessions.redis import RedisConnection
from tests.reliability.test_workers_chaos import Cluster

pytestmark = pytest.mark.slow

CHAT = 7001


async def stream_length(url: str) -> int:
    connection = await RedisConnection.open(url)
    try:
        return int(await connection.client.xlen(connection.key("stream", "in")))
    finally:
        await connection.close()


async def test_a_handoff_survives_killing_every_process_and_the_operator_reply_arrives_once(
    fake_telegram: FakeTelegram, demo_components: object, demo_settings: Settings, redis_url: str, tmp_path: Path
) -> None:
    settings = demo_settings.model_copy(update={"store": demo_settings.store.model_copy(update={"url": redis_url})})
    shopper = fake_telegram.user(CHAT, language_code="zh")
    cluster = Cluster(fake_telegram, demo_settings, redis_url, tmp_path)
    cluster.workers = cluster.workers[:2]
    db, store, desk = await open_store(settings)  # what `kefu handoff …` opens
    try:
        cluster.start()
        await cluster.wait(lambda: bool(fake_telegram.calls_to("getUpdates")), timeout=120, what="the front")
        shopper.says("我要找人工")
        await cluster.wait(lambda: len(fake_telegram.sent.get(CHAT, [])) >= 1, timeout=120, what="the escalation")
        shopper.says("可以用支付宝付款吗？")
        await cluster.wait(lambda: len(fake_telegram.sent.get(CHAT, [])) >= 2, timeout=60, what="a waiting answer")
        session = await store.load(f"telegram:{CHAT}")
        assert session.handoff is HandoffState.WAITING and session.ticket_id is not None
        ticket_id = session.ticket_id
        await desk.take(ticket_id, operator="wang")
        await fake_telegram.wait_quiet(2.0, timeout=30)
        before = [message.text for message in fake_telegram.sent.get(CHAT, [])]

        for worker in cluster.workers:
            worker.kill()
        shopper.says("还在吗？")
        shopper.says("订单 100258 到哪了")
        for _ in range(200):
            if await stream_length(redis_url) >= 2:
                break
            await asyncio.sleep(0.05)
        assert await stream_length(redis_url) == 2, "both messages wait on the stream"
        cluster.front.kill()

        cluster.start()
        await cluster.wait(lambda: bool(fake_telegram.calls_to("getUpdates")), timeout=120, what="the front again")
        for _ in range(1200):
            relayed = [message.text for message in await desk.messages(ticket_id)]
            if "订单 100258 到哪了" in relayed:
                break
            await asyncio.sleep(0.1)
        assert relayed[-2:] == ["还在吗？", "订单 100258 到哪了"], relayed
        assert any("我要找人工" in text for text in relayed), "the ticket kept the conversation before the crash"
        for _ in range(300):  # the ticket shows the message before the turn commits the session and the stream
            session = await store.load(f"telegram:{CHAT}")
            last = session.history[-1].text if session.history else ""
            if last == "订单 100258 到哪了" and not await stream_length(redis_url):
                break
            await asyncio.sleep(0.1)
        assert session.handoff is HandoffState.HUMAN and session.ticket_id == ticket_id
        assert [turn.text for turn in session.history][-2:] == ["还在吗？", "订单 100258 到哪了"]
        assert "我要找人工" in session.history[0].text, "the history from before the crash is kept"
        assert await stream_length(redis_url) == 0

        await desk.reply(ticket_id, "您好，我是客服小王，正在查。", operator="wang")
        await cluster.wait(
            lambda: any("客服小王" in m.text for m in fake_telegram.sent.get(CHAT, [])), timeout=60, what="the reply"
        )
        await fake_telegram.wait_quiet(3.0, timeout=30)
        after = [message.text for message in fake_telegram.sent.get(CHAT, [])]
        assert after == [*before, "您好，我是客服小王，正在查。"], (
            "no bot reply while the operator owns it; theirs once"
        )
        assert cluster.stop() == [0, 0, 0], cluster.logs()
    finally:
        cluster.kill_all()
        await db.close()
