"""Reliability fixtures: a durable inbox on either store (SQLite or the private Redis server), reopened at will."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bot.inbox.redis import RedisInbox
from bot.inbox.sqlite import SqliteInbox
from bot.sessions.redis import RedisConnection
from bot.sessions.sqlite import Database

OpenDurable = Callable[..., Awaitable[SqliteInbox | RedisInbox]]


@pytest.fixture(params=["sqlite", "redis"])
def open_durable(request: pytest.FixtureRequest, tmp_path: Path) -> OpenDurable:
    """``await open_durable(remember_s=…)``: a durable inbox on this test's store, as a new process opens it;
    ``restarted=True`` restarts the Redis server first (what its append-only file kept comes back)."""

    async def open_durable(*, restarted: bool = False, **options: float) -> SqliteInbox | RedisInbox:
        if request.param == "redis":
            url = request.getfixturevalue("redis_url")
            if restarted:
                request.getfixturevalue("redis_server").restart()
            return RedisInbox(await RedisConnection.open(url), **options)
        durable = SqliteInbox(await Database.open(tmp_path / "store.sqlite3"), **options)
        await durable.setup()
        return durable

    return open_durable
