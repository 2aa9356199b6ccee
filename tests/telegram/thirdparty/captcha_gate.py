"""A join captcha for groups, as anti-spam bots do: a newcomer is muted at once (restrictChatMember with no
permissions) and asked to tap a named fruit on an inline keyboard built with a CallbackData factory; someone else's
taps get an alert, a wrong tap an alert with the tries left, the right one deletes the captcha and lets the
newcomer write again, and the third wrong tap bans them."""

from __future__ import annotations

import random
from collections.abc import Callable

from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters import IS_MEMBER, IS_NOT_MEMBER, ChatMemberUpdatedFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, ChatMemberUpdated, ChatPermissions
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiogram.utils.markdown import hlink

FRUITS = {"apple": "🍎", "banana": "🍌", "cherry": "🍒", "grapes": "🍇", "lemon": "🍋", "pear": "🍐"}
MAX_TRIES = 3
MUTED = ChatPermissions()
FREE = ChatPermissions(
    can_send_messages=True,
    can_send_audios=True,
    can_send_documents=True,
    can_send_photos=True,
    can_send_videos=True,
    can_send_video_notes=True,
    can_send_voice_notes=True,
    can_send_polls=True,
    can_send_other_messages=True,
    can_add_web_page_previews=True,
)


class Pick(CallbackData, prefix="captcha"):
    user_id: int
    fruit: str


class CaptchaGate:
    def __init__(self, *, choose: Callable[[list[str]], str] = random.choice) -> None:
        self.choose = choose
        self.expected: dict[tuple[int, int], str] = {}
        self.tries: dict[tuple[int, int], int] = {}

    async def joined(self, event: ChatMemberUpdated, bot: Bot) -> None:
        user = event.new_chat_member.user
        key = (event.chat.id, user.id)
        await bot.restrict_chat_member(event.chat.id, user.id, permissions=MUTED)
        self.expected[key], self.tries[key] = self.choose(sorted(FRUITS)), 0
        keyboard = InlineKeyboardBuilder()
        for name, emoji in FRUITS.items():
            keyboard.button(text=emoji, callback_data=Pick(user_id=user.id, fruit=name))
        keyboard.adjust(3)
        mention = hlink(user.first_name, f"tg://user?id={user.id}")
        await event.answer(
            f"{mention}, tap the {self.expected[key]} to write in this group.",
            parse_mode="HTML",
            reply_markup=keyboard.as_markup(),
        )

    async def picked(self, query: CallbackQuery, callback_data: Pick, bot: Bot) -> None:
        if query.message is None:
            return
        chat_id = query.message.chat.id
        if query.from_user.id != callback_data.user_id:
            await query.answer("This captcha is not for you.", show_alert=True)
            return
        key = (chat_id, callback_data.user_id)
        if callback_data.fruit == self.expected.get(key):
            await query.message.delete()
            await bot.restrict_chat_member(chat_id, callback_data.user_id, permissions=FREE)
            await query.answer("Welcome!")
            return
        self.tries[key] = self.tries.get(key, 0) + 1
        if self.tries[key] >= MAX_TRIES:
            await query.message.delete()
            await bot.ban_chat_member(chat_id, callback_data.user_id)
            await query.answer()
            return
        await query.answer(f"Wrong fruit: {MAX_TRIES - self.tries[key]} tries left.", show_alert=True)

    def dispatcher(self) -> Dispatcher:
        router = Router(name="captcha")
        router.chat_member.register(self.joined, ChatMemberUpdatedFilter(IS_NOT_MEMBER >> IS_MEMBER))
        router.callback_query.register(self.picked, Pick.filter(F.fruit.in_(FRUITS)))
        dp = Dispatcher()
        dp.include_router(router)
        return dp
