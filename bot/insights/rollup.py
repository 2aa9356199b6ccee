"""The insights tables in the store's SQLite file: ``turn_facts`` (one row per turn) and the hourly rollups
(``insight_hours``: turns, conversations, voice and photo per hour × channel; ``insight_mix``: turns and 👍/👎 per
day × channel × intent × move × why; ``insight_latency``: a histogram per day × channel × stage), kept up to date in
the transaction that writes each turn, so reading a period sums a few thousand rollup rows instead of scanning
turns. Their size grows with time and variety, not with traffic."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import aiosqlite

from bot.insights.facts import TurnFact
from bot.pii import mask_pii

SCHEMA = """
CREATE TABLE IF NOT EXISTS turn_facts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    channel TEXT NOT NULL,
    conversation TEXT NOT NULL,
    intent TEXT NOT NULL,
    move TEXT NOT NULL,
    why TEXT NOT NULL,
    reason TEXT NOT NULL,
    language TEXT NOT NULL,
    voice INTEGER NOT NULL,
    photo INTEGER NOT NULL,
    opens INTEGER NOT NULL,
    unanswered INTEGER NOT NULL,
    question TEXT NOT NULL,
    reply_digest TEXT NOT NULL,
    timings TEXT NOT NULL,
    rating INTEGER
);
CREATE INDEX IF NOT EXISTS turn_facts_conversation ON turn_facts (conversation, at);
CREATE INDEX IF NOT EXISTS turn_facts_unanswered ON turn_facts (unanswered, at);
CREATE TABLE IF NOT EXISTS insight_hours (
    hour INTEGER NOT NULL,
    channel TEXT NOT NULL,
    turns INTEGER NOT NULL DEFAULT 0,
    conversations INTEGER NOT NULL DEFAULT 0,
    voice INTEGER NOT NULL DEFAULT 0,
    photo INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, channel)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS insight_mix (
    day INTEGER NOT NULL,
    channel TEXT NOT NULL,
    intent TEXT NOT NULL,
    move TEXT NOT NULL,
    why TEXT NOT NULL,
    turns INTEGER NOT NULL DEFAULT 0,
    up INTEGER NOT NULL DEFAULT 0,
    down INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, channel, intent, move, why)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS insight_latency (
    day INTEGER NOT NULL,
    channel TEXT NOT NULL,
    stage TEXT NOT NULL,
    counts TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (day, channel, stage)
) WITHOUT ROWID;
"""

CONVERSATION_GAP_S = 30 * 60
"""A turn opens a conversation when the conversation had no turn in the 30 minutes before it."""
_BASE_MS, _GROWTH, _BUCKETS = 0.1, 1.2, 90


def bucket_of(ms: float) -> int:
    """The latency bucket of ``ms``: bucket k holds (0.1·1.2^(k-1), 0.1·1.2^k] ms, so a percentile read back from
    bucket edges is at most 20 % high."""
    if ms <= _BASE_MS:
        return 0
    return min(_BUCKETS, math.ceil(math.log(ms / _BASE_MS) / math.log(_GROWTH)))


def bucket_ms(bucket: int) -> float:
    """The upper edge of a latency bucket, in milliseconds."""
    return _BASE_MS * _GROWTH**bucket


def hour_of(at: float) -> int:
    return int(at // 3600)


def day_of(at: float) -> int:
    """The UTC day number of ``at`` (days since 1970-01-01)."""
    return int(at // 86400)


_FACT_SQL = (
    "INSERT INTO turn_facts (at, channel, conversation, intent, move, why, reason, language, voice, photo, opens,"
    " unanswered, question, reply_digest, timings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_HOURS_SQL = (
    "INSERT INTO insight_hours (hour, channel, turns, conversations, voice, photo) VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (hour, channel) DO UPDATE SET turns = turns + excluded.turns,"
    " conversations = conversations + excluded.conversations, voice = voice + excluded.voice,"
    " photo = photo + excluded.photo"
)
_MIX_SQL = (
    "INSERT INTO insight_mix (day, channel, intent, move, why, turns) VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (day, channel, intent, move, why) DO UPDATE SET turns = turns + excluded.turns"
)
_LATENCY_SQL = (
    "INSERT INTO insight_latency (day, channel, stage, counts) VALUES (?1, ?2, ?3, json_object(?4, ?5))"
    " ON CONFLICT (day, channel, stage) DO UPDATE SET"
    " counts = json_set(counts, '$.' || ?4, coalesce(json_extract(counts, '$.' || ?4), 0) + ?5)"
)


async def setup(connection: aiosqlite.Connection) -> None:
    """Create the tables (a store written before insights existed gains them, empty)."""
    await connection.executescript(SCHEMA)


class _Tally:
    """The rollup increments of some facts, summed before they are written (one upsert per key)."""

    def __init__(self) -> None:
        self.facts: list[tuple[Any, ...]] = []
        self.hours: Counter[tuple[Any, ...]] = Counter()
        self.mix: Counter[tuple[Any, ...]] = Counter()
        self.latency: Counter[tuple[Any, ...]] = Counter()

    def add(self, fact: TurnFact, *, opens: bool) -> None:
        self.facts.append(
            (
                fact.at,
                fact.channel,
                fact.conversation,
                fact.intent,
                fact.move,
                fact.why,
                mask_pii(fact.reason),
                fact.language,
                int(fact.voice),
                int(fact.photo),
                int(opens),
                int(fact.unanswered),
                mask_pii(fact.question),
                fact.reply_digest,
                json.dumps({k: round(v, 2) for k, v in fact.timings_ms.items()}),
            )
        )
        hour, day = hour_of(fact.at), day_of(fact.at)
        for field, value in (("turns", 1), ("conversations", opens), ("voice", fact.voice), ("photo", fact.photo)):
            self.hours[(hour, fact.channel, field)] += int(value)
        self.mix[(day, fact.channel, fact.intent, fact.move, fact.why)] += 1
        for stage, ms in fact.timings_ms.items():
            self.latency[(day, fact.channel, stage, f"b{bucket_of(ms)}")] += 1

    async def write(self, connection: aiosqlite.Connection) -> None:
        await connection.executemany(_FACT_SQL, self.facts)
        hours: dict[tuple[Any, ...], dict[str, int]] = {}
        for (hour, channel, field), value in self.hours.items():
            hours.setdefault((hour, channel), {})[field] = value
        await connection.executemany(
            _HOURS_SQL, [(*key, v["turns"], v["conversations"], v["voice"], v["photo"]) for key, v in hours.items()]
        )
        await connection.executemany(_MIX_SQL, [(*key, n) for key, n in self.mix.items()])
        await connection.executemany(_LATENCY_SQL, [(*key, n) for key, n in self.latency.items()])


async def write(connection: aiosqlite.Connection, fact: TurnFact) -> None:
    """Write ``fact`` and count it in the rollups, inside the caller's transaction (the one saving the turn)."""
    cursor = await connection.execute(
        "SELECT MAX(at) FROM turn_facts WHERE conversation = ? AND at <= ?", (fact.conversation, fact.at)
    )
    last = (await cursor.fetchone() or (None,))[0]
    tally = _Tally()
    tally.add(fact, opens=last is None or fact.at - last > CONVERSATION_GAP_S)
    await tally.write(connection)


async def write_many(connection: aiosqlite.Connection, rows: Iterable[tuple[TurnFact, bool]]) -> None:
    """Write many facts at once (``kefu bench insights``): each with whether it opens a conversation."""
    tally = _Tally()
    for fact, opens in rows:
        tally.add(fact, opens=opens)
    await tally.write(connection)


async def rate(connection: aiosqlite.Connection, conversation: str, reply_digest: str, helpful: bool) -> bool:
    """Record a 👍/👎 on the conversation's turn whose reply has ``reply_digest`` (else its latest turn); a second
    press on the same turn replaces the first. False when the conversation has no turn to rate."""
    cursor = await connection.execute(
        "SELECT id, at, channel, intent, move, why, rating FROM turn_facts WHERE conversation = ?"
        " ORDER BY reply_digest = ? DESC, id DESC LIMIT 1",
        (conversation, reply_digest),
    )
    found = await cursor.fetchone()
    if found is None:
        return False
    vote = 1 if helpful else -1
    key = (day_of(found["at"]), found["channel"], found["intent"], found["move"], found["why"])
    if found["rating"] == vote:
        return True
    undo = {1: "up = up - 1", -1: "down = down - 1"}.get(found["rating"])
    do = "up = up + 1" if helpful else "down = down + 1"
    where = " WHERE day = ? AND channel = ? AND intent = ? AND move = ? AND why = ?"
    await connection.execute(f"UPDATE insight_mix SET {do}{', ' + undo if undo else ''}{where}", key)
    await connection.execute("UPDATE turn_facts SET rating = ? WHERE id = ?", (vote, found["id"]))
    return True


async def forget(connection: aiosqlite.Connection, conversations: Sequence[str]) -> None:
    """Delete the facts (their masked questions) of these conversation digests; the rollups' counts stay."""
    await connection.executemany("DELETE FROM turn_facts WHERE conversation = ?", [(c,) for c in conversations])
