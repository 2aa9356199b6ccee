"""A webhook bot that answers in the webhook response body (``handle_in_background=False``), the way small
shops on serverless hosts do: the handler *returns* the method instead of awaiting it."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters import CommandStart
from aiogram.methods import TelegramMethod
from aiogram.types import BufferedInputFile, Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

WEBHOOK_PATH = "/tg/webhook"
SECRET = "shop-secret-123"


async def start(message: Message) -> TelegramMethod[Any]:
    return message.answer("Welcome to the <i>corner shop</i>!", parse_mode="HTML")


async def price_list(message: Message) -> TelegramMethod[Any]:
    return message.answer_photo(
        BufferedInputFile(b"\xff\xd8price-list", filename="prices.jpg"), caption="Today's prices"
    )


async def echo(message: Message) -> TelegramMethod[Any]:
    return message.reply(f"We got: {message.text}")


def application(bot: Bot) -> web.Application:
    """The aiohttp app the bot serves: the webhook route, and the dispatcher's startup and shutdown."""
    router = Router(name="webhook_shop")
    router.message.register(start, CommandStart())
    router.message.register(price_list, F.text == "prices")
    router.message.register(echo, F.text)
    dp = Dispatcher()
    dp.include_router(router)
    app = web.Application()
    SimpleRequestHandler(dp, bot, handle_in_background=False, secret_token=SECRET).register(app, path=WEBHOOK_PATH)
    setup_application(app, dp, bot=bot)
    return app
