"""``SqliteInbox``: the durable inbox and reply outbox in the store's SQLite file (the embedded default).

Answered messages keep only their identity (for de-duplication, ``remember_s``); their text and attachment
bytes are deleted when the answer is queued, and a reply is deleted once its channel took it.
"""

from __future__ import annotations

import time

from bot.inbox.base import Outgoing, message_key
from bot.inbox.codec import Refetch, dump_message, dump_reply, load_message, load_reply, numbered
from bot.messages import ConversationRef, Message, Reply
from bot.sessions.sqlite import Database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS inbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT UNIQUE,
    record TEXT,
    accepted_at REAL NOT NULL,
    done_at REAL
);
CREATE INDEX IF NOT EXISTS inbox_open ON inbox (done_at, seq);
CREATE TABLE IF NOT EXISTS inbox_blobs (
    seq INTEGER NOT NULL REFERENCES inbox (seq) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (seq, position)
);
CREATE TABLE IF NOT EXISTS reply_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT UNIQUE,
    channel TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    reply TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    due_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS reply_outbox_conversation ON reply_outbox (channel, conversation_id, id);
CREATE INDEX IF NOT EXISTS reply_outbox_due ON reply_outbox (due_at);
CREATE TABLE IF NOT EXISTS posted_keys (key TEXT PRIMARY KEY, at REAL NOT NULL);
"""


class SqliteInbox:
    """``Inbox`` over a ``Database`` (normally the session store's own), durable across crashes and restarts."""

    def __init__(self, db: Database, *, remember_s: float = 2 * 86400) -> None:
        self.db = db
        self.remember_s = remember_s
        """How long an answered message's identity is kept to recognise a redelivery (Telegram retries for 24 h)."""

    async def setup(self) -> None:
        await self.db.script(_SCHEMA)

    async def accept(self, message: Message) -> int | None:
        record, blobs = dump_message(message)
        async with self.db.transaction() as c:
            cursor = await c.execute(
                "INSERT INTO inbox (key, record, accepted_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING",
                (message_key(message), record, time.time()),
            )
            if not cursor.rowcount:
                return None
            seq = int(cursor.lastrowid or 0)
            await c.executemany(
                "INSERT INTO inbox_blobs (seq, position, data) VALUES (?, ?, ?)",
                [(seq, position, data) for position, data in enumerate(blobs)],
            )
        return seq

    async def pending(self, *, refetch: Refetch) -> list[tuple[int, Message]]:
        rows = await self.db.fetch("SELECT seq, record FROM inbox WHERE done_at IS NULL ORDER BY seq")
        restored = []
        for row in rows:
            blobs = await self.db.fetch("SELECT data FROM inbox_blobs WHERE seq = ? ORDER BY position", (row["seq"],))
            restored.append((row["seq"], load_message(row["record"], [b["data"] for b in blobs], refetch=refetch)))
        return restored

    async def complete(self, seq: int, conversation: ConversationRef, reply: Reply | None) -> None:
        now = time.time()
        async with self.db.transaction() as c:
            await c.execute("UPDATE inbox SET done_at = ?, record = NULL WHERE seq = ?", (now, seq))
            await c.execute("DELETE FROM inbox_blobs WHERE seq = ?", (seq,))
            if reply is not None:
                await c.execute(
                    "INSERT INTO reply_outbox (key, channel, conversation_id, reply, created_at, due_at)"
                    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
                    (
                        f"turn:{seq}",
                        conversation.channel,
                        conversation.conversation_id,
                        dump_reply(numbered(reply)),
                        now,
                        now,
                    ),
                )

    async def post(self, conversation: ConversationRef, reply: Reply, *, key: str | None = None) -> bool:
        now = time.time()
        async with self.db.transaction() as c:
            if key is not None:
                cursor = await c.execute(
                    "INSERT INTO posted_keys (key, at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", (key, now)
                )
                if not cursor.rowcount:
                    return False
            await c.execute(
                "INSERT INTO reply_outbox (channel, conversation_id, reply, created_at, due_at) VALUES (?, ?, ?, ?, ?)",
                (conversation.channel, conversation.conversation_id, dump_reply(numbered(reply)), now, now),
            )
        return True

    async def next_due(self, conversation: ConversationRef, *, now: float) -> Outgoing | None:
        rows = await self.db.fetch(
            "SELECT * FROM reply_outbox WHERE channel = ? AND conversation_id = ? ORDER BY id LIMIT 1",
            (conversation.channel, conversation.conversation_id),
        )
        if not rows or rows[0]["due_at"] > now:
            return None
        row = rows[0]
        return Outgoing(row["id"], conversation, load_reply(row["reply"]), row["attempts"], row["created_at"])

    async def due_conversations(self, *, now: float) -> list[ConversationRef]:
        rows = await self.db.fetch(
            "SELECT o.channel, o.conversation_id FROM reply_outbox o JOIN (SELECT MIN(id) AS head FROM reply_outbox"
            " GROUP BY channel, conversation_id) h ON o.id = h.head WHERE o.due_at <= ?",
            (now,),
        )
        return [ConversationRef(row["channel"], row["conversation_id"]) for row in rows]

    async def delivered(self, outgoing_id: int) -> None:
        async with self.db.transaction() as c:
            await c.execute("DELETE FROM reply_outbox WHERE id = ?", (outgoing_id,))

    async def retry(self, outgoing_id: int, *, at: float, failed: bool) -> None:
        async with self.db.transaction() as c:
            await c.execute(
                "UPDATE reply_outbox SET due_at = ?, attempts = attempts + ? WHERE id = ?",
                (at, 1 if failed else 0, outgoing_id),
            )

    async def give_up(self, outgoing_id: int) -> None:
        await self.delivered(outgoing_id)

    async def prune(self, *, now: float) -> int:
        cutoff = now - self.remember_s
        async with self.db.transaction() as c:
            cursor = await c.execute("DELETE FROM inbox WHERE done_at IS NOT NULL AND done_at < ?", (cutoff,))
            await c.execute("DELETE FROM posted_keys WHERE at < ?", (cutoff,))
            return cursor.rowcount

    async def close(self) -> None:
        await self.db.close()
