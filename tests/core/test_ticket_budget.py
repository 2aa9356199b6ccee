"""The per-client count of conversations that opened a hand-off ticket (``bot.handoff.budget``): one contract on
the SQLite store and on a real Redis server, the count shared by workers on one Redis, and bad input."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from bot.handoff.budget import SqliteTicketBudget, TicketBudget, TicketLimits, digest
from bot.handoff.redis_budget import RedisTicketBudget
from bot.sessions.redis import RedisConnection
from bot.sessions.sqlite import Database


class Stores:
    """Opens budgets over one store (an SQLite file or a Redis server), each on its own connection as separate
    processes would have them, and closes the connections at the end."""

    def __init__(self, kind: str, tmp_path: Path, redis_url: str | None) -> None:
        self.kind, self.tmp_path, self.redis_url = kind, tmp_path, redis_url
        self.connections: list[Database | RedisConnection] = []

    async def budget(self, limits: TicketLimits, clock: Callable[[], float]) -> TicketBudget:
        if self.kind == "sqlite":
            db = await Database.open(self.tmp_path / "store.sqlite3")
            self.connections.append(db)
            budget = SqliteTicketBudget(db, limits, clock=clock)
            await budget.setup()
            return budget
        assert self.redis_url is not None
        connection = await RedisConnection.open(self.redis_url)
        self.connections.append(connection)
        return RedisTicketBudget(connection, limits, clock=clock)

    async def close(self) -> None:
        while self.connections:
            await self.connections.pop().close()


@pytest.fixture(params=["sqlite", "redis"])
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stores]:
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    opened = Stores(request.param, tmp_path, url)
    yield opened
    await opened.close()


async def test_counts_conversations_per_client_within_the_window(stores: Stores) -> None:
    now = [1_000.0]
    budget = await stores.budget(TicketLimits(per_client=2, window_s=60.0), lambda: now[0])
    assert [await budget.allow("a", c) for c in ("c1", "c2", "c3")] == [True, True, False]
    assert await budget.allow("a", "c1"), "a counted conversation may ask again"
    assert await budget.allow("b", "c3"), "another client has its own count"
    now[0] = 1_030.0
    assert not await budget.allow("a", "c4")
    now[0] = 1_061.0
    assert await budget.allow("a", "c4") and await budget.allow("a", "c5") and not await budget.allow("a", "c6")


async def test_the_count_outlives_a_restart(stores: Stores) -> None:
    limits = TicketLimits(per_client=1, window_s=600.0)
    first = await stores.budget(limits, lambda: 5_000.0)
    assert await first.allow("203.0.113.9", "s1")
    await stores.close()
    again = await stores.budget(limits, lambda: 5_100.0)
    assert not await again.allow("203.0.113.9", "s2") and await again.allow("203.0.113.9", "s1")


async def test_processes_on_one_store_share_the_budget_even_asking_at_once(stores: Stores) -> None:
    limits = TicketLimits(per_client=5, window_s=600.0)
    workers = [await stores.budget(limits, lambda: 7_000.0) for _ in range(3)]
    answers = await asyncio.gather(*(workers[n % 3].allow("198.51.100.7", f"shopper-{n}") for n in range(30)))
    assert sum(answers) == 5, "three workers together allow the budget once, not three times"
    allowed = [n for n, yes in enumerate(answers) if yes]
    assert all([await worker.allow("198.51.100.7", f"shopper-{allowed[0]}") for worker in workers])


async def test_huge_or_odd_client_strings_are_counted_under_bounded_names(stores: Stores) -> None:
    budget = await stores.budget(TicketLimits(per_client=1, window_s=600.0), lambda: 9_000.0)
    odd = ["x" * 1_000_000, "\x00\n\r:*?[]{}", "客户 🙂", "\ud800lone surrogate", " ", "kefu:budget:*"]
    for client in odd:
        assert await budget.allow(client, "c" * 100_000), repr(client[:20])
        assert not await budget.allow(client, "other"), repr(client[:20])
    assert len({digest(client) for client in odd}) == len(odd)
    if isinstance(budget, RedisTicketBudget):
        keys = [key async for key in budget.connection.client.scan_iter(match="kefu:budget:*")]
        assert len(keys) == len(odd) and max(len(key) for key in keys) <= 64
    else:
        assert isinstance(budget, SqliteTicketBudget)
        rows = await budget.db.fetch("SELECT length(client) + length(conversation) AS size FROM ticket_budget")
        assert len(rows) == len(odd) and max(row["size"] for row in rows) == 64


async def test_the_redis_keys_expire_after_the_window(redis_url: str) -> None:
    connection = await RedisConnection.open(redis_url)
    try:
        budget = RedisTicketBudget(connection, TicketLimits(per_client=2, window_s=30.0))
        assert await budget.allow("203.0.113.9", "s1")
        ttl_ms = await connection.client.pttl(connection.key("budget", digest("203.0.113.9")))
        assert 30_000 <= ttl_ms <= 31_000
    finally:
        await connection.close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_redis_that_does_not_answer_lets_the_ticket_open_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = aioredis.Redis(port=_closed_port(), socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
    connection = RedisConnection(client)
    try:
        budget = RedisTicketBudget(connection, TicketLimits(per_client=1))
        with caplog.at_level(logging.WARNING, logger="bot.handoff.budget"):
            assert await budget.allow("203.0.113.9", "s1") and await budget.allow("203.0.113.9", "s2")
        assert caplog.text.count("the store did not answer") == 2
        assert "203.0.113.9 opens uncounted" in caplog.text
    finally:
        await connection.close()


async def test_an_sqlite_store_that_fails_lets_the_ticket_open_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = await Database.open(tmp_path / "store.sqlite3")
    try:
        budget = SqliteTicketBudget(db, TicketLimits(per_client=1))  # its table was never created
        with caplog.at_level(logging.WARNING, logger="bot.handoff.budget"):
            assert await budget.allow("203.0.113.9", "s1")
        assert "no such table: ticket_budget" in caplog.text
    finally:
        await db.close()
