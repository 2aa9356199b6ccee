"""Several fronts on one Redis database: each reply is sent once, in its chat's order, by one front at a time.

Every front has its own Redis connection, courier and outbound, as separate processes would; they share one
platform, which records each chat's replies and notices two sends to one chat at the same time. A front "dies" by
losing its tasks and its connection with no clean-up, so its delivery leases run out on their own.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from adapters.testing.telegram import FakeTelegram
from adapters.web import WebChatAdapter
from adapters.web.testing import ChatClient, serve
from bot.app.roles import POLLING_TAKEN, KefuFront
from bot.config import load_settings
from bot.delivery import Courier
from bot.inbox.stream import StreamInbox
from bot.messages import ConversationRef, Reply
from bot.outbound import Channels
from bot.sessions.redis import RedisConnection
from bot.workers import Front, Leases
from tests.conftest import wait_until
from tests.core.test_runtime import RecordingSink, outbound_to
from tests.workers.test_stream_workers import assert_each_answered_once_in_order, cluster, message


class Platform(RecordingSink):
    """The one chat platform every front sends to; ``overlaps`` counts a chat sent to by two sends at once."""

    def __init__(self) -> None:
        super().__init__()
        self.in_flight: set[str] = set()
        self.overlaps = 0

    def total(self) -> int:
        return sum(len(texts) for texts in self.sent.values())


class Link:
    """One front's client of the platform; a ``hung`` link finishes no send until ``unhang`` (a call that hangs)."""

    def __init__(self, platform: Platform, *, hung: bool = False) -> None:
        self.platform = platform
        self.started = asyncio.Event()
        self._going = asyncio.Event()
        if not hung:
            self._going.set()
        self.sent = 0

    def unhang(self) -> None:
        self._going.set()

    async def send(self, conversation: ConversationRef, reply: Reply) -> None:
        self.started.set()
        await self._going.wait()
        chat = conversation.conversation_id
        if chat in self.platform.in_flight:
            self.platform.overlaps += 1
        self.platform.in_flight.add(chat)
        try:
            await asyncio.sleep(random.uniform(0.0, 0.003))
        finally:
            self.platform.in_flight.discard(chat)
        self.sent += 1
        await self.platform.send(conversation, reply)

    async def working(self, conversation: ConversationRef) -> None:
        """Typing is not shown in worker mode."""


@dataclass
class Running:
    front: Front
    connection: RedisConnection

    async def kill(self) -> None:
        """Like SIGKILL: the tasks end and the connection closes; no lease is released."""
        courier = self.front.courier
        tasks = [self.front._listener, courier._sweeper, courier._renewer, *courier._lanes.values()]
        for task in tasks:
            if task is not None:
                task.cancel()
        await asyncio.gather(*(task for task in tasks if task is not None), return_exceptions=True)
        self.front._listener = courier._sweeper = courier._renewer = None
        await self.connection.close()


@asynccontextmanager
async def front(
    url: str,
    name: str,
    outbound: Channels,
    *,
    lease_s: float = 2.0,
    sweep_s: float = 0.2,
    deferral_s: float = 1.0,
    stream_class: type[StreamInbox] = StreamInbox,
) -> AsyncIterator[Running]:
    """A front with delivery leases (as ``KefuFront`` builds it) on its own connection; stopped at the end."""
    connection = await RedisConnection.open(url)
    stream = stream_class(connection)
    leases = Leases(connection, owner=name, lease_s=lease_s, kind="delivery")
    courier = Courier(stream, outbound, sweep_s=sweep_s, deferral_s=deferral_s, leases=leases, announce=stream.announce)
    running = Running(Front(stream, courier), connection)
    await running.front.start()
    try:
        yield running
    finally:
        await running.front.stop(drain_timeout_s=2.0)
        await connection.close()


async def delivery_leases(connection: RedisConnection) -> list[bytes]:
    return [key async for key in connection.client.scan_iter(match=connection.key("delivery", "*"))]


@pytest.mark.slow  # 200 turns through two workers and two fronts (a few seconds)
async def test_two_fronts_deliver_every_reply_once_in_each_chats_order(redis_url: str) -> None:
    platform = Platform()
    links = {"a": Link(platform), "b": Link(platform)}
    async with cluster(redis_url) as workers, AsyncExitStack() as stack:
        fronts = [await stack.enter_async_context(front(redis_url, n, outbound_to(links[n]))) for n in links]  # type: ignore[arg-type]
        await workers.add_worker("w1")
        await workers.add_worker("w2")
        for n in range(10):
            for chat in range(20):
                assert await fronts[(chat + n) % 2].front.dispatch(message(chat, n))
        async with asyncio.timeout(60):
            await platform.wait_for(lambda: platform.total() >= 200)
        await asyncio.sleep(0.5)  # a second send of any reply would arrive now
        for running in fronts:
            await running.front.courier.idle()
        left = await delivery_leases(fronts[0].connection)
        outbox = await fronts[0].front.stream.due_conversations(now=float("inf"))
    assert_each_answered_once_in_order(platform, range(20), 10)
    assert platform.overlaps == 0, "two sends to one chat at once"
    assert links["a"].sent and links["b"].sent, f"both fronts delivered: {links['a'].sent}, {links['b'].sent}"
    assert links["a"].sent + links["b"].sent == 200
    assert left == [] and outbox == [], "every lease released, the outbox empty"


@pytest.mark.slow  # waits out a delivery lease of 1 s
async def test_a_front_that_dies_mid_send_leaves_its_chats_to_the_other_once_its_leases_run_out(
    redis_url: str,
) -> None:
    platform = Platform()
    doomed, survivor = Link(platform, hung=True), Link(platform)
    async with cluster(redis_url) as workers, AsyncExitStack() as stack:
        dying = await stack.enter_async_context(front(redis_url, "dying", outbound_to(doomed), lease_s=1.0))  # type: ignore[arg-type]
        staying = await stack.enter_async_context(front(redis_url, "staying", outbound_to(survivor), lease_s=1.0))  # type: ignore[arg-type]
        await workers.add_worker("w1")
        for n in range(5):
            for chat in range(8):
                await (dying if chat % 2 else staying).front.dispatch(message(chat, n))  # both hold chats
        await asyncio.wait_for(doomed.started.wait(), 30)
        tenure = dying.front.courier._tenure
        held = len(tenure.held) if tenure is not None else 0
        await dying.kill()
        async with asyncio.timeout(60):
            await platform.wait_for(lambda: platform.total() >= 40)
        await asyncio.sleep(0.5)
        left = await delivery_leases(staying.connection)
    assert held >= 1, "the dead front held a delivery lease"
    assert_each_answered_once_in_order(platform, range(8), 5)
    assert survivor.sent == 40 and platform.overlaps == 0
    assert left == []


async def test_a_web_reply_passes_to_the_front_that_holds_the_browser(redis_url: str) -> None:
    """Front B, without the socket, is kicked first: it defers, releases and passes the conversation on; front A
    delivers it from that notice. Neither front's sweep (60 s) could have done it, and B's deferral (60 s) left the
    reply due, or A would have found nothing to send."""
    chats = {"a": WebChatAdapter(), "b": WebChatAdapter()}
    async with cluster(redis_url) as workers, AsyncExitStack() as stack:
        fronts = {
            name: await stack.enter_async_context(
                front(redis_url, name, outbound_to(chat, "web"), sweep_s=60.0, deferral_s=60.0)  # type: ignore[arg-type]
            )
            for name, chat in chats.items()
        }
        url = await stack.enter_async_context(serve(chats["a"], fronts["a"].front.dispatch))
        await stack.enter_async_context(serve(chats["b"], fronts["b"].front.dispatch))
        http = await stack.enter_async_context(aiohttp.ClientSession())
        browser = await ChatClient.connect(http, url)
        await workers.add_worker("w1")

        conversation = ConversationRef("web", browser.session)
        stream = fronts["b"].front.stream
        assert await stream.post(conversation, Reply(text="from the desk"), key="desk-1")
        fronts["b"].front.courier.kick(conversation)
        assert await browser.next_reply() == "from the desk"

        await browser.say("hello")  # answered by the worker; either front may win the lease
        assert await browser.next_reply() == "re hello"
        couriers = {name: running.front.courier for name, running in fronts.items()}
        await browser.close()
    assert couriers["a"].sent == 2 and couriers["b"].sent == 0


async def eventually(front: KefuFront, condition: Callable[[KefuFront], bool]) -> None:
    """Wait for ``condition`` (10 s hang guard, not a speed claim)."""
    await asyncio.to_thread(wait_until, lambda: condition(front), timeout=10)


@pytest.mark.slow  # two fronts with their Telegram clients, and a take-over (about 2 s)
async def test_a_second_polling_front_waits_not_ready_and_takes_over_when_the_first_stops(
    redis_url: str, tmp_path: Path, fake_telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(
        data_dir=tmp_path,
        store={"url": redis_url},
        telegram={"token": fake_telegram.token, "api_base": fake_telegram.base_url, "mode": "polling"},
        workers={"lease_s": 3.0},
        channels=["telegram"],
    )
    import aiogram  # noqa: F401 - its first import blocks the loop for seconds, past the lease

    first, second = KefuFront(settings, serve_http=False), KefuFront(settings, serve_http=False)
    await first.start()
    try:
        with caplog.at_level(logging.ERROR, logger="bot.workers.alone"):
            await second.start()
        try:
            assert (await first.ready())["ready"] is True
            assert await second.ready() == {"ready": False, "role": "front", "reason": POLLING_TAKEN}
            assert [r.getMessage() for r in caplog.records if r.name == "bot.workers.alone"] == [POLLING_TAKEN]
            await asyncio.sleep(0.5)  # the waiting front renews nothing and never polls meanwhile
            assert all(call.status == 200 for call in fake_telegram.calls_to("getUpdates")), "no 409 Conflict"

            await first.stop()
            await eventually(second, lambda front: front.channels.is_live("telegram"))
            assert (await second.ready())["ready"] is True
            fake_telegram.user(7401, language_code=None).says("Is anyone there?")
            await eventually(second, lambda front: front.front is not None and front.front.accepted == 1)
        finally:
            await second.stop()
    finally:
        await first.stop()


async def test_a_front_whose_lease_moved_during_a_slow_send_sends_nothing_more(redis_url: str) -> None:
    """A front stalled past its lease (here: the lease is taken from it while its send hangs) records the reply it
    handed over, then finds the lease another front's before the next send and stops: that front sends the rest."""
    platform = Platform()
    slow = Link(platform, hung=True)
    conversation = ConversationRef("test", "chat0")
    async with front(redis_url, "stalled", outbound_to(slow), lease_s=5.0) as running:  # type: ignore[arg-type]
        stream, courier = running.front.stream, running.front.courier
        for n in range(3):
            assert await stream.post(conversation, Reply(text=f"re 0/{n}"), key=f"k{n}")
        courier.kick(conversation)
        await asyncio.wait_for(slow.started.wait(), 10)
        key = running.connection.key("delivery", "test\x1fchat0")
        await running.connection.client.delete(key)  # the lease ran out while the front stalled…
        intruder = Leases(running.connection, owner="other", lease_s=5.0, kind="delivery")
        assert await intruder.acquire("test\x1fchat0") is not None  # …and another front took it
        slow.unhang()
        await asyncio.wait_for(courier.idle(), 10)
        left = await stream.next_due(conversation, now=float("inf"))
    assert platform.sent == {"chat0": ["re 0/0"]}, "the send under way completes; no other is started"
    assert left is not None and left.reply.text == "re 0/1", "the rest waits for the lease's new holder"


class FlakyMarks(StreamInbox):
    """A stream where recording each sent reply fails its first ``failing`` times."""

    failing = 2

    def __init__(self, connection: RedisConnection) -> None:
        super().__init__(connection)
        self.tries: dict[int, int] = {}
        self.failures = 0

    async def delivered(self, outgoing_id: int) -> None:
        self.tries[outgoing_id] = self.tries.get(outgoing_id, 0) + 1
        if self.tries[outgoing_id] <= self.failing:
            self.failures += 1
            raise ConnectionError("Too many connections")
        await super().delivered(outgoing_id)


@pytest.mark.parametrize("failing", [2, 4])
async def test_a_store_error_after_a_send_neither_stalls_the_chat_nor_keeps_its_lease(
    redis_url: str, failing: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recording a sent reply is tried again (2 failures: every reply once); past the tries (4) the lane ends with
    its lease given back, and the sweep sends that reply again and delivers the rest. Before, the lane's task died
    holding the lease, renewed for good, and the chat got nothing more."""
    import bot.delivery

    monkeypatch.setattr(bot.delivery, "MARK_RETRIES_S", (0.01, 0.01, 0.01))
    monkeypatch.setattr(FlakyMarks, "failing", failing)
    platform = Platform()
    link = Link(platform)
    async with (
        cluster(redis_url) as workers,
        front(redis_url, "a", outbound_to(link), stream_class=FlakyMarks) as running,  # type: ignore[arg-type]
    ):
        await workers.add_worker("w1")
        for n in range(6):
            for chat in range(3):
                assert await running.front.dispatch(message(chat, n))
        stream = running.front.stream
        async with asyncio.timeout(30):  # a hang guard: before the fix the chats stalled for good
            await platform.wait_for(lambda: all(len(platform.sent.get(f"chat{c}", [])) >= 6 for c in range(3)))
            for _ in range(600):  # every reply recorded as sent, every lease released
                if not await stream.due_conversations(now=float("inf")) and not await delivery_leases(
                    running.connection
                ):
                    break
                await asyncio.sleep(0.05)
            else:
                pytest.fail("replies left unrecorded or leases held")
    assert isinstance(stream, FlakyMarks) and stream.failures > 0
    for chat in range(3):
        sent = platform.sent[f"chat{chat}"]
        assert list(dict.fromkeys(sent)) == [f"re {chat}/{n}" for n in range(6)], "in order, none lost"
        assert len(sent) == (6 if failing == 2 else 12), "once each when a try succeeds; else the sweep sends again"
