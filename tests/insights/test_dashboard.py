"""The dashboard end to end: scripted conversations through the real pipeline of a running ``Kefu`` (demo engines,
SQLite store), 👍/👎 through its feedback hook, then ``/ops`` in headless chromium.

``KEFU_INSIGHTS_TURNS`` sets how many shopper turns are seeded (default 10 000; the time it took is printed)."""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from adapters.feedback import Feedback
from bot.app import Components, Kefu
from bot.config import Settings
from bot.messages import ConversationRef, Message

pytestmark = pytest.mark.slow

TOKEN = "dashboard-token-for-tests"
SCRIPTS = [
    ["What is your return policy?", "and for shoes?"],
    ["where is my order?", "100234"],
    ["我的订单到哪了？", "100234"],
    ["我要找人工"],
    ["What's the weather in Paris?"],
    ["hello", "do you sell gift cards on the moon?", "hmm blorp?"],
    ["How long does shipping to Canada take?"],
    ["can I pay with bitcoin on the moon?", "moon bitcoin please"],
    ["退货政策是什么？"],
    ["this is the worst shop ever, a scam!!!"],
]
SPAN_DAYS = 10


def _settings(demo_settings: Settings, tmp_path: Path, *, token: str | None) -> Settings:
    return demo_settings.model_copy(
        update={
            "http": demo_settings.http.model_copy(update={"port": 0}),
            "store": demo_settings.store.model_copy(update={"url": f"sqlite:///{tmp_path / 'kefu.sqlite3'}"}),
            "ops": demo_settings.ops.model_copy(update={"token": SecretStr(token) if token else None}),
        }
    )


@pytest.fixture
async def running_bot(demo_settings: Settings, demo_components: Components, tmp_path: Path) -> AsyncIterator[Kefu]:
    bot = Kefu(_settings(demo_settings, tmp_path, token=TOKEN), demo_components, channels=["web"])
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


async def seed(bot: Kefu, *, turns: int, now: float) -> dict[str, Any]:
    """Scripted conversations, 16 at a time, with their times spread over the last SPAN_DAYS days; every fifth
    reply rated. What was sent, counted here."""
    assert bot.dialogue is not None
    rng = random.Random(17)
    sent: Counter[str] = Counter()
    times: list[float] = []
    plans = []
    total = 0
    while total < turns:
        script = rng.choice(SCRIPTS)[: turns - total]
        plans.append((len(plans), script, now - rng.random() * SPAN_DAYS * 86400))
        total += len(script)
    gate = asyncio.Semaphore(16)

    async def converse(n: int, script: list[str], start: float) -> None:
        ref = ConversationRef("web" if n % 3 else "telegram", f"seed-{n}")
        async with gate:
            for i, text in enumerate(script):
                at = start + 20 * i
                message = Message(ref, f"shopper-{n}", text=text, message_id=f"{n}-{i}", timestamp=at)
                reply = await bot.dialogue.conversations.handle(message)  # type: ignore[union-attr]
                sent[ref.channel] += 1
                times.append(at)
                if reply is not None and (n + i) % 5 == 0:
                    await bot.record_feedback(Feedback(ref, f"shopper-{n}", (n + i) % 2 == 0, "m", reply.text))

    await asyncio.gather(*(converse(*plan) for plan in plans))
    return {"turns": total, "by_channel": sent, "times": times}


async def test_ops_renders_seeded_conversations_and_the_period_filter_changes_the_charts(
    running_bot: Kefu, browser_page: Any
) -> None:
    turns = int(os.environ.get("KEFU_INSIGHTS_TURNS", "10000"))
    now = time.time()
    started = time.perf_counter()
    seeded = await seed(running_bot, turns=turns, now=now)
    seconds = time.perf_counter() - started
    print(f"seeded {turns} turns through the pipeline in {seconds:.1f} s ({turns / seconds:.1f} turns/s)")
    assert running_bot.http is not None
    base = running_bot.http.url

    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        async with client.get(base + "/ops/data?period=30d") as response:
            summary = await response.json()
        async with client.get(base + "/ops/data?period=30d&channel=telegram") as response:
            telegram = await response.json()
    assert summary["totals"]["turns"] == seeded["turns"]
    assert telegram["totals"]["turns"] == seeded["by_channel"]["telegram"]
    assert summary["totals"]["up"] + summary["totals"]["down"] > 0
    moves = {m["move"] for m in summary["moves"]}
    assert {"answer", "act", "escalate"} <= moves
    assert summary["unanswered"]["groups"] and summary["unanswered"]["grouping"] == "encoder"
    assert {s["stage"] for s in summary["latency_ms"]} >= {"understand", "embed", "intent", "retrieve", "total"}
    assert summary["tickets"]["open"] > 0

    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(f"{base}/ops?token={TOKEN}&period=30d")
    assert "token=" not in page.url
    await page.wait_for_function("window.kefuOps && window.kefuOps.loads >= 1", timeout=30_000)
    month = await page.evaluate("window.kefuOps.charts.timeline.data")
    assert sum(month[1]) == seeded["turns"] and len(month[0]) >= 2
    assert await page.locator("#timeline canvas").count() == 1
    bars = await page.evaluate("window.kefuOps.charts.intents.data[1]")
    assert sum(bars) == summary["mix_turns"] > 0
    assert await page.locator("#moves tr").count() > 2
    await page.select_option("#period", "24h")
    await page.wait_for_function("window.kefuOps.loads >= 2", timeout=30_000)
    day = await page.evaluate("window.kefuOps.charts.timeline.data")
    since = await page.evaluate("window.kefuOps.summary.period.since")
    last_day = sum(1 for at in seeded["times"] if at // 3600 >= since // 3600)  # whole hours, as the rollups count
    assert sum(day[1]) == last_day < seeded["turns"]
    assert day[0] != month[0]
    assert "period=24h" in page.url
    text = await page.locator("body").inner_text()
    assert "shopper-" not in text and "seed-" not in text  # no user or conversation ids on the page
    assert not errors


async def test_without_a_token_there_is_no_ops_page(
    demo_settings: Settings, demo_components: Components, tmp_path: Path
) -> None:
    bot = Kefu(_settings(demo_settings, tmp_path, token=None), demo_components, channels=["web"])
    await bot.start()
    try:
        assert bot.http is not None
        async with aiohttp.ClientSession() as client, client.get(bot.http.url + "/ops") as response:
            assert response.status == 404
    finally:
        await bot.stop()
