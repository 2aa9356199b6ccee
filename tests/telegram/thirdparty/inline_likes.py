"""An inline "like" card, like the vote bots shared in group chats: ``@bot <text>`` offers a card with a 👍
button; presses on the sent card (an inline message) edit it through ``inline_message_id``."""

from __future__ import annotations

from collections import Counter

from aiogram import Bot, Dispatcher, Router
from aiogram.types import (
    CallbackQuery,
    ChosenInlineResult,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQuery,
    InlineQueryResultArticle,
    InputTextMessageContent,
)


def _button(likes: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=f"👍 {likes}", callback_data="like")]])


class Likes:
    def __init__(self) -> None:
        self.likes: Counter[str] = Counter()
        self.texts: dict[str, str] = {}
        self.chosen: list[str] = []

    async def offer(self, query: InlineQuery) -> None:
        text = query.query.strip() or "Like this"
        card = InlineQueryResultArticle(
            id="card",
            title=f"Card: {text}",
            reply_markup=_button(0),
            input_message_content=InputTextMessageContent(message_text=f"<b>{text}</b>", parse_mode="HTML"),
        )
        await query.answer([card], cache_time=0, is_personal=True)

    async def sent(self, chosen: ChosenInlineResult) -> None:
        self.chosen.append(chosen.result_id)

    async def like(self, query: CallbackQuery, bot: Bot) -> None:
        if query.inline_message_id is None:
            await query.answer("Only cards can be liked")
            return
        self.likes[query.inline_message_id] += 1
        await bot.edit_message_reply_markup(
            inline_message_id=query.inline_message_id, reply_markup=_button(self.likes[query.inline_message_id])
        )
        await query.answer("Liked!")

    def dispatcher(self) -> Dispatcher:
        router = Router(name="inline_likes")
        router.inline_query.register(self.offer)
        router.chosen_inline_result.register(self.sent)
        router.callback_query.register(self.like)
        dp = Dispatcher()
        dp.include_router(router)
        return dp
