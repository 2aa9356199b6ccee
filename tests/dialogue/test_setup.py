"""Building the dialogue parts from settings: generators and the store, with clear errors for bad configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import build_generator
from bot.config import load_settings
from bot.errors import ConfigError
from bot.generation.grounded import GroundedGenerator
from bot.generation.local import TransformersGenerator
from bot.generation.openai_compat import OpenAICompatibleGenerator
from bot.messages import Reply
from bot.sessions.base import Turn
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


async def test_the_store_uses_wal_and_survives_a_reopen(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kefu.sqlite3'}"
    store = await SqliteSessionStore.open(url, history_turns=2)
    async with store.db.transaction() as c:
        mode = await (await c.execute("PRAGMA journal_mode")).fetchone()
    assert mode is not None and mode[0] == "wal"
    session = await store.load("web:1")
    session.slots["pending"] = "order_status"
    session.counters["unsure"] = 1
    await store.save(session, turns=[Turn("user", f"q{n}") for n in range(6)])
    await store.close()
    reopened = await SqliteSessionStore.open(url, history_turns=2)
    again = await reopened.load("web:1")
    await reopened.close()
    assert again.slots == {"pending": "order_status"} and again.counters == {"unsure": 1}
    assert [t.text for t in again.history] == ["q2", "q3", "q4", "q5"]


async def test_the_last_reply_is_kept_as_sent_for_a_replay_after_a_crash(tmp_path: Path) -> None:
    """The turn log is masked, but the reply a crash makes the bot send again must be the same words."""
    store = await SqliteSessionStore.open(f"sqlite:///{tmp_path / 'kefu.sqlite3'}")
    session = await store.load("web:1")
    hotline = "Call our hotline 400-820-8820 or 138 0013 8000; sizes XXL 100-104/82-86."
    session.last_message_id, session.last_reply = "m1", Reply(text=hotline, language="en")
    await store.save(session, turns=[Turn("assistant", hotline)])
    again = await store.load("web:1")
    await store.close()
    assert again.last_reply is not None and again.last_reply.text == hotline
    assert "[phone …8000]" in again.history[-1].text
