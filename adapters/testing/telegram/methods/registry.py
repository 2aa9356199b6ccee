"""The table of implemented methods, filled by ``@method("sendMessage")`` in the modules of this package."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from adapters.testing.telegram.payloads import Upload

if TYPE_CHECKING:
    from adapters.testing.telegram.server import FakeTelegram

Handler = Callable[["FakeTelegram", dict[str, Any], dict[str, Upload]], Awaitable[Any]]
HANDLERS: dict[str, Handler] = {}
NAMES: list[str] = []
"""The implemented methods as the Bot API spells them."""


def method(*names: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for name in names:
            HANDLERS[name.lower()] = handler
            NAMES.append(name)
        return handler

    return register
