"""Fault suite for the web chat: SIGKILL ``kefu run`` three times while 20 browser sessions send 300 messages.

The sessions behave as the page does (``chat.js``): they reconnect into the same session, offer again each
message the server has not said it kept, and show a reply with an id once. Every session must see exactly the
answers of a run that was never killed, in the same order.
"""

from __future__ import annotations

import asyncio
import random
import socket
from pathlib import Path

import aiohttp
import pytest

from bot.config import Settings
from tests.reliability.processes import KefuProcess, script, wait_for
from tests.reliability.web_shopper import Shopper

pytestmark = pytest.mark.slow

SESSIONS = 20
PER_SESSION = 15


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def healthy(http: aiohttp.ClientSession, url: str) -> bool:
    try:
        async with http.get(f"{url}/healthz", timeout=aiohttp.ClientTimeout(total=1)) as response:
            return response.status == 200
    except (aiohttp.ClientError, TimeoutError):
        return False


async def converse(settings: Settings, folder: Path, *, kills: int, seed: int) -> list[Shopper]:
    rng = random.Random(seed)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    kefu = KefuProcess(
        settings,
        folder / "store.sqlite3",
        folder / "kefu.log",
        KEFU_HTTP__PORT=str(port),
        KEFU_CHANNELS='["web"]',
        # all 20 shoppers share 127.0.0.1: lift the per-address ticket budget (kept in the store across the kills)
        # so that who gets a ticket does not depend on timing; the budget has its own tests
        KEFU_SHOP__TICKETS_PER_CLIENT="1000",
    )
    async with aiohttp.ClientSession() as http:
        up = False

        async def start() -> None:
            nonlocal up
            kefu.start()
            while not await healthy(http, url):
                if not kefu.alive():
                    raise AssertionError(kefu.output()[-3000:])
                await asyncio.sleep(0.2)
            up = True

        await start()
        shoppers = [Shopper(http, url) for _ in range(SESSIONS)]
        await asyncio.gather(*(shopper.start() for shopper in shoppers))

        async def write(index: int, shopper: Shopper) -> None:
            for n, text in enumerate(script(index, PER_SESSION)):
                await shopper.say(text, f"{index}-{n}")
                await asyncio.sleep(rng.uniform(0.2, 0.8))

        writers = asyncio.gather(*(write(i, s) for i, s in enumerate(shoppers)))
        shown = lambda: sum(len(s.replies) for s in shoppers)  # noqa: E731
        try:
            for _ in range(kills):
                target = shown() + rng.randint(5, 60)
                await wait_for(lambda: shown() >= target, kefu, timeout=180, what=f"{target} replies")  # noqa: B023
                await asyncio.sleep(rng.uniform(0.0, 0.4))
                kefu.kill()
                up = False
                await start()
            await writers
            await wait_for(
                lambda: all(len(s.replies) >= PER_SESSION for s in shoppers),
                kefu,
                timeout=300,
                what="every session's answers",
            )
            await asyncio.sleep(1.5)  # a repeat would arrive now
            assert kefu.terminate() == 0, kefu.output()[-3000:]
        finally:
            writers.cancel()
            await asyncio.gather(*(s.close() for s in shoppers), return_exceptions=True)
            if kefu.alive():
                kefu.kill()
    assert up
    return shoppers


async def test_every_web_message_is_answered_once_in_order_through_three_kills(
    demo_components: object, demo_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    control = await converse(demo_settings, tmp_path_factory.mktemp("web-control"), kills=0, seed=1)
    killed = await converse(demo_settings, tmp_path_factory.mktemp("web-killed"), kills=3, seed=2026)
    repeats = sum(shopper.repeats for shopper in killed)
    print(f"web crash suite: 300 messages, 3 kills, {repeats} replies sent again and dropped by their id")
    for index, (expected, got) in enumerate(zip(control, killed, strict=True)):
        assert len(expected.replies) == PER_SESSION, (index, expected.replies)
        assert got.replies == expected.replies, index
        assert not got.errors, got.errors
