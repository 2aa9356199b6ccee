"""Insights fixtures: a fresh store (sessions, desk, facts) and facts generated with their expected counts."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import open_store
from bot.config import Settings, load_settings
from bot.handoff.sqlite import SqliteDesk
from bot.insights.facts import TurnFact, digest
from bot.sessions.base import Session
from bot.sessions.sqlite import Database, SqliteSessionStore
from tests.web.conftest import browser_page  # noqa: F401  (the headless chromium page fixture)

DAY = 86400.0
NOW = 20_000 * DAY + 13.5 * 3600
"""A fixed "now" (13:30 UTC on day 20000), so periods and days are the same on every run."""


@dataclass
class Store:
    settings: Settings
    db: Database
    sessions: SqliteSessionStore
    desk: SqliteDesk


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    settings = load_settings(data_dir=tmp_path)
    db, sessions, desk = await open_store(settings)
    yield Store(settings, db, sessions, desk)
    await db.close()


@dataclass(frozen=True)
class Written:
    fact: TurnFact
    conversation: str
    reply: str


MOVES = [
    ("answer", "passage relevance # >= #"),
    ("act", "order status asked"),
    ("clarify", "low confidence"),
    ("escalate", "no passage good enough for an in-scope question"),
    ("escalate", "the shopper asked for a person"),
    ("decline", "out of scope"),
    ("greet", "intent greeting"),
]
QUESTIONS = [
    "do you ship to Canada?",
    "Do you ship to canada",
    "can I pay with PayPal?",
    "你们支持货到付款吗？",
    "do you do gift wrapping?",
]


async def write_facts(store: Store, *, count: int, seed: int, days: float = 10.0, now: float = NOW) -> list[Written]:
    """``count`` facts in random conversations over the ``days`` before ``now``, saved through the session store in
    time order (as turns are), each with its session."""
    rng = random.Random(seed)
    times = sorted(now - rng.random() * days * DAY for _ in range(count))
    written = []
    for n, at in enumerate(times):
        conversation = f"{rng.choice(['web', 'telegram'])}:c{rng.randrange(count // 4 + 1)}"
        move, why = rng.choice(MOVES)
        reply = f"reply {n}"
        fact = TurnFact(
            channel=conversation.split(":")[0],
            conversation=digest(conversation),
            move=move,
            why=why,
            reason=why,
            intent=rng.choice(["order_status", "shipping", "payment", ""]),
            language="en",
            voice=rng.random() < 0.2,
            photo=rng.random() < 0.1,
            question=rng.choice(QUESTIONS) + " call me on 13912345678",
            reply_digest=digest(reply),
            timings_ms={"embed": rng.lognormvariate(2, 1), "total": rng.lognormvariate(4, 0.5)},
            at=at,
        )
        await store.sessions.save(Session(conversation=conversation, user_id=f"user-{conversation}"), fact=fact)
        written.append(Written(fact, conversation, reply))
    return written
