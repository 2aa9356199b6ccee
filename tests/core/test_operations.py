"""What an operator's tools read from a running bot: ``/metrics`` after real turns through the fake Telegram (values,
not just names), ``/readyz`` while the store answers, when it stops answering and while the bot stops."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from adapters.testing.telegram import FakeTelegram
from bot.app import Components, Kefu
from bot.config import Settings
from tests.redis_server import RedisServer

pytestmark = pytest.mark.slow


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a Prometheus exposition, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(got: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return got.get((name, frozenset(labels.items())), 0.0)


def telegram_settings(settings: Settings, fake: FakeTelegram, **sections: object) -> Settings:
    telegram = settings.telegram.model_copy(
        update={"token": SecretStr(fake.token), "api_base": fake.base_url, "mode": "polling"}
    )
    http = settings.http.model_copy(update={"port": 0})
    return settings.model_copy(update={"telegram": telegram, "http": http, **sections})


@pytest.fixture
async def bot(demo_settings: Settings, demo_components: Components, fake_telegram: FakeTelegram) -> AsyncIterator[Kefu]:
    kefu = Kefu(telegram_settings(demo_settings, fake_telegram), demo_components, channels=["telegram"])
    await kefu.start()
    try:
        yield kefu
    finally:
        await kefu.stop()


async def read(bot: Kefu, path: str) -> tuple[int, str]:
    assert bot.http is not None
    async with aiohttp.ClientSession() as http, http.get(bot.http.url + path) as response:
        return response.status, await response.text()


async def test_metrics_count_real_turns_stages_deliveries_and_escalations_by_reason(
    bot: Kefu, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.user(801, language_code=None).says("How long does shipping take?")
    fake_telegram.user(802, language_code=None).says("我要找人工")
    fake_telegram.user(803, language_code=None).says("Do you ship to Hong Kong?")
    for chat in (801, 802, 803):
        await fake_telegram.wait_for_messages(chat, 1, timeout=60)
    await bot.runtime.join()
    sent = sum(len(fake_telegram.sent.get(chat, [])) for chat in (801, 802, 803))

    status, text = await read(bot, "/metrics")
    got = samples(text)
    assert status == 200
    assert value(got, "kefu_messages_total", channel="telegram") == 3
    assert value(got, "kefu_escalations_total", channel="telegram", reason="asked_for_person") == 1
    assert sum(v for (name, _), v in got.items() if name == "kefu_escalations_total") == 1
    assert value(got, "kefu_turn_seconds_count", channel="telegram") == 3
    assert value(got, "kefu_turn_seconds_sum", channel="telegram") > 0
    for stage in ("understand", "embed", "intent", "retrieve", "decide"):
        assert value(got, "kefu_stage_seconds_count", stage=stage) == 3, stage
    assert value(got, "kefu_stage_seconds_count", stage="delivery") == sent
    assert value(got, "kefu_stage_seconds_bucket", stage="delivery", le="+Inf") == sent
    assert value(got, "kefu_stage_seconds_count", stage="speech") == 0  # no voice note, no speech time


async def test_not_ready_before_the_channels_start(
    demo_settings: Settings, demo_components: Components, fake_telegram: FakeTelegram
) -> None:
    """Found by the fuzz suite: the server starts before the channels, and /readyz said ready in between."""
    kefu = Kefu(telegram_settings(demo_settings, fake_telegram), demo_components, channels=["telegram"])
    assert await kefu.ready() == {
        "ready": False,
        "models": "loaded",
        "store": "not opened",
        "reason": "starting the channels",
    }


async def test_readyz_while_serving_and_stopping(bot: Kefu) -> None:
    status, text = await read(bot, "/readyz")
    assert (status, text) == (200, '{"ready": true, "models": "loaded", "store": "answering"}')
    status, _ = await read(bot, "/healthz")
    assert status == 200
    http = bot.http
    bot.http = None  # keep the server up while the bot stops: /readyz must say so before the port closes
    try:
        await bot.stop()
        assert await bot.ready() == {"ready": False, "models": "loaded", "store": "closing", "reason": "stopping"}
    finally:
        bot.http = http


async def test_readyz_follows_a_redis_store_that_stops_and_comes_back(
    demo_settings: Settings,
    demo_components: Components,
    fake_telegram: FakeTelegram,
    redis_url: str,
    redis_server: RedisServer,
) -> None:
    store = demo_settings.store.model_copy(update={"url": redis_url})
    kefu = Kefu(telegram_settings(demo_settings, fake_telegram, store=store), demo_components, channels=["telegram"])
    await kefu.start()
    try:
        assert (await read(kefu, "/readyz"))[0] == 200
        redis_server.stop()
        status, text = await read(kefu, "/readyz")
        assert status == 503 and '"ready": false' in text and "the store does not answer" in text
        assert (await read(kefu, "/healthz"))[0] == 200  # alive: an orchestrator waits instead of restarting it
        redis_server.start()
        assert (await read(kefu, "/readyz"))[0] == 200
    finally:
        if redis_server.process is None:
            redis_server.start()
        await kefu.stop()
