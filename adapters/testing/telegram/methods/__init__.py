"""The Bot API methods the fake implements, by lower-case name: ``HANDLERS[name](fake, params, files)``."""

from __future__ import annotations

from adapters.testing.telegram.methods import (
    bot_settings,
    chats,
    content,
    editing,
    forum,
    inline_payments,
    media,
    messages,
    updates,
)
from adapters.testing.telegram.methods.registry import HANDLERS, Handler

__all__ = [
    "HANDLERS",
    "Handler",
    "bot_settings",
    "chats",
    "content",
    "editing",
    "forum",
    "inline_payments",
    "media",
    "messages",
    "updates",
]
