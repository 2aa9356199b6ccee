"""The fixture's user API: replies counted from the user's last action, a settle that waits for the bot."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Dispatcher
from aiogram.types import Message

from adapters.testing.telegram import FakeTelegram


def _echo_twice() -> Dispatcher:
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await asyncio.sleep(0.05)
        await message.answer(f"1: {message.text}")
        await message.answer(f"2: {message.text}")

    return dp


async def test_expect_reply_counts_from_the_users_last_action(fake_telegram: FakeTelegram) -> None:
    dp, bot = _echo_twice(), fake_telegram.aiogram_bot()
    user = fake_telegram.user(31)
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
    user.says("a")
    assert [m.text for m in await user.expect_reply(2)] == ["1: a", "2: a"]
    user.says("b")
    assert [m.text for m in await user.expect_reply(2)] == ["1: b", "2: b"]
    with pytest.raises(TimeoutError, match=r"expected 1 replies in chat 31 .* got \[\]"):
        await user.expect_reply(timeout=0.5)  # those two were returned already: the next one is awaited
    await dp.stop_polling()
    await polling


async def test_idle_waits_for_a_bot_that_has_not_started_polling_yet(fake_telegram: FakeTelegram) -> None:
    dp, bot = _echo_twice(), fake_telegram.aiogram_bot()
    fake_telegram.user(32).says("early")
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
    await fake_telegram.idle()  # not "returns at once": the update is taken and both answers are out
    assert [m.text for m in fake_telegram.sent_to(32)] == ["1: early", "2: early"]
    await dp.stop_polling()
    await polling


async def test_idle_says_when_nobody_takes_the_updates(fake_telegram: FakeTelegram) -> None:
    fake_telegram.user(33).says("anyone?")
    with pytest.raises(TimeoutError, match=r"did not take 1 update\(s\) within 0.3 s: is it polling"):
        await fake_telegram.idle(timeout=0.3)


async def test_idle_settles_a_webhook_bot_that_answers_in_the_background(fake_telegram: FakeTelegram) -> None:
    import socket

    from aiogram.webhook.aiohttp_server import SimpleRequestHandler
    from aiohttp import web

    dp, bot = _echo_twice(), fake_telegram.aiogram_bot()
    app = web.Application()
    SimpleRequestHandler(dp, bot).register(app, path="/hook")  # handle_in_background=True: 200 at once
    runner, sock = web.AppRunner(app), socket.create_server(("127.0.0.1", 0))
    await runner.setup()
    await web.SockSite(runner, sock).start()
    await bot.set_webhook(f"http://127.0.0.1:{sock.getsockname()[1]}/hook")
    fake_telegram.user(34).says("hook")
    await fake_telegram.idle()
    assert [m.text for m in fake_telegram.sent_to(34)] == ["1: hook", "2: hook"]
    await runner.cleanup()
    await bot.session.close()
