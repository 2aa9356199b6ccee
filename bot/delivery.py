"""The courier: sends the outbox's replies, conversation by conversation in order, apart from the turns.

A delivery never holds a turn's slot, so a channel waiting out a rate limit (Telegram's ``retry_after``)
slows only its own conversations. A channel that cannot deliver yet (``DeliveryDeferred``: a browser that is
reconnecting, a channel not started) keeps the reply for later; a failure is retried with growing pauses and
given up (logged, counted) after ``max_attempts``. Replies are deleted from the outbox only once sent.

Several fronts on one outbox (worker mode) share it through ``leases``: a lane takes the conversation's delivery
lease before it reads the head and keeps it (renewed) until the conversation has nothing due, so one front at a
time sends a conversation's replies, in order. A front that cannot deliver a reply itself (the browser's socket is
on another front) holds that conversation back here for ``deferral_s``, releases the lease and ``announce``s it,
so the front that can takes it at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from enum import Enum

from bot.errors import DeliveryDeferred
from bot.inbox.base import STORE_CALL_S, Inbox, Outgoing
from bot.messages import ConversationRef, Reply
from bot.outbound import Outbound
from bot.shared_outbox import DeliveryLeases, Tenure

log = logging.getLogger(__name__)

END_S = 6.0
"""How long a stop waits for the courier's sweep or lease renewal to end."""
END_TRIES = 3
MARK_RETRIES_S = (0.2, 1.0, 5.0)
"""The pauses before recording a sent reply again when the store fails."""


class _Then(Enum):
    """What a lane does after one reply."""

    NEXT = "next"
    STOP = "stop"
    PASS = "pass"
    """Deferred here: leave the conversation to the other fronts for ``deferral_s``."""


class Courier:
    """Delivers queued replies through the outbound port; ``kick`` a conversation when it has a new reply."""

    def __init__(
        self,
        inbox: Inbox,
        outbound: Outbound,
        *,
        max_attempts: int = 6,
        backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
        deferral_s: float = 1.0,
        keep_deferred_s: float = 86400.0,
        sweep_s: float = 1.0,
        concurrency: int = 256,
        clock: Callable[[], float] = time.time,
        observer: Callable[[str, float], None] | None = None,
        leases: DeliveryLeases | None = None,
        announce: Callable[[ConversationRef], Awaitable[None]] | None = None,
    ) -> None:
        self._inbox = inbox
        self._outbound = outbound
        self._max_attempts = max_attempts
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._deferral_s = deferral_s
        self._keep_deferred_s = keep_deferred_s
        self._sweep_s = sweep_s
        self._clock = clock
        self._observer = observer
        """Told the seconds of each successful send, as stage ``delivery`` (the metrics' latency histogram)."""
        self._sending = asyncio.Semaphore(concurrency)
        self._lanes: dict[ConversationRef, asyncio.Task[None]] = {}
        self._again: set[ConversationRef] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._sweeper: asyncio.Task[None] | None = None
        self._tenure = None if leases is None else Tenure(leases, wait_s=sweep_s)
        self._announce = announce
        """Tells the other fronts that a conversation this one deferred is theirs to try (the replies channel)."""
        self._holds: dict[ConversationRef, float] = {}
        """Conversations deferred here under a lease, with the time this front tries them again."""
        self._renewer: asyncio.Task[None] | None = None
        self._stopping = False
        self.sent = 0
        self.failed = 0
        """Replies given up after ``max_attempts`` failed deliveries (or kept past ``keep_deferred_s``)."""

    def start(self) -> None:
        """Begin the periodic sweep that retries deferred and failed replies (and those left by a crash)."""
        self._stopping = False
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep_forever())
        if self._tenure is not None and self._renewer is None:
            self._renewer = asyncio.create_task(self._tenure.renew_forever())

    async def deliver(self, conversation: ConversationRef, reply: Reply, *, key: str | None = None) -> None:
        """Queue ``reply`` for ``conversation`` outside a turn (an operator's answer) and send it; ``key`` makes it
        idempotent (the same key is queued once). Fronts that share the outbox are all told: the one holding the
        shopper's connection may be another."""
        if not await self._inbox.post(conversation, reply, key=key):
            return
        if self._announce is not None:
            try:
                await self._announce(conversation)
                return
            except Exception:  # the sweeps of the other fronts find it
                log.warning("could not announce a reply to %s to the other fronts", conversation, exc_info=True)
        self.kick(conversation)

    def kick(self, conversation: ConversationRef) -> None:
        """Deliver what ``conversation`` has due, now (a lane already running picks it up)."""
        if conversation in self._holds:
            if self._holds[conversation] > self._clock():
                return
            del self._holds[conversation]
        if conversation in self._lanes:
            self._again.add(conversation)
            return
        self._idle.clear()
        lane = asyncio.create_task(self._lane(conversation))
        self._lanes[conversation] = lane
        lane.add_done_callback(lambda _: self._lane_done(conversation))

    async def sweep(self) -> None:
        """Kick every conversation whose next reply is due."""
        now = self._clock()
        self._holds = {conversation: until for conversation, until in self._holds.items() if until > now}
        for conversation in await self._inbox.due_conversations(now=now):
            self.kick(conversation)

    async def idle(self) -> None:
        """Wait until no delivery is running (replies waiting for a retry do not count)."""
        await self._idle.wait()

    async def stop(self, *, timeout_s: float) -> None:
        """Stop sweeping; give running deliveries ``timeout_s``, then cancel them (their replies stay queued) and
        release their leases."""
        self._stopping = True
        await self._end(self._sweeper, "outbox sweep")
        self._sweeper = None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout_s)
        lanes = list(self._lanes.values())
        for lane in lanes:
            lane.cancel()
        if lanes:
            _, stuck = await asyncio.wait(lanes, timeout=timeout_s)
            if stuck:  # a channel client that swallowed the cancel: stopping must not hang on it
                log.warning("%d delivery lanes did not stop within %g s", len(stuck), timeout_s)
        await self._end(self._renewer, "lease renewal")  # only now: the draining sends keep their leases
        self._renewer = None
        if self._tenure is not None:
            await self._tenure.release_all()

    @staticmethod
    async def _end(loop: asyncio.Task[None] | None, what: str) -> None:
        """Cancel ``loop`` and wait for it to end. redis-py can swallow a cancel while it reconnects (a Redis server
        restarting at the stop), so the cancel is sent again; a loop still running after ``END_S`` is left, with a
        warning: stopping must not hang on it."""
        if loop is None:
            return
        for _ in range(END_TRIES):
            loop.cancel()
            done, _ = await asyncio.wait({loop}, timeout=END_S / END_TRIES)
            if done:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    loop.result()
                return
        log.warning("the courier's %s did not stop within %g s; leaving it", what, END_S)

    def _lane_done(self, conversation: ConversationRef) -> None:
        self._lanes.pop(conversation, None)
        self._again.discard(conversation)
        if not self._lanes:
            self._idle.set()

    async def _sweep_forever(self) -> None:
        while not self._stopping:  # a cancel swallowed by a reconnecting client ends the loop at its next turn
            await asyncio.sleep(self._sweep_s)
            try:
                async with asyncio.timeout(STORE_CALL_S):  # a store call that never returns must not end the sweeps
                    await self.sweep()
            except Exception:  # a busy database must not end the sweeps
                log.exception("the outbox sweep failed")

    async def _lane(self, conversation: ConversationRef) -> None:
        tenure = self._tenure
        if tenure is None:
            await self._guarded(conversation, None)
            return
        fence = await tenure.take(conversation)
        if fence is None:
            return
        # cancelled here (a stop, a crash): the lease stays held for stop() to release, or runs out
        then = await self._guarded(conversation, lambda: tenure.still_held(conversation, fence))
        if await tenure.give_back(conversation, fence) and then is _Then.PASS and self._announce is not None:
            try:
                await self._announce(conversation)
            except Exception:  # the other fronts' sweeps find it instead
                log.warning("could not pass %s on to the other fronts", conversation, exc_info=True)

    async def _guarded(self, conversation: ConversationRef, still_held: Callable[[], Awaitable[bool]] | None) -> _Then:
        """``_deliver_due``, where a store error ends the lane (logged; the sweep tries again) and the lease is given
        back, instead of ending the task with the lease still held and renewed for good (the conversation stalled)."""
        try:
            return await self._deliver_due(conversation, still_held)
        except Exception:
            log.exception("delivering to %s stopped on an error; the outbox sweep tries again", conversation)
            return _Then.STOP

    async def _deliver_due(
        self, conversation: ConversationRef, still_held: Callable[[], Awaitable[bool]] | None
    ) -> _Then:
        """Send the conversation's due replies in order (checking its lease first when fronts share the outbox)."""
        while True:
            try:
                outgoing = await self._inbox.next_due(conversation, now=self._clock())
            except Exception:
                log.exception("could not read the outbox of %s", conversation)
                return _Then.STOP
            if outgoing is None:
                if conversation in self._again:
                    self._again.discard(conversation)
                    continue
                return _Then.STOP
            if still_held is not None and not await still_held():
                return _Then.STOP
            then = await self._send(outgoing)
            if then is not _Then.NEXT:
                return then

    async def _send(self, outgoing: Outgoing) -> _Then:
        """Try one reply; whether the lane goes on to the next one."""
        try:
            async with self._sending:
                started = time.perf_counter()
                await self._outbound.send(outgoing.conversation, outgoing.reply)
                if self._observer is not None:
                    self._observer("delivery", time.perf_counter() - started)
        except DeliveryDeferred as why:
            return await self._defer(outgoing, str(why))
        except Exception as error:  # noqa: BLE001 - any channel error: logged and retried by _failed
            return await self._failed(outgoing, error)
        await self._mark_delivered(outgoing)
        self.sent += 1
        return _Then.NEXT

    async def _mark_delivered(self, outgoing: Outgoing) -> None:
        """Record a sent reply as delivered, tried again on a store error (a busy or restarting Redis): a reply left
        unmarked is sent a second time by the next sweep."""
        for pause in (*MARK_RETRIES_S, None):
            try:
                async with asyncio.timeout(STORE_CALL_S):
                    await self._inbox.delivered(outgoing.id)
                return
            except Exception:
                if pause is None:
                    raise
                log.warning(
                    "could not record a reply to %s as sent; trying again in %g s",
                    outgoing.conversation,
                    pause,
                    exc_info=True,
                )
                await asyncio.sleep(pause)

    async def _defer(self, outgoing: Outgoing, why: str) -> _Then:
        now = self._clock()
        if now - outgoing.created_at > self._keep_deferred_s:
            log.warning(
                "dropped a reply to %s kept %.0f s without delivery (%s)",
                outgoing.conversation,
                now - outgoing.created_at,
                why,
            )
            await self._inbox.give_up(outgoing.id)
            self.failed += 1
            return _Then.NEXT
        log.debug("reply to %s deferred: %s", outgoing.conversation, why)
        if self._tenure is not None:  # another front may deliver it now: its due time stays
            self._holds[outgoing.conversation] = now + self._deferral_s
            return _Then.PASS
        await self._inbox.retry(outgoing.id, at=now + self._deferral_s, failed=False)
        return _Then.STOP

    async def _failed(self, outgoing: Outgoing, error: Exception) -> _Then:
        attempts = outgoing.attempts + 1
        if attempts >= self._max_attempts:
            log.error("gave up delivering a reply to %s after %d attempts: %s", outgoing.conversation, attempts, error)
            await self._inbox.give_up(outgoing.id)
            self.failed += 1
            return _Then.NEXT
        pause = min(self._max_backoff_s, self._backoff_s * 2 ** (attempts - 1))
        log.warning(
            "delivering a reply to %s failed (attempt %d of %d, next in %.0f s): %s",
            outgoing.conversation,
            attempts,
            self._max_attempts,
            pause,
            error,
        )
        await self._inbox.retry(outgoing.id, at=self._clock() + pause, failed=True)
        return _Then.STOP
