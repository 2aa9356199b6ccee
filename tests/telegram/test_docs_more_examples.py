"""The FSM, webhook and multibot examples of docs/telegram.md, verbatim, run as tests (and checked against the doc)."""
# ruff: noqa: I001, E402  (the examples keep the compact import blocks the doc shows)

import re
from pathlib import Path

# --- fsm example ---
import asyncio
from aiogram import Dispatcher, F
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup

class Signup(StatesGroup):
    email = State()

async def test_signup_form(fake_telegram):
    dp = Dispatcher()
    @dp.message(F.text == "/signup")
    async def ask(message, state: FSMContext):
        await state.set_state(Signup.email)
        await message.answer("Your *email*?", parse_mode="MarkdownV2")
    @dp.message(Signup.email)
    async def save(message, state: FSMContext):
        await state.clear()
        await message.answer(f"Saved <code>{message.text}</code>", parse_mode="HTML")

    polling = asyncio.create_task(dp.start_polling(fake_telegram.aiogram_bot(), handle_signals=False))
    user = fake_telegram.user(42, first_name="Ann")
    user.says("/signup")
    [question] = await user.expect_reply()   # replies since this user's last action
    assert question.text == "Your email?" and question.formatted("bold") == ["email"]
    user.says("ann@example.com")
    [saved] = await user.expect_reply()
    assert saved.formatted("code") == ["ann@example.com"]
    await dp.stop_polling()
    await polling
# --- end ---

# --- webhook example ---
import socket
from aiohttp import web
from aiogram.webhook.aiohttp_server import SimpleRequestHandler

async def test_webhook_reply_in_the_body(fake_telegram):
    dp, bot = Dispatcher(), fake_telegram.aiogram_bot()
    @dp.message()
    async def echo(message):
        return message.answer(f"echo: {message.text}")  # returned, not awaited: sent in the response body

    app = web.Application()
    SimpleRequestHandler(dp, bot, handle_in_background=False, secret_token="s3cret").register(app, path="/hook")
    runner, sock = web.AppRunner(app), socket.create_server(("127.0.0.1", 0))
    await runner.setup()
    await web.SockSite(runner, sock).start()
    await bot.set_webhook(f"http://127.0.0.1:{sock.getsockname()[1]}/hook", secret_token="s3cret")
    fake_telegram.user(7).says("hi")
    [reply] = await fake_telegram.expect_reply(7)
    assert reply.text == "echo: hi" and fake_telegram.calls_to("sendMessage")[0].via == "webhook reply"
    await runner.cleanup()
    await bot.session.close()
# --- end ---

# --- multibot example ---
async def test_two_bots_one_dispatcher(fake_telegram):
    dp = Dispatcher()
    @dp.message()
    async def hello(message, bot):
        await message.answer(f"I am @{(await bot.me()).username}")

    support = fake_telegram.add_bot("42424242:SUPPORT", username="support_bot")
    bots = fake_telegram.aiogram_bot(), support.aiogram_bot()
    polling = asyncio.create_task(dp.start_polling(*bots, handle_signals=False))
    support.user(5).says("hello")
    [reply] = await support.expect_reply(5)
    assert reply.text == "I am @support_bot" and fake_telegram.sent_to(5) == []
    await dp.stop_polling()
    await polling
# --- end ---


def test_the_doc_shows_exactly_these_examples() -> None:
    source = Path(__file__).read_text(encoding="utf-8")
    doc = (Path(__file__).parents[2] / "docs" / "telegram.md").read_text(encoding="utf-8")
    examples = re.findall(r"# --- \w+ example ---\n(.*?)# --- end ---", source, flags=re.S)
    assert len(examples) == 3
    for example in examples:
        assert f"```python\n{example}```" in doc
