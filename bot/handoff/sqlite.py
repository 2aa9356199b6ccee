"""The built-in handoff desk: tickets and an outbox in the store's SQLite file, driven by ``kefu handoff``.

Operator replies are written to the outbox. In the bot's own process they are delivered at once through
``deliver``; written by ``kefu handoff reply`` (another process, ``deliver=None``) they wait until the running
bot's ``run_outbox`` loop picks them up (every ``store.outbox_poll_s`` seconds).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import aiosqlite

from bot.handoff.base import Deliver, HandoffError, Ticket, TicketMessage, TicketState
from bot.handoff.moves import OperatorMoves
from bot.messages import ConversationRef, Reply
from bot.pii import mask_pii
from bot.sessions.base import Turn
from bot.sessions.sqlite import Database, SqliteSessionStore, days_ago

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT NOT NULL,
    language TEXT NOT NULL,
    operator TEXT,
    opened_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS tickets_state ON tickets (state);
CREATE TABLE IF NOT EXISTS ticket_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    author TEXT NOT NULL,
    text TEXT NOT NULL,
    at REAL NOT NULL,
    key TEXT
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    text TEXT NOT NULL,
    language TEXT NOT NULL,
    created_at REAL NOT NULL,
    claimed_at REAL,
    author TEXT,
    key TEXT
);
"""


def _ticket(row: Any) -> Ticket:
    return Ticket(
        id=row["id"],
        conversation=ConversationRef(row["channel"], row["conversation_id"]),
        user_id=row["user_id"],
        state=TicketState(row["state"]),
        reason=row["reason"],
        language=row["language"],
        opened_at=row["opened_at"],
        updated_at=row["updated_at"],
        operator=row["operator"],
    )


class SqliteDesk(OperatorMoves):
    """``HandoffDesk`` over the store's ``Database``; keeps the sessions' hand-off state in step with its tickets."""

    def __init__(
        self,
        db: Database,
        sessions: SqliteSessionStore,
        *,
        deliver: Deliver | None = None,
        stale_claim_s: float = 60.0,
        poll_s: float = 2.0,
    ) -> None:
        self.db = db
        self.sessions = sessions
        self.deliver = deliver
        """Where operator replies go; None in a process that only queues them (``kefu handoff reply``)."""
        self.stale_claim_s = stale_claim_s
        """A claimed operator message not handed over after this long is claimed again (its process died)."""
        self.poll_s = poll_s
        """How often ``run_outbox`` looks for replies queued by another process."""

    async def setup(self) -> None:
        await self.db.script(_SCHEMA)
        columns = {row["name"] for row in await self.db.fetch("PRAGMA table_info(outbox)")}
        if "author" not in columns:  # a store written before operator replies carried their author
            await self.db.script("ALTER TABLE outbox ADD COLUMN author TEXT")
        if "key" not in columns:  # a store written before replies carried an idempotency key
            await self.db.script("ALTER TABLE outbox ADD COLUMN key TEXT")
        columns = {row["name"] for row in await self.db.fetch("PRAGMA table_info(ticket_messages)")}
        if "key" not in columns:
            await self.db.script("ALTER TABLE ticket_messages ADD COLUMN key TEXT")
        await self.db.script(
            "CREATE UNIQUE INDEX IF NOT EXISTS ticket_messages_key ON ticket_messages (ticket_id, key)"
        )

    async def open(
        self, *, conversation: ConversationRef, user_id: str, reason: str, language: str, transcript: Sequence[Turn]
    ) -> Ticket:
        async with self.db.transaction() as c:
            found = await (
                await c.execute(
                    "SELECT id FROM tickets WHERE channel = ? AND conversation_id = ? AND state IN (?, ?)",
                    (
                        conversation.channel,
                        conversation.conversation_id,
                        TicketState.OPEN.value,
                        TicketState.TAKEN.value,
                    ),
                )
            ).fetchone()
            ticket_id = (
                int(found["id"])
                if found
                else await self._insert(c, conversation, user_id, reason, language, transcript, now=time.time())
            )
        if found:
            log.info("ticket %d is already open for %s: not opening another", ticket_id, conversation)
        else:
            log.info("opened ticket %d for %s: %s", ticket_id, conversation, reason)
        return await self.get(ticket_id)

    @staticmethod
    async def _insert(
        c: aiosqlite.Connection,
        conversation: ConversationRef,
        user_id: str,
        reason: str,
        language: str,
        transcript: Sequence[Turn],
        *,
        now: float,
    ) -> int:
        cursor = await c.execute(
            "INSERT INTO tickets (channel, conversation_id, user_id, state, reason, language, opened_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                conversation.channel,
                conversation.conversation_id,
                user_id,
                TicketState.OPEN.value,
                reason,
                language,
                now,
                now,
            ),
        )
        ticket_id = int(cursor.lastrowid or 0)
        await c.executemany(
            "INSERT INTO ticket_messages (ticket_id, author, text, at) VALUES (?, ?, ?, ?)",
            [(ticket_id, "shopper" if t.role == "user" else t.role, mask_pii(t.text), t.at) for t in transcript],
        )
        return ticket_id

    async def get(self, ticket_id: int) -> Ticket:
        rows = await self.db.fetch("SELECT * FROM tickets WHERE id = ?", (ticket_id,))
        if not rows:
            raise HandoffError(f"ticket {ticket_id} not found")
        return _ticket(rows[0])

    async def tickets(self, *, states: Sequence[TicketState] = (TicketState.OPEN, TicketState.TAKEN)) -> list[Ticket]:
        """Tickets in ``states``, oldest first."""
        marks = ",".join("?" * len(states))
        rows = await self.db.fetch(
            f"SELECT * FROM tickets WHERE state IN ({marks}) ORDER BY id", [s.value for s in states]
        )
        return [_ticket(row) for row in rows]

    async def messages(self, ticket_id: int) -> list[TicketMessage]:
        rows = await self.db.fetch(
            "SELECT author, text, at FROM ticket_messages WHERE ticket_id = ? ORDER BY id", (ticket_id,)
        )
        return [TicketMessage(row["author"], row["text"], row["at"]) for row in rows]

    async def post(self, ticket_id: int, text: str, *, author: str = "shopper", key: str | None = None) -> None:
        async with self.db.transaction() as c:
            await c.execute(
                "INSERT INTO ticket_messages (ticket_id, author, text, at, key) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (ticket_id, key) DO NOTHING",
                (ticket_id, author, mask_pii(text), time.time(), key),
            )

    async def _move(self, ticket_id: int, state: TicketState, operator: str) -> Ticket:
        ticket = await self.get(ticket_id)
        if ticket.state is TicketState.RESOLVED:
            raise HandoffError(f"ticket {ticket_id} is already resolved")
        async with self.db.transaction() as c:
            await c.execute(
                "UPDATE tickets SET state = ?, operator = ?, updated_at = ? WHERE id = ?",
                (state.value, operator, time.time(), ticket_id),
            )
        await self.sessions.set_handoff(str(ticket.conversation), state.handoff, ticket_id)
        log.info("ticket %d: %s by %s", ticket_id, state.value, operator)
        return await self.get(ticket_id)

    async def _queue(self, ticket: Ticket, text: str, *, author: str | None = None, key: str | None = None) -> None:
        """Queue ``text`` for the shopper: an operator's words (``author``) or the desk's notice (None)."""
        async with self.db.transaction() as c:
            await c.execute(
                "INSERT INTO outbox (ticket_id, channel, conversation_id, text, language, created_at, author, key)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    ticket.id,
                    ticket.conversation.channel,
                    ticket.conversation.conversation_id,
                    text,
                    ticket.language,
                    time.time(),
                    author,
                    key,
                ),
            )
        if self.deliver is not None:
            await self.deliver_pending()

    async def deliver_pending(self) -> int:
        """Hand every queued operator message to ``deliver``, oldest first; how many were handed over.

        Each row is claimed before it is handed over, so two bot processes never take the same reply, and deleted
        after (the ticket keeps the operator's words, masked). A claim older than ``stale_claim_s`` (its process
        died) is taken again: ``deliver`` queues a row's reply once whatever the number of tries (its ``key``).
        """
        if self.deliver is None:
            return 0
        now = time.time()
        async with self.db.transaction() as c:
            rows = await (
                await c.execute(
                    "SELECT * FROM outbox WHERE claimed_at IS NULL OR claimed_at < ? ORDER BY id",
                    (now - self.stale_claim_s,),
                )
            ).fetchall()
            claimed = []
            for row in rows:
                cursor = await c.execute(
                    "UPDATE outbox SET claimed_at = ? WHERE id = ? AND claimed_at IS ?",
                    (now, row["id"], row["claimed_at"]),
                )
                if cursor.rowcount:
                    claimed.append(row)
        for row in claimed:
            reply = Reply(
                text=row["text"],
                language=row["language"],
                reason=f"operator message, ticket {row['ticket_id']}",
                author=row["author"],
            )
            try:
                await self.deliver(
                    ConversationRef(row["channel"], row["conversation_id"]),
                    reply,
                    key=f"ticket-reply:{row['key']}" if row["key"] else f"ticket-outbox:{row['id']}",
                )
            except Exception:
                log.exception("could not queue an operator message of ticket %d", row["ticket_id"])
                continue
            async with self.db.transaction() as c:
                await c.execute("DELETE FROM outbox WHERE id = ?", (row["id"],))
        return len(claimed)

    async def forget_user(self, user_id: str) -> int:
        """Delete the tickets (messages and outbox included) of ``user_id``; how many."""
        return await self.db.change("DELETE FROM tickets WHERE user_id = ?", (user_id,))

    async def purge(self, *, older_than_days: float) -> int:
        """Delete resolved tickets last touched more than ``older_than_days`` ago."""
        return await self.db.change(
            "DELETE FROM tickets WHERE state = ? AND updated_at < ?",
            (TicketState.RESOLVED.value, days_ago(older_than_days)),
        )
