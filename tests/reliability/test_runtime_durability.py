"""The runtime over the durable inbox: collisions, restarts, redeliveries, and deliveries apart from turns."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from bot.delivery import Courier
from bot.errors import DeliveryDeferred
from bot.inbox import Inbox, MemoryInbox
from bot.inbox.sqlite import SqliteInbox
from bot.messages import ConversationRef, Message, Reply
from bot.outbound import Channels, Outbound
from bot.runtime import Handler, Runtime
from bot.sessions.sqlite import Database
from tests.conftest import wait_until
from tests.core.test_runtime import RecordingSink, outbound_to
from tests.redis_server import RedisServer
from tests.reliability.conftest import OpenDurable


def message(conversation: str, message_id: str, text: str = "hi") -> Message:
    return Message(conversation=ConversationRef("test", conversation), user_id="u", text=text, message_id=message_id)


async def echo(msg: Message) -> Reply:
    return Reply(text=f"re {msg.text}")


async def open_inbox(path: Path) -> SqliteInbox:
    inbox = SqliteInbox(await Database.open(path))
    await inbox.setup()
    return inbox


async def test_colliding_message_ids_across_conversations_are_all_answered(open_durable: OpenDurable) -> None:
    """Telegram numbers messages per chat: 20 chats × ids 9001-9010 are 200 messages, not 10."""
    inbox = await open_durable()
    sink = RecordingSink()
    runtime = Runtime(echo, outbound=outbound_to(sink), inbox=inbox)
    for n in range(9001, 9011):
        for chat in range(20):
            assert await runtime.dispatch(message(f"chat{chat}", str(n), f"{chat}/{n}"))
    await runtime.join()
    await runtime.stop()
    await inbox.close()
    assert sum(len(texts) for texts in sink.sent.values()) == 200
    for chat in range(20):
        assert sink.sent[f"chat{chat}"] == [f"re {chat}/{n}" for n in range(9001, 9011)]


async def test_a_message_accepted_before_a_crash_is_answered_after_the_restart_and_only_once(
    open_durable: OpenDurable,
) -> None:
    stuck = asyncio.Event()

    async def hangs(msg: Message) -> Reply:
        await stuck.wait()
        raise AssertionError("never answered in the first run")

    first = await open_durable()
    crashed = Runtime(hangs, outbound=outbound_to(RecordingSink()), inbox=first)
    for n in range(3):
        assert await crashed.dispatch(message("a", str(n), f"m{n}"))
    assert await crashed.dispatch(message("b", "0", "other"))
    await first.close()  # the process dies here: nothing answered, the store is all that is left
    for task in asyncio.all_tasks() - {asyncio.current_task()}:
        task.cancel()

    second = await open_durable(restarted=True)
    sink = RecordingSink()
    runtime = Runtime(echo, outbound=outbound_to(sink), inbox=second)
    assert await runtime.resume() == 4
    assert not await runtime.dispatch(message("a", "1", "m1")), "the platform's redelivery is recognised"
    assert await runtime.dispatch(message("a", "3", "m3"))
    await runtime.join()
    await runtime.stop()
    await second.close()
    assert sink.sent == {"a": ["re m0", "re m1", "re m2", "re m3"], "b": ["re other"]}


async def test_a_reply_queued_before_a_crash_is_delivered_after_the_restart(open_durable: OpenDurable) -> None:
    first = await open_durable()
    runtime = quick_runtime(Channels(), inbox=first)  # no channel: the reply waits in the outbox
    assert await runtime.dispatch(message("a", "1", "m1"))
    await runtime.join()
    await runtime.stop(drain_timeout_s=0.1)
    await first.close()

    second = await open_durable(restarted=True)
    sink = RecordingSink()
    channels = Channels()
    channels.add(sink, name="test", live=False)
    restarted = quick_runtime(channels, inbox=second)
    assert await restarted.resume() == 0
    channels.go_live("test")
    async with asyncio.timeout(5):
        await sink.wait_for(lambda: "a" in sink.sent)
    await restarted.stop()
    await second.close()
    assert sink.sent == {"a": ["re m1"]}


class SlowChannel(RecordingSink):
    """A channel whose delivery to conversation ``a`` waits like a Telegram 429 ``retry_after``."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def send(self, conversation: ConversationRef, reply: Reply) -> None:
        if conversation.conversation_id == "a":
            await self.release.wait()
        await super().send(conversation, reply)


async def test_a_slow_delivery_does_not_hold_a_turn_slot() -> None:
    sink = SlowChannel()
    runtime = Runtime(echo, outbound=outbound_to(sink), concurrency=1)
    await runtime.dispatch(message("a", "1", "first"))
    await runtime.dispatch(message("b", "1", "second"))
    async with asyncio.timeout(5):
        # b is answered and delivered while a's delivery still waits
        await sink.wait_for(lambda: "b" in sink.sent)
    assert "a" not in sink.sent
    sink.release.set()
    await runtime.join()
    await runtime.stop()
    assert sink.sent == {"a": ["re first"], "b": ["re second"]}


class FlakyChannel(RecordingSink):
    def __init__(self, failures: list[BaseException]) -> None:
        super().__init__()
        self.failures = failures
        self.attempts = 0

    async def send(self, conversation: ConversationRef, reply: Reply) -> None:
        self.attempts += 1
        if self.failures:
            raise self.failures.pop(0)
        await super().send(conversation, reply)


def quick_runtime(
    outbound: Outbound, *, inbox: Inbox | None = None, max_attempts: int = 6, handler: Handler = echo
) -> Runtime:
    """A runtime whose courier retries within milliseconds."""

    kept: Inbox = inbox or MemoryInbox()
    courier = Courier(kept, outbound, backoff_s=0.01, deferral_s=0.01, sweep_s=0.01, max_attempts=max_attempts)
    return Runtime(handler, outbound=outbound, inbox=kept, courier=courier)


async def test_deferred_and_failed_deliveries_are_retried_in_order() -> None:
    sink = FlakyChannel([DeliveryDeferred("no browser"), ConnectionError("reset"), RuntimeError("500")])
    runtime = quick_runtime(outbound_to(sink))
    for n in range(3):
        await runtime.dispatch(message("a", str(n), f"m{n}"))
    async with asyncio.timeout(5):
        await sink.wait_for(lambda: len(sink.sent.get("a", [])) >= 3)
    await runtime.stop()
    assert sink.sent == {"a": ["re m0", "re m1", "re m2"]}
    assert sink.attempts == 6 and runtime.deliveries_failed == 0


async def test_a_reply_that_keeps_failing_is_given_up_and_counted() -> None:
    sink = FlakyChannel([RuntimeError("403 blocked")] * 3)
    runtime = quick_runtime(outbound_to(sink), max_attempts=3)
    await runtime.dispatch(message("a", "1", "m1"))
    await runtime.dispatch(message("a", "2", "m2"))
    async with asyncio.timeout(5):
        await sink.wait_for(lambda: "a" in sink.sent)
    await runtime.stop()
    assert sink.sent == {"a": ["re m2"]}, "the next reply goes out once the failing one is given up"
    assert runtime.deliveries_failed == 1


async def test_two_web_sessions_using_the_same_client_id_both_get_answers(tmp_path: Path) -> None:
    """The web chat's page builds ids from the clock and a counter: two browsers can send the same one."""
    import aiohttp

    from adapters.web import WebChatAdapter
    from adapters.web.testing import ChatClient, serve

    inbox = await open_inbox(tmp_path / "store.sqlite3")
    adapter = WebChatAdapter()
    runtime = Runtime(echo, outbound=outbound_to(adapter, "web"), inbox=inbox)
    try:
        async with serve(adapter, runtime.dispatch) as url, aiohttp.ClientSession() as http:
            alice, bob = await ChatClient.connect(http, url), await ChatClient.connect(http, url)
            for client, text in ((alice, "from alice"), (bob, "from bob")):
                await client.send({"type": "message", "text": text, "id": "lz3k1-1"})
            assert (await alice.next_of("reply"))["text"] == "re from alice"
            assert (await bob.next_of("reply"))["text"] == "re from bob"
            await alice.send({"type": "message", "text": "from alice", "id": "lz3k1-1"})  # the page offers it again
            assert await alice.next_frame() == {"type": "accepted", "id": "lz3k1-1", "duplicate": True}
    finally:
        await runtime.stop()
        await inbox.db.close()


async def test_a_redis_restart_during_a_turn_does_not_lose_its_answer(
    redis_url: str, redis_server: RedisServer
) -> None:
    """Redis goes away while a turn runs and comes back a moment later: the answer is recorded and delivered by the
    running bot (no restart), once."""
    from bot.inbox.redis import RedisInbox
    from bot.sessions.redis import RedisConnection

    inbox = RedisInbox(await RedisConnection.open(redis_url))
    back = threading.Timer(0.5, redis_server.start)

    async def outage(msg: Message) -> Reply:
        if msg.text == "m1":
            redis_server.stop()
            back.start()
        return Reply(text=f"re {msg.text}")

    sink = RecordingSink()
    runtime = quick_runtime(outbound_to(sink), inbox=inbox, handler=outage)
    try:  # every step bounded: a call that hung once in CI fails here with its step named, not after 15 minutes
        async with asyncio.timeout(60):
            assert await runtime.dispatch(message("a", "1", "m1"))
            await sink.wait_for(lambda: "a" in sink.sent)
        async with asyncio.timeout(60):
            assert await runtime.dispatch(message("a", "2", "m2"))
            await sink.wait_for(lambda: len(sink.sent["a"]) == 2)
        async with asyncio.timeout(30):
            assert await inbox.pending(refetch=no_refetch) == []
    finally:
        back.join()
        async with asyncio.timeout(60):
            await runtime.stop()
            await inbox.close()
    assert sink.sent == {"a": ["re m1", "re m2"]}


async def no_refetch(channel: str, locator: str) -> bytes:
    raise AssertionError("nothing is fetched again")


class SwallowingInbox(MemoryInbox):
    """An inbox whose outbox query swallows the first cancel it gets, as redis-py can while it reconnects."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = asyncio.Event()
        self.swallowed = 0
        self.queries = 0

    async def due_conversations(self, *, now: float) -> list[ConversationRef]:
        self.asked.set()
        self.queries += 1
        if self.swallowed:
            return await super().due_conversations(now=now)
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            self.swallowed += 1
        return []


async def test_a_stop_does_not_hang_on_a_sweep_that_swallowed_its_cancel() -> None:
    inbox = SwallowingInbox()
    courier = Courier(inbox, outbound_to(RecordingSink()), sweep_s=0.01)
    courier.start()
    async with asyncio.timeout(5):
        await inbox.asked.wait()
    stop = asyncio.create_task(courier.stop(timeout_s=1.0))
    done, _ = await asyncio.wait({stop}, timeout=30)  # a hang guard: the stop sends the cancel again
    assert done and inbox.swallowed == 1
    queries = inbox.queries
    await asyncio.sleep(0.2)
    assert inbox.queries == queries, "nothing sweeps after the stop"


class HangingInbox(MemoryInbox):
    """An inbox whose first answer-recording call and first outbox query never return (a Redis call that hung)."""

    def __init__(self) -> None:
        super().__init__()
        self.hung: set[str] = set()
        self.sweeps = 0

    async def _hang_once(self, what: str) -> None:
        if what not in self.hung:
            self.hung.add(what)
            await asyncio.Event().wait()

    async def complete(self, seq: int, conversation: ConversationRef, reply: Reply | None) -> None:
        await self._hang_once("complete")
        await super().complete(seq, conversation, reply)

    async def due_conversations(self, *, now: float) -> list[ConversationRef]:
        await self._hang_once("due")
        self.sweeps += 1
        return await super().due_conversations(now=now)


async def test_a_store_call_that_never_returns_is_tried_again(monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.delivery
    import bot.turns

    monkeypatch.setattr(bot.turns, "STORE_CALL_S", 0.2)
    monkeypatch.setattr(bot.delivery, "STORE_CALL_S", 0.2)
    inbox = HangingInbox()
    sink = RecordingSink()
    runtime = quick_runtime(outbound_to(sink), inbox=inbox)
    try:
        async with asyncio.timeout(30):  # a hang guard
            assert await runtime.dispatch(message("a", "1", "m1"))
            await sink.wait_for(lambda: "a" in sink.sent)
            await asyncio.to_thread(wait_until, lambda: inbox.sweeps >= 3, timeout=20)
    finally:
        async with asyncio.timeout(30):
            await runtime.stop()
    assert sink.sent == {"a": ["re m1"]}, "the answer was recorded on the second try and sent once"
    assert inbox.hung == {"complete", "due"} and inbox.sweeps >= 3, "the sweep that hung timed out and sweeps went on"
