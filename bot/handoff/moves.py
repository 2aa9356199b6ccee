"""The operator's moves (take, reply, resolve) and the outbox loop, the same on every store: a desk supplies
``get``, ``post``, ``_move`` (change the state, keep the session in step), ``_queue`` (queue a text for the
shopper) and ``deliver_pending``."""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod

from bot.generation.templates import say
from bot.handoff.base import HandoffError, Ticket, TicketState

log = logging.getLogger(__name__)


class OperatorMoves(ABC):
    """Base of the built-in desks (SQLite, Redis)."""

    poll_s: float
    """How often ``run_outbox`` looks for replies queued by another process."""

    @abstractmethod
    async def get(self, ticket_id: int) -> Ticket: ...

    @abstractmethod
    async def post(self, ticket_id: int, text: str, *, author: str = "shopper", key: str | None = None) -> None: ...

    @abstractmethod
    async def _move(self, ticket_id: int, state: TicketState, operator: str) -> Ticket: ...

    @abstractmethod
    async def _queue(self, ticket: Ticket, text: str, *, author: str | None = None, key: str | None = None) -> None: ...

    @abstractmethod
    async def deliver_pending(self) -> int: ...

    async def take(self, ticket_id: int, *, operator: str) -> Ticket:
        ticket = await self._move(ticket_id, TicketState.TAKEN, operator)
        await self._queue(ticket, say("operator_joined", ticket.language))
        return ticket

    async def reply(self, ticket_id: int, text: str, *, operator: str, key: str | None = None) -> Ticket:
        """Relay ``text`` to the shopper; an open ticket is taken by ``operator`` first. The shopper gets a reply
        with a ``key`` once, however often it is relayed (within the inbox's dedupe window)."""
        if not text.strip():
            raise HandoffError("the reply is empty")
        ticket = await self.get(ticket_id)
        if ticket.state is TicketState.OPEN:
            ticket = await self.take(ticket_id, operator=operator)
        elif ticket.state is TicketState.RESOLVED:
            raise HandoffError(f"ticket {ticket_id} is resolved; the shopper is talking to the bot again")
        await self.post(ticket_id, text, author="operator", key=f"reply:{key}" if key else None)
        await self._queue(ticket, text, author=operator, key=key)
        return ticket

    async def resolve(self, ticket_id: int, *, operator: str) -> Ticket:
        ticket = await self._move(ticket_id, TicketState.RESOLVED, operator)
        await self._queue(ticket, say("operator_left", ticket.language))
        return ticket

    async def run_outbox(self) -> None:
        """Deliver queued operator messages every ``poll_s`` forever (a task the app starts and cancels)."""
        task = asyncio.current_task()
        while True:
            try:
                await self.deliver_pending()
            except Exception:  # a busy database or a restarting Redis must not stop the loop
                if task is None or not task.cancelling():
                    log.exception("outbox delivery failed")
            if task is not None and task.cancelling():  # a client library swallowed the cancel: stop all the same
                raise asyncio.CancelledError
            await asyncio.sleep(self.poll_s)
