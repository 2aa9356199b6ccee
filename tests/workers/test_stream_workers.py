"""Worker mode in one process: a front and several ``Worker`` loops over the private Redis server.

Every worker has its own connection, as separate processes would. A worker "dies" by losing its tasks and its
connection with no clean-up; the others claim its entries once they are idle. The handler echoes the message
after a short random pause, so conversations interleave across workers.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.app.roles import STORE_AWAY
from bot.delivery import Courier
from bot.errors import BadInput
from bot.fencing import FENCE, Fence, LeaseLost
from bot.inbox.stream import StreamInbox
from bot.messages import Attachment, ConversationRef, Message, Reply
from bot.metrics import Metrics
from bot.middleware.typing import Quiet, ShowTyping
from bot.sessions.base import Session
from bot.sessions.redis import RedisConnection, RedisSessionStore
from bot.turns import Turns
from bot.workers import Front, Leases, Worker
from bot.workers.typing import WorkingRelay
from tests.conftest import wait_until
from tests.core.test_runtime import RecordingSink, outbound_to
from tests.redis_server import RedisServer


def message(chat: int, n: int) -> Message:
    return Message(
        conversation=ConversationRef("test", f"chat{chat}"),
        user_id=f"u{chat}",
        text=f"{chat}/{n}",
        message_id=str(9000 + n),
    )


async def echo(msg: Message) -> Reply:
    await asyncio.sleep(random.uniform(0.0, 0.01))
    return Reply(text=f"re {msg.text}")


@dataclass
class Cluster:
    url: str
    sink: RecordingSink = field(default_factory=RecordingSink)
    front: Front | None = None
    workers: dict[str, tuple[Worker, asyncio.Task[None], RedisConnection]] = field(default_factory=dict)
    metrics: Metrics = field(default_factory=Metrics)

    async def open_front(self, *, typing: bool = False) -> Front:
        """A front delivering to ``sink``; with ``typing`` it also shows "typing…" there when a worker says so."""
        stream = StreamInbox(await RedisConnection.open(self.url))
        outbound = outbound_to(self.sink)
        self.front = Front(stream, Courier(stream, outbound, sweep_s=0.2), outbound=outbound if typing else None)
        await self.front.start()
        return self.front

    async def add_worker(
        self,
        name: str,
        *,
        handler: Callable[[Message], object] = echo,
        lease_s: float = 2.0,
        claim_after_s: float = 1.0,
        quiet: Quiet | None = None,
    ) -> Worker:
        """A worker answering with ``handler``; it asks the fronts for "typing…" unless ``quiet`` says no."""
        connection = await RedisConnection.open(self.url)
        stream = StreamInbox(connection)
        turns = Turns(
            handler,  # type: ignore[arg-type]
            inbox=stream,
            outbound=outbound_to(RecordingSink()),
            middlewares=[ShowTyping(WorkingRelay(stream), quiet=quiet)],
            store_errors=STORE_AWAY,
        )
        worker = Worker(
            stream,
            turns,
            Leases(connection, owner=name, lease_s=lease_s),
            name=name,
            metrics=self.metrics,
            lanes=4,
            claim_after_s=claim_after_s,
            block_ms=100,
        )
        task = asyncio.create_task(worker.run())
        await asyncio.wait_for(worker.ready.wait(), 10)
        self.workers[name] = (worker, task, connection)
        return worker

    async def kill(self, name: str) -> None:
        """Like SIGKILL: the tasks end, the connection closes, nothing is released or handed back."""
        worker, task, connection = self.workers.pop(name)
        for lane in list(worker._lanes.values()) + worker._loops + [task]:
            lane.cancel()
        await asyncio.gather(*worker._lanes.values(), *worker._loops, task, return_exceptions=True)
        await connection.close()

    async def stop(self, name: str) -> None:
        worker, task, connection = self.workers.pop(name)
        await worker.stop()
        await task
        await connection.close()

    async def close(self) -> None:
        for name in list(self.workers):
            await self.stop(name)
        if self.front is not None:
            await self.front.stop()
            await self.front.stream.close()

    def total(self) -> int:
        return sum(len(texts) for texts in self.sink.sent.values())

    async def wait_for_replies(self, count: int, *, timeout: float = 60) -> None:
        async with asyncio.timeout(timeout):
            await self.sink.wait_for(lambda: self.total() >= count)
        await asyncio.sleep(0.3)  # a repeat, if any, would arrive now


@asynccontextmanager
async def cluster(url: str) -> AsyncIterator[Cluster]:
    running = Cluster(url)
    try:
        yield running
    finally:
        await running.close()


def assert_each_answered_once_in_order(sink: RecordingSink, chats: range, per_chat: int) -> None:
    for chat in chats:
        assert sink.sent.get(f"chat{chat}") == [f"re {chat}/{n}" for n in range(per_chat)], chat


async def test_the_fronts_show_typing_when_a_worker_starts_a_turn_unless_an_operator_owns_it(redis_url: str) -> None:
    async def operator_owns(msg: Message) -> bool:
        return msg.conversation.conversation_id == "chat1"

    async with cluster(redis_url) as running:
        front = await running.open_front(typing=True)
        silent = await running.open_front()  # a front built without an outbound for typing shows none
        await running.add_worker("w1", quiet=operator_owns)
        for n in range(3):
            for chat in range(2):
                assert await front.dispatch(message(chat, n))
        await running.wait_for_replies(6)
        # typing is shown beside the turn, so it may come after the reply
        await asyncio.to_thread(wait_until, lambda: running.sink.typing >= 3, timeout=10)
        await asyncio.sleep(0.2)
        assert running.sink.typing == 3, "none for chat1, which an operator owns"
        await silent.stop()
        await silent.stream.close()


async def test_two_workers_answer_every_conversation_once_in_its_order(redis_url: str) -> None:
    async with cluster(redis_url) as running:
        front = await running.open_front()
        await running.add_worker("w1")
        await running.add_worker("w2")
        for n in range(15):
            for chat in range(12):
                assert await front.dispatch(message(chat, n))
        assert not await front.dispatch(message(3, 4)), "a redelivery is dropped"
        await running.wait_for_replies(180)
        turns = {name: worker.stats.turns for name, (worker, _, _) in running.workers.items()}
        stats = await front.stream.stats()
    assert_each_answered_once_in_order(running.sink, range(12), 15)
    assert all(turns.values()), f"both workers answered: {turns}"
    assert stats.lag == 0 and stats.pending == 0
    assert running.metrics.worker_turns.labels(worker="w1")._value.get() == turns["w1"]


@pytest.mark.slow  # waits out a lease and a claim pass (about 2 s)
async def test_a_dead_workers_conversations_are_claimed_and_answered_once(redis_url: str) -> None:
    entered = asyncio.Event()
    hang = asyncio.Event()

    async def stuck(msg: Message) -> Reply:
        entered.set()
        await hang.wait()
        raise AssertionError("the dead worker never answers")

    async with cluster(redis_url) as running:
        front = await running.open_front()
        await running.add_worker("doomed", handler=stuck)
        for n in range(5):
            for chat in range(6):
                await front.dispatch(message(chat, n))
        await asyncio.wait_for(entered.wait(), 10)
        await running.kill("doomed")
        survivor = await running.add_worker("survivor")
        await running.wait_for_replies(30)
    assert_each_answered_once_in_order(running.sink, range(6), 5)
    assert survivor.stats.claimed > 0
    assert running.metrics.stream_claims._value.get() == survivor.stats.claimed


@pytest.mark.slow  # waits out a lease and a claim pass (about 2 s)
async def test_a_stopping_worker_finishes_its_turn_and_hands_the_rest_back_at_once(redis_url: str) -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    async def slow(msg: Message) -> Reply:
        started.set()
        await release.wait()
        return Reply(text=f"re {msg.text}")

    async with cluster(redis_url) as running:
        front = await running.open_front()
        # a claim timeout far longer than the test: the other worker can only have the rest by a hand-back
        leaving = await running.add_worker("leaving", handler=slow, claim_after_s=600)
        for n in range(4):
            await front.dispatch(message(0, n))
        await asyncio.wait_for(started.wait(), 10)
        await running.add_worker("staying", claim_after_s=600)
        stopping = asyncio.create_task(running.stop("leaving"))
        await asyncio.sleep(0.2)
        release.set()
        await stopping
        await running.wait_for_replies(4, timeout=30)
    assert running.sink.sent["chat0"] == [f"re 0/{n}" for n in range(4)]
    assert leaving.stats.turns == 1 and leaving.stats.handed_back >= 1


async def test_a_worker_that_lost_its_lease_writes_nothing(redis_url: str) -> None:
    connection = await RedisConnection.open(redis_url)
    try:
        stream = StreamInbox(connection)
        store = RedisSessionStore(connection)
        await stream.accept(message(1, 0))
        stale = await Leases(connection, owner="stale", lease_s=0.05).acquire("test\x1fchat1")
        assert stale is not None
        await asyncio.sleep(0.1)
        fresh = await Leases(connection, owner="fresh").acquire("test\x1fchat1")
        assert fresh is not None and fresh.token != stale.token
        token = FENCE.set(stale)
        try:
            with pytest.raises(LeaseLost):
                await store.save(Session(conversation="test:chat1", user_id="u1", last_message_id="x"))
            with pytest.raises(LeaseLost):
                await stream.complete(1, ConversationRef("test", "chat1"), Reply(text="late"))
        finally:
            FENCE.reset(token)
        assert (await store.load("test:chat1")).last_message_id is None
        assert await stream.head("test\x1fchat1") is not None, "the message is still unanswered"
        token = FENCE.set(Fence(fresh.key, fresh.token))
        try:
            await stream.complete(1, ConversationRef("test", "chat1"), Reply(text="on time"))
        finally:
            FENCE.reset(token)
        assert await stream.head("test\x1fchat1") is None
        assert (await stream.stats()).lag == 0
    finally:
        await connection.close()


async def test_workers_reconnect_after_a_redis_restart_and_lose_nothing_acknowledged(
    redis_server: RedisServer, redis_url: str
) -> None:
    async with cluster(redis_url) as running:
        front = await running.open_front()
        await running.add_worker("w1")
        await running.add_worker("w2")
        for n in range(10):
            for chat in range(8):
                await front.dispatch(message(chat, n))
        await asyncio.sleep(0.1)
        redis_server.restart()
        await running.wait_for_replies(80, timeout=90)
    assert_each_answered_once_in_order(running.sink, range(8), 10)


async def test_the_front_keeps_attachment_bytes_so_a_worker_reads_them_without_a_channel(redis_url: str) -> None:
    async def voice() -> bytes:
        return b"OggS voice bytes"

    async def gone() -> bytes:
        raise ConnectionError("the platform's file server is down")

    async with cluster(redis_url) as running:
        front = await running.open_front()
        note = Attachment(kind="voice", fetch=voice, mime_type="audio/ogg", locator="file-1")
        lost = Attachment(kind="photo", fetch=gone, mime_type="image/jpeg", locator="file-2")
        sent = message(1, 0)
        assert await front.dispatch(replace(sent, attachments=(note, lost)))
        head = await front.stream.head("test\x1fchat1")
    assert head is not None
    kept, unreadable = head[1].attachments
    assert await kept.read(max_bytes=1024) == b"OggS voice bytes"
    with pytest.raises(BadInput, match="was not kept when it arrived"):
        await unreadable.read(max_bytes=1024)


async def test_a_turn_that_meets_redis_restarting_runs_again_instead_of_apologising(redis_url: str) -> None:
    tries: list[str] = []

    async def flaky(msg: Message) -> Reply:
        tries.append(msg.text)
        if len(tries) == 1:
            raise RedisConnectionError("Error 111 connecting to 127.0.0.1")
        return Reply(text=f"re {msg.text}")

    async with cluster(redis_url) as running:
        front = await running.open_front()
        worker = await running.add_worker("w1", handler=flaky)
        await front.dispatch(message(1, 0))
        await running.wait_for_replies(1)
    assert running.sink.sent["chat1"] == ["re 1/0"], "the answer, not an apology"
    assert tries == ["1/0", "1/0"] and worker.turns.failed == 0
