"""How many conversations from one client may open a hand-off ticket within a window.

A web chat shopper is anyone who opens a socket: twenty fresh sessions from one address could open twenty
tickets and bury the operators. Messages from such unverified senders carry ``Message.client`` (the web chat's
client address); escalations are counted per client, whether the shopper pressed "talk to a human" or typed it.
Platforms that vouch for their users (Telegram, Slack) leave ``client`` empty and are not counted here: a
conversation has at most one open ticket anyway.

The count is kept in the store, so that a restart does not forget it and every worker on one Redis server shares
it: ``SqliteTicketBudget`` here, ``bot.handoff.redis_budget.RedisTicketBudget`` on Redis. A store that cannot
answer lets the ticket open (a rate limit fails open) and says so in a warning.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot.sessions.sqlite import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketLimits:
    """Tickets per client: one address can be many shoppers behind a NAT, so keep these generous."""

    per_client: int = 5
    """Conversations from one client that may open a ticket within ``window_s``."""
    window_s: float = 600.0


class TicketBudget(Protocol):
    """Counts, per client, the conversations that opened a ticket within the window.

    A conversation already counted may ask again (the desk answers "already waiting"); others past the budget
    are refused until the oldest one leaves the window.
    """

    async def allow(self, client: str, conversation: str) -> bool:
        """Whether ``conversation`` (from ``client``) may open a ticket now; counts it when it may. True, with a
        warning, when the store cannot answer."""
        ...


def digest(value: str) -> str:
    """A fixed-size name for a client address or conversation (any length, any characters): 32 hex digits."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def failed_open(client: str, error: Exception) -> bool:
    """Log that the budget could not be read (so ``client``'s ticket opens uncounted); True."""
    log.warning(
        "ticket budget: the store did not answer (%s); the ticket of client %s opens uncounted", error, client[:80]
    )
    return True


_SCHEMA = """
CREATE TABLE IF NOT EXISTS ticket_budget (
    client TEXT NOT NULL,
    conversation TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (client, conversation)
);
CREATE INDEX IF NOT EXISTS ticket_budget_at ON ticket_budget (at);
"""


class SqliteTicketBudget:
    """``TicketBudget`` in the store's SQLite file (one process runs on it): a row per counted conversation, keyed
    by digests, deleted once it leaves the window."""

    def __init__(self, db: Database, limits: TicketLimits, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.limits = limits
        self.clock = clock
        """Wall-clock seconds: the rows outlive a restart."""

    async def setup(self) -> None:
        await self.db.script(_SCHEMA)

    async def allow(self, client: str, conversation: str) -> bool:
        who, which = digest(client), digest(conversation)
        now = self.clock()
        try:
            async with self.db.transaction() as c:
                await c.execute("DELETE FROM ticket_budget WHERE at < ?", (now - self.limits.window_s,))
                rows = await c.execute_fetchall("SELECT conversation FROM ticket_budget WHERE client = ?", (who,))
                counted = {row[0] for row in rows}
                if which in counted:
                    return True
                if len(counted) >= self.limits.per_client:
                    return False
                await c.execute(
                    "INSERT INTO ticket_budget (client, conversation, at) VALUES (?, ?, ?)", (who, which, now)
                )
                return True
        except sqlite3.Error as error:
            return failed_open(client, error)
