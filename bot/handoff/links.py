"""Where each ticket is shown on another desk (the Slack message of a ticket), kept in the store's SQLite file so
that a thread reply after a restart still finds its ticket and the ticket message is still updated in place."""

from __future__ import annotations

from typing import Any

from bot.handoff.base import FINAL_FACE, ShowState, TicketLink
from bot.sessions.sqlite import Database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ticket_links (
    desk TEXT NOT NULL,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    place TEXT NOT NULL,
    ref TEXT NOT NULL,
    intent TEXT,
    turns INTEGER NOT NULL DEFAULT 0,
    face TEXT,
    PRIMARY KEY (desk, ticket_id)
);
CREATE UNIQUE INDEX IF NOT EXISTS ticket_links_ref ON ticket_links (desk, place, ref);
CREATE TABLE IF NOT EXISTS ticket_link_posts (
    desk TEXT NOT NULL,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    shown INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (desk, ticket_id, key)
);
"""


class SqliteTicketLinks:
    """``TicketLinks`` in the store's database (next to the SQLite desk's tickets, deleted with them)."""

    def __init__(self, db: Database, *, desk: str) -> None:
        self.db = db
        self.desk = desk

    async def setup(self) -> None:
        await self.db.script(_SCHEMA)
        columns = {row["name"] for row in await self.db.fetch("PRAGMA table_info(ticket_links)")}
        if "face" not in columns:  # a store written before the shown face was kept
            await self.db.script("ALTER TABLE ticket_links ADD COLUMN face TEXT")

    async def add(self, link: TicketLink) -> None:
        async with self.db.transaction() as c:
            await c.execute(
                "INSERT OR REPLACE INTO ticket_links (desk, ticket_id, place, ref, intent, turns, face)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (self.desk, link.ticket_id, link.place, link.ref, link.intent, link.turns, link.face),
            )

    async def of_ticket(self, ticket_id: int) -> TicketLink | None:
        rows = await self.db.fetch(
            "SELECT * FROM ticket_links WHERE desk = ? AND ticket_id = ?", (self.desk, ticket_id)
        )
        return _link(rows[0]) if rows else None

    async def at(self, place: str, ref: str) -> TicketLink | None:
        rows = await self.db.fetch(
            "SELECT * FROM ticket_links WHERE desk = ? AND place = ? AND ref = ?", (self.desk, place, ref)
        )
        return _link(rows[0]) if rows else None

    async def showing(self, ticket_id: int, key: str) -> ShowState:
        rows = await self.db.fetch(
            "SELECT shown FROM ticket_link_posts WHERE desk = ? AND ticket_id = ? AND key = ?",
            (self.desk, ticket_id, key),
        )
        return ("shown" if rows[0]["shown"] else "begun") if rows else "new"

    async def mark(self, ticket_id: int, key: str, state: ShowState) -> None:
        await self.db.change(
            "INSERT INTO ticket_link_posts (desk, ticket_id, key, shown) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (desk, ticket_id, key) DO UPDATE SET shown = excluded.shown",
            (self.desk, ticket_id, key, int(state == "shown")),
        )

    async def shown(self, ticket_id: int, face: str | None) -> None:
        await self.db.change(
            "UPDATE ticket_links SET face = ? WHERE desk = ? AND ticket_id = ?", (face, self.desk, ticket_id)
        )

    async def following(self) -> list[TicketLink]:
        rows = await self.db.fetch(
            "SELECT * FROM ticket_links WHERE desk = ? AND (face IS NULL OR substr(face, 1, ?) != ?)",
            (self.desk, len(FINAL_FACE), FINAL_FACE),
        )
        return [_link(row) for row in rows]


def _link(row: Any) -> TicketLink:
    return TicketLink(row["ticket_id"], row["place"], row["ref"], row["intent"], row["turns"], row["face"])
