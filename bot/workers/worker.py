"""``Worker``: reads the stream's triggers, answers each conversation's queue in order under its lease.

    worker = Worker(stream, turns, leases, name="w1", metrics=metrics)
    task = asyncio.create_task(worker.run())
    ...
    await worker.stop()          # SIGTERM: finish the turns running, hand the rest back

A trigger (a stream entry) only says "conversation C has a message". The worker that reads it takes C's lease
and answers C's queue oldest first until it is empty; the lease is released in the script that checks the
queue is empty, so a message accepted at that moment either keeps the lease busy or finds it free. A trigger
read while another worker holds C stays unacknowledged: that worker answers the message and its ``complete``
acknowledges the entry. Entries left idle ``claim_after_s`` (a dead worker's) are claimed by whoever looks next.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from bot.fencing import FENCE, Fence, LeaseLost
from bot.inbox.stream import Entry, StreamInbox
from bot.metrics import Metrics
from bot.turns import Turns
from bot.workers.leases import Leases, Released

log = logging.getLogger(__name__)

RETRY_S = (0.2, 0.5, 1.0, 2.0, 5.0)
"""Pauses of the read and claim loops while Redis does not answer (the last one repeats)."""


@dataclass
class WorkerStats:
    """What one worker did since it started (also in its Prometheus metrics)."""

    turns: int = 0
    claimed: int = 0
    dropped: int = 0
    """Turns whose answer was not recorded (the lease was lost, or the store failed for a minute): answered again."""
    handed_back: int = 0


class Worker:
    """One ``kefu worker``'s loop over the stream: ``run`` until ``stop``."""

    def __init__(
        self,
        stream: StreamInbox,
        turns: Turns,
        leases: Leases,
        *,
        name: str,
        metrics: Metrics | None = None,
        lanes: int = 16,
        concurrency: int = 64,
        claim_after_s: float = 30.0,
        block_ms: int = 1000,
    ) -> None:
        self.stream = stream
        self.turns = turns
        self.leases = leases
        self.name = name
        self.metrics = metrics
        self.lanes = lanes
        self.claim_after_ms = max(1, round(claim_after_s * 1000))
        self.block_ms = block_ms
        self.stats = WorkerStats()
        self._slots = asyncio.Semaphore(concurrency)
        self._lanes: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()
        self._held: dict[str, Fence] = {}
        self._lost: set[str] = set()
        self._room = asyncio.Event()
        self._room.set()
        self._stopping = False
        self._renewing = True
        self._loops: list[asyncio.Task[None]] = []
        self.ready = asyncio.Event()
        """Set once the worker has joined the group (it reads from then on)."""

    async def run(self) -> None:
        """Join the group, then read, claim and renew leases until ``stop``."""
        await self._retrying("joining the workers' group", partial(self.stream.join_group, self.name))
        self.ready.set()
        self._loops = [
            asyncio.create_task(self._read_forever()),
            asyncio.create_task(self._claim_forever()),
            asyncio.create_task(self._renew_forever()),
        ]
        try:
            await asyncio.gather(*self._loops)
        except asyncio.CancelledError:
            if not self._stopping:
                raise

    async def stop(self, *, drain_timeout_s: float = 10.0) -> None:
        """Stop reading; let running turns finish (at most ``drain_timeout_s``), release the leases and make the
        entries this worker holds claimable at once, so the other workers take them without waiting."""
        self._stopping = True
        for loop in self._loops[:2]:
            loop.cancel()
        lanes = list(self._lanes.values())
        if lanes:
            _, stuck = await asyncio.wait(lanes, timeout=drain_timeout_s)
            for lane in stuck:
                lane.cancel()
            if stuck:
                await asyncio.wait(stuck, timeout=drain_timeout_s)
                log.warning(
                    "worker %s: %d turns cut short at stop (their messages are handed back)", self.name, len(stuck)
                )
        self._renewing = False
        for loop in self._loops[2:]:
            loop.cancel()
        if self._loops:  # redis-py can swallow a cancel while it connects: the loops also check their flags
            _, stuck = await asyncio.wait(self._loops, timeout=drain_timeout_s)
            if stuck:
                log.warning("worker %s: %d loops did not stop within %g s", self.name, len(stuck), drain_timeout_s)
        for fence in list(self._held.values()):
            with contextlib.suppress(Exception):
                await self.leases.release(fence)
        try:
            self.stats.handed_back = await self.stream.hand_back(self.name, idle_ms=self.claim_after_ms * 100)
        except Exception:  # noqa: BLE001 - Redis is gone: the entries are claimed after claim_after_s instead
            log.warning("worker %s: could not hand its entries back; they are claimed after the timeout", self.name)
        log.info(
            "worker %s stopped after %d turns (%d entries handed back)",
            self.name,
            self.stats.turns,
            self.stats.handed_back,
        )

    async def idle(self) -> None:
        """Wait until no conversation is being answered here."""
        while self._lanes:
            await asyncio.wait(list(self._lanes.values()))

    def take(self, entries: list[Entry]) -> None:
        """Answer the conversations these entries announce (a lane per conversation; a running one goes on)."""
        for member in dict.fromkeys(entry.member for entry in entries):
            if member in self._lanes:
                self._again.add(member)
                continue
            self._lanes[member] = lane = asyncio.create_task(self._lane(member))
            lane.add_done_callback(partial(self._lane_done, member))
        if len(self._lanes) >= self.lanes:
            self._room.clear()

    def _lane_done(self, member: str, _: asyncio.Task[None]) -> None:
        self._lanes.pop(member, None)
        self._again.discard(member)
        if len(self._lanes) < self.lanes:
            self._room.set()

    async def _read_forever(self) -> None:
        failures = 0
        while not self._stopping:
            await self._room.wait()
            try:
                entries = await self.stream.read(
                    self.name, count=max(1, self.lanes - len(self._lanes)), block_ms=self.block_ms
                )
                entries = await self.stream.unanswered(entries)
            except Exception as error:  # noqa: BLE001 - Redis restarting: wait and read again
                failures = await self._pause("reading the stream", error, failures)
                continue
            failures = 0
            self.take(entries)

    async def _claim_forever(self) -> None:
        failures = 0
        every_s = min(2.0, self.claim_after_ms / 4000)
        while not self._stopping:
            await asyncio.sleep(every_s)
            try:
                room = max(10, self.lanes - len(self._lanes))
                fresh = await self.stream.unanswered(
                    await self.stream.claim(self.name, idle_ms=self.claim_after_ms, count=room)
                )
                if self.metrics is not None:
                    stats = await self.stream.stats()
                    self.metrics.stream_lag.set(stats.lag)
                    self.metrics.stream_pending.set(stats.pending)
            except Exception as error:  # noqa: BLE001 - Redis restarting: wait and claim again
                failures = await self._pause("claiming idle entries", error, failures)
                continue
            failures = 0
            if fresh:
                self.stats.claimed += len(fresh)
                if self.metrics is not None:
                    self.metrics.stream_claims.inc(len(fresh))
                log.info("worker %s claimed %d idle entries", self.name, len(fresh))
                self.take(fresh)

    async def _renew_forever(self) -> None:
        every_s = self.leases.lease_ms / 3000
        while self._renewing:
            await asyncio.sleep(every_s)
            try:
                lost = await self.leases.renew(list(self._held.values()))
            except Exception:  # Redis restarting: the fenced writes refuse if a lease runs out
                log.warning("worker %s could not renew its leases", self.name, exc_info=True)
                continue
            for fence in lost:
                member = next((m for m, held in self._held.items() if held == fence), None)
                if member is not None:
                    self._lost.add(member)
                    log.warning("worker %s lost the lease of %s", self.name, member)

    async def _lane(self, member: str) -> None:
        while not self._stopping:
            try:
                fence = await self.leases.acquire(member)
            except Exception:  # Redis restarting: an entry stays pending and is claimed later
                log.warning("worker %s could not take the lease of %s", self.name, member, exc_info=True)
                return
            if fence is None:
                return  # another worker answers it; our entry is acknowledged by its complete
            self._held[member] = fence
            try:
                await self._answer_queue(member, fence)
            except Exception:  # the lease runs out and the entries are claimed again
                log.warning("worker %s stopped answering %s", self.name, member, exc_info=True)
                return
            finally:
                self._held.pop(member, None)
                self._lost.discard(member)
            if member not in self._again:  # a trigger that came while the lane finished: look at the queue again
                return
            self._again.discard(member)

    async def _answer_queue(self, member: str, fence: Fence) -> None:
        """Answer ``member``'s queue under ``fence`` until it is empty (the lease is released then), the lease is
        lost, or the worker stops."""
        queue = self.stream.queue_key(member)
        failures = 0
        token = FENCE.set(fence)
        try:
            while True:
                if self._stopping:
                    await self.leases.release(fence)
                    return
                if member in self._lost:
                    return
                head = await self.stream.head(member)
                if head is None:
                    released = await self.leases.release(fence, unless_queued=queue)
                    if released is Released.BUSY:
                        continue
                    return
                seq, message = head
                try:
                    async with self._slots:
                        reply = await self.turns.answer(message)
                except LeaseLost as lost:
                    log.warning("worker %s: %s", self.name, lost)
                    self.stats.dropped += 1
                    return
                except Exception as error:  # noqa: BLE001 - the store is away (Turns lets only that through)
                    failures = await self._pause(f"a turn in {member} (the store)", error, failures)
                    continue  # the message is still first in the queue; the fenced writes guard the lease
                failures = 0
                if not await self.turns.record(seq, message, reply):
                    self.stats.dropped += 1
                    await self.leases.release(fence)
                    return
                self.stats.turns += 1
                if self.metrics is not None:
                    self.metrics.worker_turns.labels(worker=self.name).inc()
        finally:
            FENCE.reset(token)

    async def _retrying(self, what: str, step: Callable[[], Awaitable[None]]) -> None:
        failures = 0
        while True:
            try:
                await step()
                return
            except Exception as error:  # noqa: BLE001 - Redis not up yet
                failures = await self._pause(what, error, failures)

    async def _pause(self, what: str, error: Exception, failures: int) -> int:
        pause = RETRY_S[min(failures, len(RETRY_S) - 1)]
        log.warning("worker %s: %s failed (%s); trying again in %g s", self.name, what, error, pause)
        await asyncio.sleep(pause)
        return failures + 1
