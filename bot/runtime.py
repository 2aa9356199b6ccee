"""The runtime: accepts messages from adapters, handles each conversation in order, answers through the adapter.

Messages of one conversation are handled one after another; conversations run concurrently up to
``concurrency`` turns at once. Each conversation's queue is bounded, so a flooding conversation makes
its adapter wait (back-pressure) instead of growing memory. Duplicate deliveries (same channel and
message id) are dropped. A turn that fails or times out still gets an apology, and is logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from bot.errors import StageTimeout
from bot.generation.templates import say
from bot.language import detect_language
from bot.messages import ConversationRef, Message, Reply

log = logging.getLogger(__name__)

Handler = Callable[[Message], Awaitable[Reply | None]]
"""Answers a message; None means no bot reply (a human operator owns the conversation)."""


class ReplySink(Protocol):
    """Where replies go: anything with ``send`` and ``working`` (every ``Adapter`` is one)."""

    async def send(self, conversation: ConversationRef, reply: Reply) -> None: ...

    async def working(self, conversation: ConversationRef) -> None: ...


@dataclass(slots=True)
class _Lane:
    queue: asyncio.Queue[Message]
    worker: asyncio.Task[None] | None = None


class Runtime:
    """Ordered, concurrent, bounded turn handling between adapters and a handler (the pipeline)."""

    def __init__(
        self,
        handler: Handler,
        *,
        concurrency: int = 64,
        queue_size: int = 100,
        turn_timeout_s: float = 60.0,
        idle_lane_s: float = 30.0,
        remember_ids: int = 10_000,
        show_working: bool = True,
    ) -> None:
        self.handler = handler
        self.show_working = show_working
        """False when the handler calls ``working`` itself (only for turns the bot, not an operator, answers)."""
        self.queue_size = queue_size
        self.turn_timeout_s = turn_timeout_s
        self.idle_lane_s = idle_lane_s
        self._sinks: dict[str, ReplySink] = {}
        self._lanes: dict[ConversationRef, _Lane] = {}
        self._slots = asyncio.Semaphore(concurrency)
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._remember_ids = remember_ids
        self._closing = False
        self._pending = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.turns_done = 0
        self.turns_failed = 0

    def register(self, channel: str, sink: ReplySink) -> None:
        """Route replies for ``channel`` to ``sink`` (normally the adapter itself)."""
        self._sinks[channel] = sink

    async def deliver(self, conversation: ConversationRef, reply: Reply) -> None:
        """Send ``reply`` into ``conversation`` outside a turn (an operator's answer from the handoff desk)."""
        sink = self._sinks.get(conversation.channel)
        if sink is None:
            raise LookupError(f"no adapter registered for channel {conversation.channel!r}")
        await sink.send(conversation, reply)

    async def working(self, conversation: ConversationRef) -> None:
        """Show "typing…" in ``conversation``; best effort, a failure is only logged."""
        sink = self._sinks.get(conversation.channel)
        if sink is None:
            return
        try:
            await sink.working(conversation)
        except Exception:  # a typing indicator is best effort
            log.debug("typing indicator failed in %s", conversation, exc_info=True)

    async def dispatch(self, message: Message) -> None:
        """Queue ``message`` behind earlier ones of its conversation; waits while that queue is full."""
        if self._closing:
            raise RuntimeError("the runtime is stopping")
        if message.message_id and self._is_duplicate(message):
            log.info("dropped duplicate message %s in %s", message.message_id, message.conversation)
            return
        lane = self._lanes.get(message.conversation)
        if lane is None:
            lane = self._lanes[message.conversation] = _Lane(asyncio.Queue(self.queue_size))
        self._pending += 1
        self._idle.clear()
        try:
            await lane.queue.put(message)
        except BaseException:
            self._finished()
            raise
        if lane.worker is None or lane.worker.done():
            lane.worker = asyncio.create_task(self._drain(message.conversation, lane))

    async def join(self) -> None:
        """Wait until every queued message has been answered."""
        await self._idle.wait()

    async def stop(self, *, drain_timeout_s: float = 10.0) -> None:
        """Refuse new messages, answer the queued ones (up to ``drain_timeout_s``), then stop the workers."""
        self._closing = True
        try:
            await asyncio.wait_for(self.join(), drain_timeout_s)
        except TimeoutError:
            log.warning("stopped with %d unanswered messages", self._pending)
        workers = [lane.worker for lane in self._lanes.values() if lane.worker is not None]
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)

    def _is_duplicate(self, message: Message) -> bool:
        key = (message.conversation.channel, message.message_id)
        if key in self._seen:
            return True
        self._seen[key] = None
        if len(self._seen) > self._remember_ids:
            self._seen.popitem(last=False)
        return False

    async def _drain(self, conversation: ConversationRef, lane: _Lane) -> None:
        while True:
            try:
                message = await asyncio.wait_for(lane.queue.get(), self.idle_lane_s)
            except TimeoutError:
                if lane.queue.empty() and self._lanes.get(conversation) is lane:
                    del self._lanes[conversation]
                return
            try:
                async with self._slots:
                    await self._turn(message)
            finally:
                lane.queue.task_done()
                self._finished()

    def _finished(self) -> None:
        self._pending -= 1
        if self._pending == 0:
            self._idle.set()

    async def _turn(self, message: Message) -> None:
        sink = self._sinks.get(message.conversation.channel)
        if sink is None:
            log.error("no adapter registered for channel %r; message lost", message.conversation.channel)
            self.turns_failed += 1
            return
        if self.show_working:
            await self.working(message.conversation)
        try:
            reply = await asyncio.wait_for(self.handler(message), self.turn_timeout_s)
        except (TimeoutError, StageTimeout) as error:
            log.error("turn in %s timed out: %s", message.conversation, error or "turn timeout")
            reply = self._apology(message)
            self.turns_failed += 1
        except Exception:
            log.exception("turn in %s failed", message.conversation)
            reply = self._apology(message)
            self.turns_failed += 1
        else:
            self.turns_done += 1
        if reply is None:
            return
        try:
            await sink.send(message.conversation, reply)
        except Exception:
            log.exception("could not deliver a reply to %s", message.conversation)

    @staticmethod
    def _apology(message: Message) -> Reply:
        language = detect_language(message.text, hint=message.language_hint)
        return Reply(text=say("internal_error", language), language=language, reason="internal error")
