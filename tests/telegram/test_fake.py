"""The fake Bot API itself, driven by the real aiogram client and by plain HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError, TelegramUnauthorizedError
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from aiohttp import web

from adapters.testing.telegram import FakeTelegram


@pytest.fixture
async def bot(fake_telegram: FakeTelegram) -> AsyncIterator[Bot]:
    bot = Bot(fake_telegram.token, session=AiohttpSession(api=TelegramAPIServer.from_base(fake_telegram.base_url)))
    yield bot
    await bot.session.close()


def test_tokens_must_look_like_telegram_tokens() -> None:
    with pytest.raises(ValueError, match="<digits>:<text>"):
        FakeTelegram(token="abc")


async def test_updates_stay_until_an_offset_confirms_them(fake_telegram: FakeTelegram, bot: Bot) -> None:
    fake_telegram.user(1).says("a")
    fake_telegram.user(1).says("b")
    first = await bot.get_updates(limit=1)
    assert [u.message.text for u in first if u.message] == ["a"]
    again = await bot.get_updates()
    assert [u.message.text for u in again if u.message] == ["a", "b"]
    assert await bot.get_updates(offset=again[-1].update_id + 1) == []
    assert fake_telegram.pending_updates == 0


async def test_a_second_poller_terminates_the_first_with_409(fake_telegram: FakeTelegram, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=20))
    await asyncio.sleep(0.1)
    second = asyncio.create_task(bot.get_updates(timeout=1))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await asyncio.wait_for(first, 5)
    assert await second == []


async def test_stop_wakes_a_waiting_long_poll() -> None:
    fake = await FakeTelegram().start()
    bot = Bot(fake.token, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await asyncio.sleep(0.1)
    await asyncio.wait_for(fake.stop(), 5)
    assert await asyncio.wait_for(poll, 5) == []
    await bot.session.close()


async def test_get_updates_is_refused_while_a_webhook_is_set(fake_telegram: FakeTelegram, bot: Bot) -> None:
    await bot.set_webhook("http://127.0.0.1:9/hook", secret_token="s")
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates()
    await bot.delete_webhook()
    assert await bot.get_updates() == []


async def test_telegram_checks_are_enforced(fake_telegram: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(1, "<b>bold", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match='Unsupported start tag "script" at byte offset 0'):
        await bot.send_message(1, "<script>x</script>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="too long"):
        await bot.send_message(1, "😀" * 2049)
    markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="d" * 65)]])
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(1, "hi", reply_markup=markup)
    assert fake_telegram.sent_to(1) == []
    other = Bot("1:other", session=AiohttpSession(api=TelegramAPIServer.from_base(fake_telegram.base_url)))
    with pytest.raises(TelegramUnauthorizedError):
        await other.get_me()
    await other.session.close()


async def test_multipart_upload_edit_and_plain_json_clients(fake_telegram: FakeTelegram, bot: Bot) -> None:
    await bot.send_photo(
        5, BufferedInputFile(b"\xff\xd8JPEG", filename="p.jpg"), caption="<i>new</i>", parse_mode="HTML"
    )
    sent = await bot.send_message(5, "draft")
    await bot.edit_message_text("final", chat_id=5, message_id=sent.message_id)
    photo, text = fake_telegram.sent_to(5)
    assert photo.photo == b"\xff\xd8JPEG" and photo.text == "new"
    assert text.text == "final" and text.edits == 1
    async with aiohttp.ClientSession() as http:
        url = f"{fake_telegram.base_url}/bot{fake_telegram.token}"
        async with http.post(f"{url}/sendMessage", json={"chat_id": 5, "text": "from JSON"}) as response:
            assert (await response.json())["ok"] is True
        async with http.post(f"{url}/noSuchMethod") as response:
            assert response.status == 404
    assert fake_telegram.sent_to(5)[-1].text == "from JSON"


async def test_webhook_delivery_retries_then_drops_and_records(fake_telegram: FakeTelegram, bot: Bot) -> None:
    statuses = iter([500, 500, 500, 200])
    seen: list[tuple[str | None, int]] = []

    async def hook(request: web.Request) -> web.Response:
        body = await request.json()
        seen.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), body["update_id"]))
        return web.Response(status=next(statuses))

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        await bot.set_webhook(f"http://{host}:{port}/hook", secret_token="abc")
        dropped = fake_telegram.user(9).says("one")
        delivered = fake_telegram.user(9).says("two")
        await fake_telegram.wait_until(lambda: len(fake_telegram.webhook_deliveries) >= 4)
        assert [(d.update_id, d.status) for d in fake_telegram.webhook_deliveries] == [
            (dropped["update_id"], 500),
            (dropped["update_id"], 500),
            (dropped["update_id"], 500),
            (delivered["update_id"], 200),
        ]
        assert {secret for secret, _ in seen} == {"abc"}
    finally:
        await runner.cleanup()
