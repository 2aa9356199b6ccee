"""Building the dialogue parts from settings: generators and the store, with clear errors for bad configuration."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bot.app import build_generator
from bot.config import load_settings
from bot.errors import ConfigError
from bot.generation.grounded import GroundedGenerator
from bot.generation.local import TransformersGenerator
from bot.generation.openai_compat import OpenAICompatibleGenerator
from bot.messages import Reply
from bot.sessions.base import Session, SessionStore, Turn
from bot.sessions.redis import RedisConnection, RedisSessionStore
from bot.sessions.sqlite import Database, SqliteSessionStore, sqlite_path


def test_generators_from_settings(tmp_path: Path) -> None:
    assert isinstance(build_generator(load_settings(data_dir=tmp_path)), GroundedGenerator)
    llm = build_generator(
        load_settings(
            data_dir=tmp_path,
            generation={"backend": "openai", "base_url": "http://127.0.0.1:8000/v1/", "model": "qwen", "retries": 3},
        )
    )
    assert isinstance(llm, OpenAICompatibleGenerator)
    assert llm.url == "http://127.0.0.1:8000/v1/chat/completions" and llm.retries == 3
    assert isinstance(llm.fallback, GroundedGenerator)
    local = build_generator(load_settings(data_dir=tmp_path, generation={"backend": "transformers", "model": "/m"}))
    assert isinstance(local, TransformersGenerator) and local.model_path == "/m"


@pytest.mark.parametrize(
    ("generation", "error"),
    [
        ({"backend": "openai", "model": "qwen"}, "KEFU_GENERATION__BASE_URL"),
        ({"backend": "openai", "base_url": "http://x/v1"}, "KEFU_GENERATION__MODEL"),
        ({"backend": "transformers"}, "KEFU_GENERATION__MODEL"),
    ],
)
def test_an_incomplete_generation_config_names_the_missing_setting(
    tmp_path: Path, generation: dict[str, str], error: str
) -> None:
    with pytest.raises(ConfigError, match=error):
        build_generator(load_settings(data_dir=tmp_path, generation=generation))


def test_an_api_key_in_the_config_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "kefu.toml"
    config.write_text('[generation]\napi_key = "sk-123"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="KEFU_GENERATION__API_KEY"):
        load_settings(config)


@pytest.mark.parametrize("url", ["redis://localhost/0", "sqlite:///", "sqlite://relative.db"])
def test_a_store_url_that_is_not_sqlite_is_a_clear_error(url: str) -> None:
    with pytest.raises(ConfigError, match="KEFU_STORE__URL"):
        sqlite_path(url)


async def test_opening_a_store_url_of_another_kind_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="KEFU_STORE__URL"):
        await Database.open("redis://localhost:6379/0")
    assert list(tmp_path.iterdir()) == []


async def test_an_unusable_store_path_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"cannot open the store .*file/kefu.sqlite3"):
        await Database.open(blocker / "kefu.sqlite3")


async def test_the_store_uses_wal(tmp_path: Path) -> None:
    store = await SqliteSessionStore.open(f"sqlite:///{tmp_path / 'kefu.sqlite3'}")
    async with store.db.transaction() as c:
        mode = await (await c.execute("PRAGMA journal_mode")).fetchone()
    await store.close()
    assert mode is not None and mode[0] == "wal"


@pytest.fixture(params=["sqlite", "redis"])
def open_sessions(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., Awaitable[SessionStore]]:
    """``await open_sessions(history_turns=…)``: the session store of this test's store, as a new process opens it
    (for Redis, ``restarted=True`` restarts the server first: what its append-only file kept comes back)."""

    async def open_sessions(*, restarted: bool = False, history_turns: int = 10) -> SessionStore:
        if request.param == "sqlite":
            return await SqliteSessionStore.open(f"sqlite:///{tmp_path / 'kefu.sqlite3'}", history_turns=history_turns)
        url = request.getfixturevalue("redis_url")
        if restarted:
            request.getfixturevalue("redis_server").restart()
        return RedisSessionStore(await RedisConnection.open(url), history_turns=history_turns)

    return open_sessions


async def test_the_store_survives_a_reopen(open_sessions: Callable[..., Awaitable[SessionStore]]) -> None:
    store = await open_sessions(history_turns=2)
    session = await store.load("web:1")
    session.slots["pending"] = "order_status"
    session.counters["unsure"] = 1
    session.language, session.ticket_id, session.user_id = "zh", 7, "u1"
    await store.save(session, turns=[Turn("user", f"q{n}") for n in range(6)])
    await store.close()
    reopened = await open_sessions(history_turns=2, restarted=True)
    again = await reopened.load("web:1")
    fresh = await reopened.load("web:2")
    await reopened.close()
    assert again.slots == {"pending": "order_status"} and again.counters == {"unsure": 1}
    assert (again.language, again.ticket_id, again.user_id) == ("zh", 7, "u1")
    assert [t.text for t in again.history] == ["q2", "q3", "q4", "q5"]
    assert again.updated_at == session.updated_at and again.history == session.history
    assert fresh == Session(conversation="web:2")


async def test_the_last_reply_is_kept_as_sent_for_a_replay_after_a_crash(
    open_sessions: Callable[..., Awaitable[SessionStore]],
) -> None:
    """The turn log is masked, but the reply a crash makes the bot send again must be the same words."""
    store = await open_sessions()
    session = await store.load("web:1")
    hotline = "Call our hotline 400-820-8820 or 138 0013 8000; sizes XXL 100-104/82-86."
    session.last_message_id, session.last_reply = "m1", Reply(text=hotline, language="en")
    session.slots["phone"] = "13912345678"
    await store.save(session, turns=[Turn("assistant", hotline)])
    again = await store.load("web:1")
    await store.close()
    assert again.last_reply is not None and again.last_reply.text == hotline and again.last_message_id == "m1"
    assert "[phone …8000]" in again.history[-1].text
    assert again.slots["phone"] == "[phone …5678]", "slots are masked too"


async def test_a_burst_wider_than_the_redis_pool_waits_for_connections_instead_of_failing(redis_url: str) -> None:
    """Twice the pool's connections, each held 0.1 s: redis-py's plain pool raised ``MaxConnectionsError`` for the
    calls past it (deliveries failed mid-way under 200 shoppers at once); these wait their turn."""
    from bot.sessions.redis import POOL_SIZE

    connection = await RedisConnection.open(redis_url)
    try:
        results = await asyncio.gather(
            *(connection.client.blpop(["nothing"], timeout=0.1) for _ in range(2 * POOL_SIZE))
        )
    finally:
        await connection.close()
    assert results == [None] * (2 * POOL_SIZE)
