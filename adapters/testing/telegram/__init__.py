"""A loopback fake of the Telegram Bot API for tests: the real aiogram client (or any client) talks to it.

    async with FakeTelegram() as fake:            # or the ``fake_telegram`` pytest fixture
        fake.user(42).says("hello")               # inject updates as a user
        [answer] = await fake.expect_reply(42)     # the bot's replies since the user's last action
        fake.fail_next("sendMessage", status=429, retry_after=1)

It serves ``/bot<token>/<method>`` and ``/file/bot<token>/<path>`` on 127.0.0.1 and needs no aiogram.
"""

from __future__ import annotations

from adapters.testing.telegram.methods.registry import NAMES as IMPLEMENTED_METHODS
from adapters.testing.telegram.records import (
    ApiCall,
    CallbackAnswer,
    Entity,
    InlineAnswer,
    Media,
    PreCheckoutAnswer,
    SentMessage,
    WebhookDelivery,
)
from adapters.testing.telegram.server import FakeTelegram
from adapters.testing.telegram.users import FakeUser
from adapters.testing.telegram.waiting import NotImplementedByFake

__all__ = [
    "IMPLEMENTED_METHODS",
    "ApiCall",
    "CallbackAnswer",
    "Entity",
    "FakeTelegram",
    "FakeUser",
    "InlineAnswer",
    "Media",
    "NotImplementedByFake",
    "PreCheckoutAnswer",
    "SentMessage",
    "WebhookDelivery",
]
