"""An inline-mode catalog: ``@bot hats`` lists matching products as articles, paged with next_offset."""

from __future__ import annotations

from aiogram import Dispatcher, Router
from aiogram.types import InlineQuery, InlineQueryResultArticle, InputTextMessageContent

PRODUCTS = [f"{colour} {item}" for item in ("hat", "scarf", "glove") for colour in ("red", "blue", "green", "black")]
PAGE = 2


async def search(query: InlineQuery) -> None:
    found = [p for p in PRODUCTS if query.query.lower() in p]
    start = int(query.offset or 0)
    page = found[start : start + PAGE]
    results = [
        InlineQueryResultArticle(
            id=str(start + i),
            title=name.title(),
            input_message_content=InputTextMessageContent(message_text=f"<b>{name}</b> is in stock", parse_mode="HTML"),
        )
        for i, name in enumerate(page)
    ]
    next_offset = str(start + PAGE) if start + PAGE < len(found) else ""
    await query.answer(results, cache_time=1, is_personal=True, next_offset=next_offset)


def dispatcher() -> Dispatcher:
    router = Router(name="inline_catalog")
    router.inline_query.register(search)
    dp = Dispatcher()
    dp.include_router(router)
    return dp
