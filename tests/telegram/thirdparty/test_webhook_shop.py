"""A webhook bot whose replies travel in the webhook response body: the fake executes them like Telegram."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from adapters.testing.telegram import FakeTelegram
from tests.telegram.thirdparty.webhook_shop import SECRET, WEBHOOK_PATH, application


@pytest.fixture
async def webhook_url(fake_telegram: FakeTelegram) -> AsyncIterator[str]:
    bot = fake_telegram.aiogram_bot()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}{WEBHOOK_PATH}"
    runner = web.AppRunner(application(bot), handle_signals=False)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    await bot.set_webhook(url, secret_token=SECRET)
    yield url
    await runner.cleanup()


async def test_replies_in_the_response_body_reach_the_user(fake_telegram: FakeTelegram, webhook_url: str) -> None:
    shopper = fake_telegram.user(301, first_name="Sam")
    shopper.says("/start")
    [welcome] = await shopper.expect_reply()
    assert welcome.text == "Welcome to the corner shop!" and welcome.formatted("italic") == ["corner shop"]
    shopper.says("prices")
    [prices] = await shopper.expect_reply()
    assert prices.photo == b"\xff\xd8price-list" and prices.text == "Today's prices"  # multipart body
    question = shopper.says("do you sell tea?")["message"]
    [reply] = await shopper.expect_reply()
    assert reply.text == "We got: do you sell tea?" and reply.reply_to == question["message_id"]
    assert {c.via for c in fake_telegram.calls_to("sendMessage")} == {"webhook reply"}
    assert all(d.status == 200 for d in fake_telegram.webhook_deliveries)


async def test_a_forged_secret_is_refused_by_the_bot(fake_telegram: FakeTelegram, webhook_url: str) -> None:
    update = {
        "update_id": 1,
        "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "hi"},
    }
    assert await fake_telegram.webhook_post(update, secret_token="forged") == 401
    assert fake_telegram.sent_to(1) == []
