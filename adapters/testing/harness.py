"""What the contract suite runs an adapter in: the real runtime and courier (short retry pauses) and an echo bot."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from adapters.base import Adapter
from bot.delivery import Courier
from bot.inbox import MemoryInbox
from bot.messages import HUMAN_PAYLOAD, ConversationRef, Message, QuickReply, Reply
from bot.outbound import Channels
from bot.runtime import Runtime

LONG_REPLY_CHARS = 5000
PRESS_PAYLOAD = "contract:yes"
"""The payload of the echo bot's first button, which the button check presses."""
DELIVERY_ATTEMPTS = 3
"""How often the harness's courier tries a reply before it gives up (and counts it)."""


@dataclass
class EchoBot:
    """A deterministic bot: ``echo: <text>``, ``pressed: <payload>`` for a button, a long reply for ``long``."""

    received: list[Message] = field(default_factory=list)

    async def handle(self, message: Message) -> Reply:
        self.received.append(message)
        if message.payload:
            return Reply(text=f"pressed: {message.payload}")
        return self.answer(message.text)

    @staticmethod
    def answer(text: str) -> Reply:
        if text == "long":
            body = " ".join(f"sentence {n:04d} of a long answer." for n in range(LONG_REPLY_CHARS // 30))
            return Reply(text=body, language="en")
        buttons = (QuickReply("Yes", PRESS_PAYLOAD), QuickReply("Talk to a human", HUMAN_PAYLOAD))
        return Reply(text=f"echo: {text}", quick_replies=buttons)


class WatchedOutbound:
    """The runtime's outbound port over the adapter, remembering every error its ``send`` raised."""

    def __init__(self, channels: Channels) -> None:
        self.channels = channels
        self.failures: list[Exception] = []

    async def send(self, conversation: ConversationRef, reply: Reply) -> None:
        try:
            await self.channels.send(conversation, reply)
        except Exception as error:
            self.failures.append(error)
            raise

    async def working(self, conversation: ConversationRef) -> None:
        await self.channels.working(conversation)

    async def fetch(self, channel: str, locator: str) -> bytes:
        return await self.channels.fetch(channel, locator)


@dataclass
class Harness:
    """The adapter under test, the driver playing its user, the echo bot and the runtime between them."""

    adapter: Adapter
    driver: Any
    bot: EchoBot
    runtime: Runtime
    outbound: WatchedOutbound


def build_runtime(bot: EchoBot) -> tuple[Runtime, WatchedOutbound, Channels]:
    """The real runtime over an in-memory inbox, its courier retrying failed sends after a few milliseconds."""
    channels = Channels()
    outbound = WatchedOutbound(channels)
    inbox = MemoryInbox()
    courier = Courier(
        inbox,
        outbound,
        max_attempts=DELIVERY_ATTEMPTS,
        backoff_s=0.05,
        max_backoff_s=0.2,
        deferral_s=0.05,
        sweep_s=0.05,
    )
    runtime = Runtime(bot.handle, outbound=outbound, inbox=inbox, courier=courier, turn_timeout_s=10.0)
    return runtime, outbound, channels


async def eventually(condition: Callable[[], bool], *, what: str, timeout: float = 10.0) -> None:
    """Wait until ``condition()`` holds; fail naming ``what`` after ``timeout`` seconds (a hang guard)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"still waiting after {timeout:g} s for {what}")
        await asyncio.sleep(0.01)


async def close_driver(driver: object) -> None:
    """Call the driver's optional ``close()``."""
    close: Callable[[], Awaitable[None]] | None = getattr(driver, "close", None)
    if close is not None:
        await close()
