"""A loopback fake of the Telegram Bot API for tests: the real aiogram client (or any client) talks to it.

    async with FakeTelegram() as fake:            # or the ``fake_telegram`` pytest fixture
        fake.user(42).says("hello")               # inject updates as a user
        [answer] = await fake.wait_for_messages(42, 1)
        fake.fail_next("sendMessage", status=429, retry_after=1)

It serves ``/bot<token>/<method>`` and ``/file/bot<token>/<path>`` on 127.0.0.1 and needs no aiogram.
"""

from __future__ import annotations

from adapters.testing.telegram.records import ApiCall, CallbackAnswer, SentMessage, WebhookDelivery
from adapters.testing.telegram.server import FakeTelegram
from adapters.testing.telegram.users import FakeUser

__all__ = ["ApiCall", "CallbackAnswer", "FakeTelegram", "FakeUser", "SentMessage", "WebhookDelivery"]
