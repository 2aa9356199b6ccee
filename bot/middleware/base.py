"""The middleware extension point: one async ``__call__(handler, message, data)`` around each turn.

    class LogTurns:
        async def __call__(self, handler, message, data):
            reply = await handler(message, data)
            log.info("%s answered", message.conversation)
            return reply

    runtime = Runtime(conversations.handle, outbound=channels, middlewares=[LogTurns()])

A middleware may act before and after the turn, put what later ones need in ``data``, or answer itself and
not call ``handler`` (the turn then ends with its answer). The runtime gives every chain ``data["outbound"]``.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from bot.messages import Message, Reply

TurnHandler = Callable[[Message, dict[str, Any]], Awaitable[Reply | None]]
"""Answers a message (None: nothing to send, an operator owns the conversation)."""


class Middleware(Protocol):
    async def __call__(self, handler: TurnHandler, message: Message, data: dict[str, Any]) -> Reply | None: ...


def chain(handler: TurnHandler, middlewares: Sequence[Middleware]) -> TurnHandler:
    """``handler`` wrapped by ``middlewares``, the first outermost."""
    wrapped = handler
    for middleware in reversed(middlewares):
        wrapped = functools.partial(middleware, wrapped)
    return wrapped
