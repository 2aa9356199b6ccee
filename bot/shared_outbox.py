"""``Tenure``: the delivery leases one courier holds when several fronts share an outbox (worker mode).

A courier lane takes its conversation's lease before it reads the outbox, checks it before each send, and gives it
back at the end; ``renew_forever`` keeps the held ones alive meanwhile. A lane cancelled by a crash leaves its lease
to run out; ``release_all`` gives back what a stopping courier still holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from bot.fencing import Fence
from bot.inbox.base import member
from bot.messages import ConversationRef

log = logging.getLogger(__name__)

BUSY_POLL_S = 0.05
"""How often a lane asks again for a lease another front holds."""


class DeliveryLeases(Protocol):
    """Who delivers a conversation now, when several fronts share the outbox (``bot.workers.leases.Leases``)."""

    lease_ms: int

    async def acquire(self, member: str) -> Fence | None:
        """The lease of conversation ``member``, or None while another front holds it."""
        ...

    async def renew(self, fences: list[Fence]) -> list[Fence]:
        """Extend the leases; the ones no longer held."""
        ...

    async def release(self, fence: Fence) -> object:
        """Give the lease up (nothing when it is no longer held)."""
        ...


class Tenure:
    """The delivery leases this courier holds, by conversation."""

    def __init__(self, leases: DeliveryLeases, *, wait_s: float) -> None:
        self.leases = leases
        self.wait_s = wait_s
        """How long a lane asks again for a lease another front holds (it may be just finishing)."""
        self.held: dict[ConversationRef, Fence] = {}
        self._lost: set[ConversationRef] = set()

    async def take(self, conversation: ConversationRef) -> Fence | None:
        """The conversation's lease, or None when another front kept it for ``wait_s`` (or Redis is away: the
        sweep tries again)."""
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + self.wait_s
        while True:
            try:
                fence = await self.leases.acquire(member(conversation))
            except Exception:  # Redis away: the sweep tries again
                log.warning("could not take the delivery lease of %s", conversation, exc_info=True)
                return None
            if fence is not None:
                self.held[conversation] = fence
                return fence
            if loop.time() >= give_up_at:
                return None
            await asyncio.sleep(BUSY_POLL_S)

    async def still_held(self, conversation: ConversationRef, fence: Fence) -> bool:
        """Renew the lease just before a send: a front that lost it (stalled past its time) must not send."""
        try:
            held = conversation not in self._lost and not await self.leases.renew([fence])
        except Exception:  # Redis away: the send could not be recorded either
            log.warning("could not renew the delivery lease of %s", conversation, exc_info=True)
            return False
        if not held:
            log.warning("the delivery lease of %s moved to another front; this front stops sending it", conversation)
        return held

    async def give_back(self, conversation: ConversationRef, fence: Fence) -> bool:
        """Release the lease (compare-and-delete); False when Redis did not answer (the lease then runs out)."""
        self.held.pop(conversation, None)
        self._lost.discard(conversation)
        try:
            await self.leases.release(fence)
        except Exception:  # Redis away: the lease runs out after its time
            log.warning("could not release the delivery lease of %s", conversation, exc_info=True)
            return False
        return True

    async def renew_forever(self) -> None:
        """Keep the held leases alive while their lanes run (a slow send, a ``retry_after`` wait)."""
        while True:
            await asyncio.sleep(self.leases.lease_ms / 3000)
            held = dict(self.held)
            try:
                lost = await self.leases.renew(list(held.values()))
            except Exception:  # Redis restarting: each send checks its lease first
                log.warning("could not renew the delivery leases", exc_info=True)
                continue
            self._lost.update(conversation for conversation, fence in held.items() if fence in lost)

    async def release_all(self) -> None:
        """Give back the leases of lanes cancelled at a stop."""
        for fence in list(self.held.values()):
            with contextlib.suppress(Exception):  # Redis gone: the lease runs out instead
                await self.leases.release(fence)
        self.held.clear()
