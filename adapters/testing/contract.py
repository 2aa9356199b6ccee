"""A contract suite every channel adapter can run against itself.

Subclass ``AdapterContract`` in a test module and implement ``connect``: start your adapter with the
given ``dispatch`` and return it with a ``ChannelDriver`` that plays the user on your channel (through
the platform's fake, a socket, a pipe). The suite runs the real ``bot.runtime.Runtime`` with a small
echo bot, so what it checks is what a running kefu relies on:

    class TestMyChannel(AdapterContract):
        async def connect(self, dispatch):
            adapter = MyAdapter(...)
            await adapter.start(dispatch)
            return adapter, MyDriver(...)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

import pytest

from adapters.base import Adapter, Dispatch
from bot.messages import HUMAN_PAYLOAD, Message, QuickReply, Reply
from bot.outbound import Channels
from bot.runtime import Runtime

LONG_REPLY_CHARS = 5000


class ChannelDriver(Protocol):
    """Plays the user: says things on the channel and reads what the bot showed back."""

    async def say(self, text: str) -> None: ...

    async def next_reply(self, *, timeout: float = 10.0) -> str:
        """The text of the next message the user sees from the bot."""
        ...


@dataclass
class EchoBot:
    """A deterministic bot: answers ``echo: <text>``, or a long reply when asked for ``long``."""

    received: list[Message] = field(default_factory=list)

    async def handle(self, message: Message) -> Reply:
        self.received.append(message)
        return self.answer(message.text)

    @staticmethod
    def answer(text: str) -> Reply:
        if text == "long":
            body = " ".join(f"sentence {n:04d} of a long answer." for n in range(LONG_REPLY_CHARS // 30))
            return Reply(text=body, language="en")
        return Reply(text=f"echo: {text}", quick_replies=(QuickReply("Talk to a human", HUMAN_PAYLOAD),))


@dataclass
class Harness:
    adapter: Adapter
    driver: ChannelDriver
    bot: EchoBot
    runtime: Runtime


class AdapterContract:
    """The checks; subclasses provide ``connect``."""

    async def connect(self, dispatch: Dispatch) -> tuple[Adapter, ChannelDriver]:
        raise NotImplementedError("implement connect() in your test class")

    @pytest.fixture
    async def harness(self) -> AsyncIterator[Harness]:
        bot = EchoBot()
        channels = Channels()
        runtime = Runtime(bot.handle, outbound=channels, turn_timeout_s=10.0)
        adapter, driver = await self.connect(runtime.dispatch)
        channels.add(adapter)
        try:
            yield Harness(adapter, driver, bot, runtime)
        finally:
            await runtime.stop(drain_timeout_s=2.0)
            await adapter.stop()

    async def test_text_round_trip(self, harness: Harness) -> None:
        await harness.driver.say("hello there")
        assert "echo: hello there" in await harness.driver.next_reply()

    async def test_chinese_text_round_trip(self, harness: Harness) -> None:
        await harness.driver.say("你好，我的订单到哪了？")
        assert "echo: 你好，我的订单到哪了？" in await harness.driver.next_reply()

    async def test_inbound_message_is_well_formed(self, harness: Harness) -> None:
        await harness.driver.say("first")
        await harness.driver.next_reply()
        await harness.driver.say("second")
        await harness.driver.next_reply()
        first, second = harness.bot.received[-2:]
        assert first.conversation.channel == harness.adapter.name
        assert first.conversation == second.conversation
        assert first.user_id
        assert first.message_id != second.message_id

    async def test_replies_keep_the_conversation_order(self, harness: Harness) -> None:
        texts = [f"message {n}" for n in range(5)]
        for text in texts:
            await harness.driver.say(text)
        replies = [await harness.driver.next_reply() for _ in texts]
        for text, reply in zip(texts, replies, strict=True):
            assert f"echo: {text}" in reply

    async def test_long_reply_arrives_whole(self, harness: Harness) -> None:
        await harness.driver.say("long")
        expected = EchoBot.answer("long").text
        shown = ""
        while len(shown.split()) < len(expected.split()):
            shown += " " + await harness.driver.next_reply()
        assert shown.split() == expected.split()

    async def test_stop_is_idempotent(self, harness: Harness) -> None:
        await harness.driver.say("before stop")
        assert "echo: before stop" in await harness.driver.next_reply()
        await harness.adapter.stop()
        await harness.adapter.stop()
