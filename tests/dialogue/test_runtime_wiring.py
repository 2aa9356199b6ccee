"""The integration contract: the runtime calls ``Conversations.handle``; the desk sends via ``Runtime.deliver``."""

from __future__ import annotations

import asyncio

from bot.app import open_dialogue, open_inbox
from bot.config import Settings
from bot.delivery import Courier
from bot.messages import ConversationRef, Message, Reply
from bot.middleware import ShowTyping
from bot.outbound import Channels
from bot.runtime import Runtime
from tests.dialogue.conftest import STORES, RealEngines, make_pipeline


class Channel:
    """A reply sink like an adapter: records what each conversation was sent."""

    def __init__(self) -> None:
        self.sent: dict[str, list[str]] = {}
        self.typing: dict[str, int] = {}

    async def send(self, conversation: ConversationRef, reply: Reply) -> None:
        self.sent.setdefault(conversation.conversation_id, []).append(reply.text)

    async def working(self, conversation: ConversationRef) -> None:
        self.typing[conversation.conversation_id] = self.typing.get(conversation.conversation_id, 0) + 1


@STORES
async def test_conversations_behind_the_runtime(real_engines: RealEngines, settings: Settings) -> None:
    """Wired as the composition root wires it: the desk delivers through the courier the runtime sends with."""
    channel = Channel()
    channels = Channels()
    channels.add(channel, name="web")  # type: ignore[arg-type]
    inbox = await open_inbox(settings)
    courier = Courier(inbox, channels)
    dialogue = await open_dialogue(
        settings, pipeline=lambda orders: make_pipeline(real_engines, orders=orders), deliver=courier.deliver
    )
    typing = ShowTyping(channels, quiet=dialogue.conversations.operator_owns)
    runtime = Runtime(
        dialogue.conversations.handle,
        outbound=channels,
        inbox=inbox,
        courier=courier,
        middlewares=[typing],
        concurrency=8,
    )
    await runtime.resume()
    dialogue.start()
    n = 0

    async def say(conversation: str, text: str) -> None:
        nonlocal n
        n += 1
        await runtime.dispatch(
            Message(ConversationRef("web", conversation), conversation, text=text, message_id=str(n))
        )
        await runtime.join()

    await asyncio.gather(say("alice", "where is my order?"), say("bob", "我要找人工"))
    await say("alice", "100234")
    bob = (await dialogue.store.load("web:bob")).ticket_id
    assert bob is not None
    await dialogue.desk.take(bob, operator="ana")
    await say("bob", "还在吗？")
    await dialogue.desk.reply(bob, "在的，请稍等。", operator="ana")
    await runtime.stop()
    await dialogue.aclose()
    await dialogue.pipeline.engines.aclose()
    await inbox.close()

    assert "SF1234567890" in channel.sent["alice"][-1]
    assert channel.sent["bob"][1:] == ["人工客服已接入，正在为您服务。", "在的，请稍等。"], (
        "no bot reply while Ana owns it"
    )
    assert runtime.turns_done == 4 and runtime.turns_failed == 0
    assert channel.typing == {"alice": 2, "bob": 1}, "no typing indicator while an operator owns bob's conversation"
