"""The runtime: accepts messages from adapters, handles each conversation in order, answers through the outbox.

Every message is kept in the ``Inbox`` before ``dispatch`` returns (so before the adapter acknowledges it to
its platform), and its reply is queued in the same inbox's outbox in the transaction that marks it answered;
``resume`` takes up what a crash left unanswered. Messages of one conversation are handled one after another;
conversations run concurrently up to ``concurrency`` turns at once; each conversation's queue is bounded, so a
flooding conversation makes its adapter wait (back-pressure). A message whose platform identity was accepted
before (a redelivery) is dropped. Each turn runs through the middlewares (``bot.middleware``: counts, "typing…",
yours) around the handler; a turn that fails or times out still gets an apology, and is logged. Replies are
sent through the outbound port (``bot.outbound``) by the ``Courier``, outside the turns' slots.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from bot.delivery import Courier
from bot.inbox import Inbox, MemoryInbox
from bot.messages import ConversationRef, Message, Reply
from bot.middleware import Middleware
from bot.outbound import Outbound
from bot.turns import Handler, Turns

log = logging.getLogger(__name__)

__all__ = ["Handler", "Runtime"]


@dataclass(slots=True)
class _Lane:
    queue: asyncio.Queue[tuple[int, Message]]
    worker: asyncio.Task[None] | None = None


class Runtime:
    """Durable, ordered, concurrent, bounded turn handling between adapters and a handler (the pipeline)."""

    def __init__(
        self,
        handler: Handler,
        *,
        outbound: Outbound,
        inbox: Inbox | None = None,
        middlewares: Sequence[Middleware] = (),
        concurrency: int = 64,
        queue_size: int = 100,
        turn_timeout_s: float = 60.0,
        idle_lane_s: float = 30.0,
        courier: Courier | None = None,
    ) -> None:
        self.outbound = outbound
        self.inbox: Inbox = inbox or MemoryInbox()
        self.turns = Turns(
            handler, inbox=self.inbox, outbound=outbound, middlewares=middlewares, timeout_s=turn_timeout_s
        )
        self.queue_size = queue_size
        self.turn_timeout_s = turn_timeout_s
        self.idle_lane_s = idle_lane_s
        self.courier = courier or Courier(self.inbox, outbound)
        """Sends the replies; pass one built over the same inbox and port when others queue replies too (the desk)."""
        self._lanes: dict[ConversationRef, _Lane] = {}
        self._slots = asyncio.Semaphore(concurrency)
        self._closing = False
        self._pending = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def turns_done(self) -> int:
        return self.turns.done

    @property
    def turns_failed(self) -> int:
        return self.turns.failed

    @property
    def deliveries_failed(self) -> int:
        """Replies that could not be delivered after the courier's retries."""
        return self.courier.failed

    async def resume(self) -> int:
        """Queue the messages a previous run accepted but did not answer (in their order); how many.

        Call once, after the handler can run and before the adapters start receiving, so that older messages
        keep their place ahead of new ones; replies wait in the outbox until their channel is live.
        """
        restored = await self.inbox.pending(refetch=self.outbound.fetch)
        for seq, message in restored:
            await self._enqueue(seq, message)
        if restored:
            log.info("resumed %d messages accepted before the last stop", len(restored))
        self.courier.start()
        await self.courier.sweep()
        return len(restored)

    async def deliver(self, conversation: ConversationRef, reply: Reply, *, key: str | None = None) -> None:
        """Queue ``reply`` for ``conversation`` outside a turn (an operator's answer); ``key`` makes it idempotent."""
        await self.courier.deliver(conversation, reply, key=key)

    async def dispatch(self, message: Message) -> bool:
        """Keep ``message`` and queue it behind earlier ones of its conversation; False for a redelivery.

        Returns once the message is durably accepted (waits while its conversation's queue is full): the
        adapter may acknowledge it to the platform then. While stopping, a message is kept in the inbox but not
        queued: the next start answers it (a channel still polling when SIGTERM came loses nothing).
        """
        seq = await self.inbox.accept(message)
        if seq is None:
            log.info("dropped duplicate message %s in %s", message.message_id, message.conversation)
            return False
        if self._closing:
            log.info("kept a message in %s for the next start (stopping)", message.conversation)
            return True
        await self._enqueue(seq, message)
        return True

    async def join(self) -> None:
        """Wait until every queued message has been answered and its reply handed to its channel."""
        await self._idle.wait()
        await self.courier.idle()

    async def stop(self, *, drain_timeout_s: float = 10.0) -> None:
        """Refuse new messages, answer and deliver the queued ones (up to ``drain_timeout_s``), then stop.

        What is left unanswered or undelivered stays in the inbox for the next start.
        """
        self._closing = True
        try:
            await asyncio.wait_for(self._idle.wait(), drain_timeout_s)
        except TimeoutError:
            log.warning("stopped with %d unanswered messages (kept for the next start)", self._pending)
        workers = [lane.worker for lane in self._lanes.values() if lane.worker is not None]
        for worker in workers:
            worker.cancel()
        if workers:
            _, stuck = await asyncio.wait(workers, timeout=drain_timeout_s)
            if stuck:  # a library that swallowed the cancel: stopping must not hang on it
                log.warning("%d conversation workers did not stop within %g s", len(stuck), drain_timeout_s)
        await self.courier.stop(timeout_s=drain_timeout_s)

    async def _enqueue(self, seq: int, message: Message) -> None:
        self.courier.start()
        lane = self._lanes.get(message.conversation)
        if lane is None:
            lane = self._lanes[message.conversation] = _Lane(asyncio.Queue(self.queue_size))
        self._pending += 1
        self._idle.clear()
        try:
            await lane.queue.put((seq, message))
        except BaseException:
            self._finished()
            raise
        if lane.worker is None or lane.worker.done():
            lane.worker = asyncio.create_task(self._drain(message.conversation, lane))

    async def _drain(self, conversation: ConversationRef, lane: _Lane) -> None:
        while True:
            try:
                seq, message = await asyncio.wait_for(lane.queue.get(), self.idle_lane_s)
            except TimeoutError:
                if lane.queue.empty() and self._lanes.get(conversation) is lane:
                    del self._lanes[conversation]
                return
            try:
                async with self._slots:
                    reply = await self.turns.answer(message)
                await self._complete(seq, message, reply)
            finally:
                lane.queue.task_done()
                self._finished()

    def _finished(self) -> None:
        self._pending -= 1
        if self._pending == 0:
            self._idle.set()

    async def _complete(self, seq: int, message: Message, reply: Reply | None) -> None:
        if await self.turns.record(seq, message, reply) and reply is not None:
            self.courier.kick(message.conversation)
