"""``ShowTyping``: "typing…" in the conversation while the bot works on an answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from bot.messages import ConversationRef, Message, Reply
from bot.middleware.base import TurnHandler

Quiet = Callable[[Message], Awaitable[bool]]
"""True when no "typing…" should show for the message (an operator owns the conversation)."""


class ShowsWorking(Protocol):
    """Where "typing…" is shown: the outbound port (``bot.outbound.Outbound``), or a worker's relay to the fronts."""

    async def working(self, conversation: ConversationRef) -> None:
        """Show "typing…" (best effort: never raises)."""
        ...


class ShowTyping:
    """Shows "typing…" before the turn, except for a channel's own answer and when ``quiet`` says so."""

    def __init__(self, outbound: ShowsWorking, *, quiet: Quiet | None = None) -> None:
        self._outbound = outbound
        self._quiet = quiet

    async def __call__(self, handler: TurnHandler, message: Message, data: dict[str, Any]) -> Reply | None:
        if message.answer is None and not (self._quiet is not None and await self._quiet(message)):
            await self._outbound.working(message.conversation)
        return await handler(message, data)
