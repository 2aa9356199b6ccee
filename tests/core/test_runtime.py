"""The runtime: per-conversation order under concurrency, conversations in parallel, duplicates, failures."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

from bot.messages import ConversationRef, Message, Reply
from bot.middleware import ShowTyping
from bot.outbound import Channels
from bot.runtime import Runtime


class RecordingSink:
    """A channel that records what it was asked to show, per conversation."""

    def __init__(self) -> None:
        self.sent: dict[str, list[str]] = {}
        self.typing = 0
        self._changed = asyncio.Condition()

    async def send(self, conversation: ConversationRef, reply: Reply) -> None:
        self.sent.setdefault(conversation.conversation_id, []).append(reply.text)
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, condition: Callable[[], bool]) -> None:
        """Return once ``condition()`` holds, re-checked after each reply shown (bound it with ``asyncio.timeout``)."""
        async with self._changed:
            await self._changed.wait_for(condition)

    async def working(self, conversation: ConversationRef) -> None:
        self.typing += 1


def outbound_to(sink: RecordingSink, channel: str = "test") -> Channels:
    """The outbound port with one live channel."""
    channels = Channels()
    channels.add(sink, name=channel)  # type: ignore[arg-type]
    return channels


def message(conversation: str, text: str, message_id: str = "") -> Message:
    return Message(conversation=ConversationRef("test", conversation), user_id="u", text=text, message_id=message_id)


async def test_each_conversation_keeps_its_order_under_concurrency() -> None:
    active: dict[str, int] = {}
    overlap_within_conversation = False
    max_parallel = 0

    async def handler(msg: Message) -> Reply:
        nonlocal overlap_within_conversation, max_parallel
        cid = msg.conversation.conversation_id
        active[cid] = active.get(cid, 0) + 1
        overlap_within_conversation |= active[cid] > 1
        max_parallel = max(max_parallel, sum(active.values()))
        await asyncio.sleep(random.uniform(0, 0.01))  # later messages often finish faster
        active[cid] -= 1
        return Reply(text=msg.text)

    sink = RecordingSink()
    channels = outbound_to(sink)
    runtime = Runtime(handler, outbound=channels, middlewares=[ShowTyping(channels)], concurrency=16)
    for n in range(20):
        for cid in ("a", "b", "c", "d"):
            await runtime.dispatch(message(cid, f"{cid}{n}"))
    await runtime.join()
    await runtime.stop()
    for cid in ("a", "b", "c", "d"):
        assert sink.sent[cid] == [f"{cid}{n}" for n in range(20)]
    assert not overlap_within_conversation
    assert max_parallel > 1
    assert sink.typing == 80


async def test_concurrency_limit_bounds_turns_in_flight() -> None:
    in_flight = peak = 0

    async def handler(msg: Message) -> Reply:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return Reply(text="ok")

    runtime = Runtime(handler, outbound=outbound_to(RecordingSink()), concurrency=3)
    for n in range(12):
        await runtime.dispatch(message(f"c{n}", "hi"))
    await runtime.join()
    await runtime.stop()
    assert peak == 3


async def test_duplicate_message_ids_get_one_reply() -> None:
    sink = RecordingSink()
    runtime = Runtime(lambda msg: asyncio.sleep(0, Reply(text=msg.text)), outbound=outbound_to(sink))
    for _ in range(3):
        await runtime.dispatch(message("a", "once", message_id="42"))
    await runtime.join()
    await runtime.stop()
    assert sink.sent["a"] == ["once"]


async def test_failing_or_slow_turn_still_gets_an_apology_and_the_next_turn_runs() -> None:
    async def handler(msg: Message) -> Reply:
        if msg.text == "boom":
            raise RuntimeError("engine exploded")
        if msg.text == "slow":
            await asyncio.sleep(5)
        return Reply(text=f"ok {msg.text}")

    sink = RecordingSink()
    runtime = Runtime(handler, outbound=outbound_to(sink), turn_timeout_s=0.1)
    for text in ("boom", "slow", "after", "我的订单"):
        await runtime.dispatch(message("a", text))
    await runtime.join()
    await runtime.stop()
    assert sink.sent["a"][0].startswith("Sorry, something went wrong")
    assert sink.sent["a"][1].startswith("Sorry, something went wrong")
    assert sink.sent["a"][2] == "ok after"
    assert sink.sent["a"][3] == "ok 我的订单"
    assert runtime.turns_failed == 2


async def test_full_conversation_queue_makes_the_adapter_wait() -> None:
    release = asyncio.Event()

    async def handler(msg: Message) -> Reply:
        await release.wait()
        return Reply(text=msg.text)

    runtime = Runtime(handler, outbound=outbound_to(RecordingSink()), queue_size=2)
    for n in range(3):  # one being handled, two queued
        await runtime.dispatch(message("a", str(n)))
    blocked = asyncio.create_task(runtime.dispatch(message("a", "3")))
    await asyncio.sleep(0.05)
    assert not blocked.done()
    release.set()
    await asyncio.wait_for(blocked, 2)
    await runtime.join()
    await runtime.stop()


async def test_a_message_arriving_while_stopping_is_kept_for_the_next_start_not_refused() -> None:
    """A channel still polling when SIGTERM came: the message is kept (the platform may forget it), not handled now,
    and the next runtime over the same inbox answers it."""
    from bot.inbox import MemoryInbox

    sink, inbox, handled = RecordingSink(), MemoryInbox(), []

    async def handler(msg: Message) -> Reply:
        handled.append(msg.text)
        return Reply(text=f"re: {msg.text}")

    runtime = Runtime(handler, outbound=outbound_to(sink), inbox=inbox)
    await runtime.stop()
    assert await runtime.dispatch(message("c", "late", "m1")) is True
    assert await runtime.dispatch(message("c", "late", "m1")) is False  # its redelivery is still recognised
    assert handled == []
    again = Runtime(handler, outbound=outbound_to(sink), inbox=inbox)
    assert await again.resume() == 1
    await again.join()
    await again.stop()
    assert handled == ["late"] and sink.sent == {"c": ["re: late"]}
