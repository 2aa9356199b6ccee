"""The embedded default store: one SQLite file (WAL) under the data dir, shared by sessions and the handoff desk."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from bot.errors import ConfigError
from bot.inbox.codec import dump_reply, load_reply
from bot.insights import rollup
from bot.insights.facts import TurnFact, digest
from bot.messages import Reply
from bot.pii import mask_pii
from bot.sessions.base import HandoffState, Session, Turn

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    conversation TEXT PRIMARY KEY,
    user_id TEXT NOT NULL DEFAULT '',
    language TEXT,
    handoff TEXT NOT NULL DEFAULT 'bot',
    ticket_id INTEGER,
    slots TEXT NOT NULL DEFAULT '{}',
    counters TEXT NOT NULL DEFAULT '{}',
    updated_at REAL NOT NULL,
    last_message TEXT,
    last_reply TEXT
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id);
CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation TEXT NOT NULL REFERENCES sessions (conversation) ON DELETE CASCADE,
    role TEXT NOT NULL,
    text TEXT NOT NULL,
    intent TEXT,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS turns_conversation ON turns (conversation, id);
"""


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:///path`` URL (``sqlite:////abs/path`` or ``sqlite:///rel/path``)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise ConfigError(f"store URL {url!r} is not sqlite:///path (KEFU_STORE__URL)")
    return Path(url[len(prefix) :])


class Database:
    """One aiosqlite connection in WAL mode plus a lock, so that coroutines never interleave transactions.

    Other processes (``kefu handoff reply``) may write the same file at the same time: WAL and a busy
    timeout let them. The creator owns the connection and must ``close`` it.
    """

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self.connection = connection
        self.path = path
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path) -> Database:
        """Open (creating the folder and file when missing) the database at ``path`` or a ``sqlite:///`` URL."""
        is_url = isinstance(path, str) and (path.startswith("sqlite:") or "://" in path)  # noqa: ASYNC240 - a str
        file = sqlite_path(path) if is_url else Path(path)  # type: ignore[arg-type]
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            connection = await aiosqlite.connect(file, timeout=10.0)
        except (OSError, aiosqlite.Error) as error:
            raise ConfigError(f"cannot open the store {file}: {error}") from error
        connection.row_factory = aiosqlite.Row
        await connection.execute("PRAGMA journal_mode=WAL")
        await connection.execute("PRAGMA synchronous=NORMAL")  # consistent under WAL; a power cut may lose a turn
        await connection.execute("PRAGMA foreign_keys=ON")
        await connection.execute("PRAGMA busy_timeout=10000")
        return cls(connection, file)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """The connection inside one transaction, committed on success and rolled back on error."""
        async with self._lock:
            try:
                yield self.connection
            except BaseException:
                await self.connection.rollback()
                raise
            await self.connection.commit()

    async def change(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        """Run one write (a ``DELETE``, an ``UPDATE``) in its own transaction; the number of rows it changed."""
        async with self.transaction() as c:
            cursor = await c.execute(sql, parameters)
            return cursor.rowcount

    async def fetch(self, sql: str, parameters: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        """The rows of one read (one trip to the database thread, no transaction to commit)."""
        async with self._lock:
            return list(await self.connection.execute_fetchall(sql, parameters))

    async def script(self, sql: str) -> None:
        async with self._lock:
            await self.connection.executescript(sql)

    async def close(self) -> None:
        await self.connection.close()


def days_ago(days: float) -> float:
    """The Unix time ``days`` days before now (the cut-off of a purge)."""
    return time.time() - days * 86400


def _kept_reply(reply: Reply | None) -> str | None:
    """The last reply as kept with the session: exactly as sent, since a replay after a crash must send the same
    words (a store's hotline in a reply is not the shopper's data; replies mask the shopper's data themselves)."""
    return dump_reply(reply) if reply is not None else None


class SqliteSessionStore:
    """``SessionStore`` over a ``Database``: history (last ``history_turns`` exchanges), state, slots, counters.

    Text is masked with ``bot.pii.mask_pii`` before it is written, slots included; the last reply is kept as sent.
    A turn's ``TurnFact`` (for the dashboard) is written, and counted in the rollups, in the turn's transaction.
    """

    def __init__(self, db: Database, *, history_turns: int = 10) -> None:
        self.db = db
        self.history_lines = max(1, history_turns) * 2

    @classmethod
    async def open(cls, path: str | Path, *, history_turns: int = 10) -> SqliteSessionStore:
        store = cls(await Database.open(path), history_turns=history_turns)
        await store.setup()
        return store

    async def setup(self) -> None:
        await self.db.script(_SCHEMA)
        columns = {row["name"] for row in await self.db.fetch("PRAGMA table_info(sessions)")}
        for column in ("last_message", "last_reply"):  # stores written before these columns existed
            if column not in columns:
                await self.db.script(f"ALTER TABLE sessions ADD COLUMN {column} TEXT")
        async with self.db.transaction() as c:
            await rollup.setup(c)

    async def load(self, conversation: str) -> Session:
        rows = await self.db.fetch("SELECT * FROM sessions WHERE conversation = ?", (conversation,))
        if not rows:
            return Session(conversation=conversation)
        row = rows[0]
        turns = await self.db.fetch(
            "SELECT role, text, intent, at FROM turns WHERE conversation = ? ORDER BY id DESC LIMIT ?",
            (conversation, self.history_lines),
        )
        return Session(
            conversation=conversation,
            user_id=row["user_id"],
            language=row["language"],
            handoff=HandoffState(row["handoff"]),
            ticket_id=row["ticket_id"],
            slots=json.loads(row["slots"]),
            counters=json.loads(row["counters"]),
            history=[Turn(t["role"], t["text"], t["intent"], t["at"]) for t in reversed(turns)],
            updated_at=row["updated_at"],
            last_message_id=row["last_message"],
            last_reply=load_reply(row["last_reply"]) if row["last_reply"] else None,
        )

    async def save(self, session: Session, *, turns: Sequence[Turn] = (), fact: TurnFact | None = None) -> None:
        session.updated_at = time.time()
        slots = {key: mask_pii(value) for key, value in session.slots.items()}
        kept = [Turn(t.role, mask_pii(t.text), t.intent, t.at) for t in turns]
        async with self.db.transaction() as c:
            await c.execute(
                "INSERT INTO sessions (conversation, user_id, language, handoff, ticket_id, slots, counters,"
                " updated_at, last_message, last_reply) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (conversation) DO UPDATE SET user_id = excluded.user_id,"
                " language = excluded.language, handoff = excluded.handoff, ticket_id = excluded.ticket_id,"
                " slots = excluded.slots, counters = excluded.counters, updated_at = excluded.updated_at,"
                " last_message = excluded.last_message, last_reply = excluded.last_reply",
                (
                    session.conversation,
                    session.user_id,
                    session.language,
                    session.handoff.value,
                    session.ticket_id,
                    json.dumps(slots, ensure_ascii=False),
                    json.dumps(session.counters),
                    session.updated_at,
                    session.last_message_id,
                    _kept_reply(session.last_reply),
                ),
            )
            await c.executemany(
                "INSERT INTO turns (conversation, role, text, intent, at) VALUES (?, ?, ?, ?, ?)",
                [(session.conversation, t.role, t.text, t.intent, t.at) for t in kept],
            )
            await c.execute(
                "DELETE FROM turns WHERE conversation = ? AND id NOT IN"
                " (SELECT id FROM turns WHERE conversation = ? ORDER BY id DESC LIMIT ?)",
                (session.conversation, session.conversation, self.history_lines),
            )
            if fact is not None:
                await rollup.write(c, fact)
        session.history = [*session.history, *kept][-self.history_lines :]

    async def rate(self, conversation: str, reply_text: str, *, helpful: bool) -> bool:
        """Keep a 👍/👎 with the turn whose reply it was under (else the conversation's latest turn); False when the
        conversation has no turn on record."""
        async with self.db.transaction() as c:
            return await rollup.rate(c, digest(conversation), digest(reply_text), helpful)

    async def set_handoff(self, conversation: str, state: HandoffState, ticket_id: int | None) -> None:
        """Change only the hand-off state (what the desk does when an operator acts from another process)."""
        async with self.db.transaction() as c:
            await c.execute(
                "UPDATE sessions SET handoff = ?, ticket_id = ?, updated_at = ? WHERE conversation = ?",
                (state.value, ticket_id, time.time(), conversation),
            )

    async def forget_user(self, user_id: str) -> int:
        """Delete the sessions (history and turn facts included) of ``user_id``; how many."""
        async with self.db.transaction() as c:
            rows = await c.execute_fetchall("SELECT conversation FROM sessions WHERE user_id = ?", (user_id,))
            await rollup.forget(c, [digest(row["conversation"]) for row in rows])
            cursor = await c.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))
            return cursor.rowcount

    async def purge(self, *, older_than_days: float) -> int:
        """Delete sessions idle for more than ``older_than_days``, and turn facts older than that; how many sessions."""
        cutoff = days_ago(older_than_days)
        await self.db.change("DELETE FROM turn_facts WHERE at < ?", (cutoff,))
        return await self.db.change("DELETE FROM sessions WHERE updated_at < ?", (cutoff,))

    async def stats(self) -> dict[str, Any]:
        """Counts of sessions by hand-off state and of kept turns (for ``kefu sessions stats``)."""
        states = await self.db.fetch("SELECT handoff, COUNT(*) n FROM sessions GROUP BY handoff")
        turns = await self.db.fetch("SELECT COUNT(*) n FROM turns")
        return {"sessions": {row["handoff"]: row["n"] for row in states}, "turns": turns[0]["n"]}

    async def close(self) -> None:
        await self.db.close()
