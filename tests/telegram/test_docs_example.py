"""The "Testing your own bot" example of docs/telegram.md, verbatim, run as a test (and checked against the doc)."""
# ruff: noqa: I001  (the example keeps the compact import block the doc shows)

from pathlib import Path

# --- example start ---
import asyncio
from aiogram import Dispatcher

async def test_bot_echoes(fake_telegram):  # the fixture comes with kefu's pytest plugin
    dp = Dispatcher()
    @dp.message()
    async def echo(message):
        await message.answer(f"You said: {message.text}")

    polling = asyncio.create_task(dp.start_polling(fake_telegram.aiogram_bot(), handle_signals=False))
    fake_telegram.user(42).says("hello")
    [reply] = await fake_telegram.expect_reply(42)
    assert reply.text == "You said: hello"
    await dp.stop_polling()
    await polling
# --- example end ---


def test_the_doc_shows_exactly_this_example() -> None:
    source = Path(__file__).read_text(encoding="utf-8")
    example = source.split("# --- example start ---\n")[1].split("# --- example end ---")[0]
    doc = (Path(__file__).parents[2] / "docs" / "telegram.md").read_text(encoding="utf-8")
    assert f"```python\n{example}```" in doc
    assert len(example.strip().splitlines()) <= 15
