"""A support desk in a forum supergroup, as open-source support bots do: each customer gets a topic of their own
(createForumTopic, named after them), their messages are forwarded into it and their albums copied there as one
media group (an album middleware gathers the parts), what operators write in the topic is copied back to the
customer, the bot greets each new topic (on its ``forum_topic_created`` service message) and pins the greeting,
``/close`` closes the topic, and a topic that was deleted is made again when the customer writes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher, F, Router
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.filters import Command
from aiogram.types import InputMediaDocument, InputMediaPhoto, InputMediaVideo, Message, TelegramObject

_INPUT = {"photo": InputMediaPhoto, "video": InputMediaVideo, "document": InputMediaDocument}


class AlbumMiddleware(BaseMiddleware):
    """Hold the messages of one media group for ``latency`` seconds, then call the handler once with all of them
    in ``data["album"]`` (the parts of an album arrive as separate updates)."""

    def __init__(self, latency: float = 0.2) -> None:
        self.latency = latency
        self.pending: dict[str, list[Message]] = {}

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Message) or not event.media_group_id:
            return await handler(event, data)
        group = self.pending.setdefault(event.media_group_id, [])
        group.append(event)
        if len(group) > 1:
            return None
        await asyncio.sleep(self.latency)
        data["album"] = self.pending.pop(event.media_group_id)
        return await handler(event, data)


def as_media(album: list[Message]) -> list[Any]:
    """The album's parts as InputMedia (by file_id), the first one keeping the caption."""
    media = []
    for part in album:
        kind = part.content_type
        file_id = part.photo[-1].file_id if part.photo else getattr(part, kind).file_id
        media.append(_INPUT[kind](media=file_id, caption=part.caption if not media else None))
    return media


class TopicDesk:
    def __init__(self, group_id: int) -> None:
        self.group_id = group_id
        self.topics: dict[int, int] = {}
        """Customer id → their topic's message_thread_id (a real bot keeps it in Redis)."""
        self.customers: dict[int, int] = {}
        """Topic → customer id."""

    async def topic_for(self, bot: Bot, message: Message, *, fresh: bool = False) -> int:
        user = message.from_user
        assert user is not None
        if fresh or user.id not in self.topics:
            topic = await bot.create_forum_topic(self.group_id, name=user.full_name)
            self.topics[user.id] = topic.message_thread_id
            self.customers[topic.message_thread_id] = user.id
        return self.topics[user.id]

    async def from_customer(self, message: Message, bot: Bot, album: list[Message] | None = None) -> None:
        async def deliver(thread_id: int) -> None:
            if album:
                await bot.send_media_group(self.group_id, as_media(album), message_thread_id=thread_id)
            else:
                await message.forward(self.group_id, message_thread_id=thread_id)

        try:
            await deliver(await self.topic_for(bot, message))
        except TelegramBadRequest as error:
            if "message thread not found" not in error.message:
                raise
            await deliver(await self.topic_for(bot, message, fresh=True))
        await message.reply("Sent to our team, we will answer here.")

    async def topic_created(self, message: Message) -> None:
        customer = self.customers.get(message.message_thread_id or 0)
        if customer is None:
            return
        greeting = await message.answer(f"New conversation with customer <code>{customer}</code>.", parse_mode="HTML")
        await greeting.pin(disable_notification=True)

    async def from_operator(self, message: Message, bot: Bot) -> None:
        customer = self.customers.get(message.message_thread_id or 0)
        if customer is None:
            return
        try:
            await message.copy_to(customer)
        except TelegramForbiddenError as error:
            if "blocked" not in error.message:
                raise
            await message.reply("The customer blocked the bot; the message was not delivered.")

    async def close(self, message: Message, bot: Bot) -> None:
        await bot.close_forum_topic(self.group_id, message_thread_id=message.message_thread_id or 0)

    def dispatcher(self) -> Dispatcher:
        private = Router(name="private")
        private.message.filter(F.chat.type == "private")
        private.message.middleware(AlbumMiddleware())
        private.message.register(self.from_customer)

        group = Router(name="group")
        group.message.filter(F.chat.id == self.group_id, F.message_thread_id)
        group.message.register(self.topic_created, F.forum_topic_created)
        group.message.register(self.close, Command("close"))
        group.message.register(self.from_operator, F.from_user.is_bot.is_(False), ~F.forum_topic_closed)

        dp = Dispatcher()
        dp.include_routers(group, private)
        return dp
