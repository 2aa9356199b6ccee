"""The runtime's outbound port: replies, "typing…" and attachment fetches, routed to each channel's adapter.

channels = Channels()
channels.add(telegram_adapter, live=False)    # before it starts: its replies wait in the outbox
runtime = Runtime(handler, outbound=channels, ...)
await telegram_adapter.start(runtime.dispatch)
channels.go_live("telegram")
"""

from __future__ import annotations

import logging
from typing import Protocol

from bot.errors import BadInput, DeliveryDeferred
from bot.messages import ConversationRef, Reply

log = logging.getLogger(__name__)


class ReplySink(Protocol):
    """One channel's outbound side: every ``Adapter`` is one."""

    async def send(self, conversation: ConversationRef, reply: Reply) -> None: ...

    async def working(self, conversation: ConversationRef) -> None: ...

    async def fetch(self, locator: str) -> bytes:
        """The bytes of an attachment the channel named ``locator`` (after a restart)."""
        ...


class Outbound(Protocol):
    """What the runtime, its courier and its middlewares send through."""

    async def send(self, conversation: ConversationRef, reply: Reply) -> None:
        """Deliver ``reply``; ``DeliveryDeferred`` when its channel cannot take it yet."""
        ...

    async def working(self, conversation: ConversationRef) -> None:
        """Show "typing…" (best effort: never raises)."""
        ...

    async def fetch(self, channel: str, locator: str) -> bytes:
        """The bytes of an attachment ``channel`` named ``locator``."""
        ...


class Channels:
    """``Outbound`` over the channels' sinks by name; a channel that is not live yet defers its replies."""

    def __init__(self) -> None:
        self._sinks: dict[str, ReplySink] = {}
        self._live: set[str] = set()

    def add(self, sink: ReplySink, *, name: str | None = None, live: bool = True) -> None:
        """Route channel ``name`` (default: the sink's ``name``) to ``sink``; ``live=False`` until it starts."""
        channel = name or str(getattr(sink, "name", ""))
        if not channel:
            raise ValueError("a channel needs a name")
        self._sinks[channel] = sink
        if live:
            self._live.add(channel)

    def go_live(self, name: str) -> None:
        """The channel's adapter has started: replies go out from now on."""
        if name not in self._sinks:
            raise LookupError(f"no channel named {name!r}")
        self._live.add(name)

    def go_down(self, name: str) -> None:
        """The channel's adapter stopped here: its replies are deferred (another front may send them)."""
        self._live.discard(name)

    def names(self) -> list[str]:
        return list(self._sinks)

    def is_live(self, name: str) -> bool:
        """Whether the channel's adapter has started (its replies go out)."""
        return name in self._live

    async def send(self, conversation: ConversationRef, reply: Reply) -> None:
        await self._sink(conversation.channel).send(conversation, reply)

    async def working(self, conversation: ConversationRef) -> None:
        try:
            await self._sink(conversation.channel).working(conversation)
        except Exception:  # a typing indicator is best effort
            log.debug("typing indicator failed in %s", conversation, exc_info=True)

    async def fetch(self, channel: str, locator: str) -> bytes:
        sink = self._sinks.get(channel)
        if sink is None:
            raise BadInput(f"the {channel} channel is not configured, so its attachment cannot be fetched")
        return await sink.fetch(locator)

    def _sink(self, channel: str) -> ReplySink:
        if channel not in self._live:
            raise DeliveryDeferred(f"channel {channel!r} is not running")
        return self._sinks[channel]
