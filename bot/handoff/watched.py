"""A desk whose changes are shown somewhere else too: ``WatchedDesk`` wraps the desk of record (the SQLite one)
and tells a ``DeskWatcher`` (the Slack hand-off channel) about every ticket opened, message posted and move made.

    desk = WatchedDesk(SqliteDesk(db, store, deliver=courier.deliver), watcher=front)
    Conversations(pipeline=pipeline, store=store, desk=desk)

The desk of record stays the truth (state machine, outbox, crash safety); a watcher that fails is logged and never
fails the shopper's turn. ``run_outbox`` runs the inner desk's outbox and, beside it, lets the watcher catch up
every ``follow_s`` (``resync``: tickets opened while it was down, tickets moved by another process such as
``kefu handoff take`` from a terminal).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Sequence
from typing import Protocol

from bot.handoff.base import HandoffDesk, Ticket, TicketMessage, TicketState
from bot.messages import ConversationRef
from bot.pii import mask_pii
from bot.sessions.base import Turn

log = logging.getLogger(__name__)


class DeskWatcher(Protocol):
    """Shows tickets elsewhere; every method is called after the desk of record changed."""

    async def opened(self, ticket: Ticket, transcript: Sequence[Turn]) -> None:
        """A ticket was opened with ``transcript`` (the conversation so far, masked)."""
        ...

    async def posted(self, ticket: Ticket, message: TicketMessage, *, key: str | None = None) -> None:
        """A shopper's (or, while the ticket waits, the bot's) message was added to the ticket; the same ``key``
        again is the same message (a turn handled again after a crash)."""
        ...

    async def changed(self, ticket: Ticket) -> None:
        """The ticket was taken, replied to or resolved through this desk."""
        ...

    async def resync(self, desk: HandoffDesk) -> None:
        """Catch up with ``desk`` (tickets opened or moved while the watcher was down, or by another process);
        called at start and then every ``follow_s``, so it should touch only what changed."""
        ...

    async def aclose(self) -> None:
        """Stop the work still running in the background."""
        ...


class WatchedDesk:
    """``HandoffDesk`` that delegates to ``inner`` and tells ``watcher`` what changed."""

    def __init__(self, inner: HandoffDesk, *, watcher: DeskWatcher, follow_s: float = 2.0) -> None:
        self.inner = inner
        self.watcher = watcher
        self.follow_s = follow_s
        """How often the watcher looks for changes made elsewhere (``kefu handoff`` in a terminal)."""

    async def open(
        self, *, conversation: ConversationRef, user_id: str, reason: str, language: str, transcript: Sequence[Turn]
    ) -> Ticket:
        ticket = await self.inner.open(
            conversation=conversation, user_id=user_id, reason=reason, language=language, transcript=transcript
        )
        masked = [Turn(t.role, mask_pii(t.text), t.intent, t.at) for t in transcript]
        await self._tell("opened", self.watcher.opened(ticket, masked), ticket)
        return ticket

    async def get(self, ticket_id: int) -> Ticket:
        return await self.inner.get(ticket_id)

    async def post(self, ticket_id: int, text: str, *, author: str = "shopper", key: str | None = None) -> None:
        await self.inner.post(ticket_id, text, author=author, key=key)
        ticket = await self.inner.get(ticket_id)
        message = TicketMessage(author, mask_pii(text), time.time())
        await self._tell("posted", self.watcher.posted(ticket, message, key=key), ticket)

    async def take(self, ticket_id: int, *, operator: str) -> Ticket:
        ticket = await self.inner.take(ticket_id, operator=operator)
        await self._tell("changed", self.watcher.changed(ticket), ticket)
        return ticket

    async def reply(self, ticket_id: int, text: str, *, operator: str, key: str | None = None) -> Ticket:
        before = await self.inner.get(ticket_id)
        ticket = await self.inner.reply(ticket_id, text, operator=operator, key=key)
        if ticket.state is not before.state:
            await self._tell("changed", self.watcher.changed(ticket), ticket)
        return ticket

    async def resolve(self, ticket_id: int, *, operator: str) -> Ticket:
        ticket = await self.inner.resolve(ticket_id, operator=operator)
        await self._tell("changed", self.watcher.changed(ticket), ticket)
        return ticket

    async def tickets(self, *, states: Sequence[TicketState] = (TicketState.OPEN, TicketState.TAKEN)) -> list[Ticket]:
        return await self.inner.tickets(states=states)

    async def messages(self, ticket_id: int) -> list[TicketMessage]:
        return await self.inner.messages(ticket_id)

    async def run_outbox(self) -> None:
        """Deliver queued operator replies until cancelled; beside that, let the watcher catch up now and then every
        ``follow_s``."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._follow())
            group.create_task(self.inner.run_outbox())

    async def _follow(self) -> None:
        task = asyncio.current_task()
        while True:
            try:
                await self.watcher.resync(self.inner)
            except Exception:  # a busy store or an unreachable platform must not stop the loop
                if task is None or not task.cancelling():
                    log.exception("handoff: the desk's watcher could not catch up; it tries again")
            if task is not None and task.cancelling():  # a client library swallowed the cancel: stop all the same
                raise asyncio.CancelledError
            await asyncio.sleep(self.follow_s)

    async def forget_user(self, user_id: str) -> int:
        return await self.inner.forget_user(user_id)

    async def purge(self, *, older_than_days: float) -> int:
        return await self.inner.purge(older_than_days=older_than_days)

    async def aclose(self) -> None:
        await self.watcher.aclose()

    async def _tell(self, what: str, call: Awaitable[None], ticket: Ticket) -> None:
        try:
            await call
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception(
                "handoff: the desk's watcher failed on ticket %d (%s); the ticket itself is kept", ticket.id, what
            )
