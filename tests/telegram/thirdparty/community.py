"""A community bot: greets members who join its group (``chat_member``, which it must ask for), says goodbye,
and keeps a subscriber list that drops users who block it (``my_chat_member``), as broadcast bots do."""

from __future__ import annotations

from aiogram import Bot, Dispatcher, Router
from aiogram.exceptions import TelegramForbiddenError
from aiogram.filters import JOIN_TRANSITION, LEAVE_TRANSITION, ChatMemberUpdatedFilter, Command
from aiogram.filters.chat_member_updated import KICKED, MEMBER
from aiogram.types import ChatMemberUpdated, Message
from aiogram.utils.text_decorations import html_decoration


class Community:
    def __init__(self) -> None:
        self.subscribers: set[int] = set()
        self.failed: list[int] = []

    async def joined(self, event: ChatMemberUpdated) -> None:
        name = html_decoration.quote(event.new_chat_member.user.first_name)
        await event.answer(f"Welcome, <b>{name}</b>! Read the rules in the pinned message.", parse_mode="HTML")

    async def left(self, event: ChatMemberUpdated) -> None:
        await event.answer(f"{event.old_chat_member.user.first_name} left the group.")

    async def subscribe(self, message: Message) -> None:
        self.subscribers.add(message.chat.id)
        await message.answer("Subscribed to news.")

    async def blocked(self, event: ChatMemberUpdated) -> None:
        self.subscribers.discard(event.chat.id)

    async def broadcast(self, message: Message, bot: Bot) -> None:
        text = (message.text or "").removeprefix("/broadcast").strip()
        for chat_id in sorted(self.subscribers):
            try:
                await bot.send_message(chat_id, text)
            except TelegramForbiddenError:
                self.failed.append(chat_id)

    def dispatcher(self) -> Dispatcher:
        router = Router(name="community")
        router.chat_member.register(self.joined, ChatMemberUpdatedFilter(JOIN_TRANSITION))
        router.chat_member.register(self.left, ChatMemberUpdatedFilter(LEAVE_TRANSITION))
        router.my_chat_member.register(self.blocked, ChatMemberUpdatedFilter(MEMBER >> KICKED))
        router.message.register(self.subscribe, Command("subscribe"))
        router.message.register(self.broadcast, Command("broadcast"))
        dp = Dispatcher()
        dp.include_router(router)
        return dp
