"""pytest plugin (entry point ``pytest11``): fixtures for testing bots against loopback fake platforms.

Loaded into every pytest run where kefu is installed, so it imports no platform SDK and no fake at
module level; fixtures that need pytest-asyncio are defined only when it is installed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from importlib.util import find_spec
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from adapters.testing.slack import FakeSlack
    from adapters.testing.telegram import FakeTelegram

if find_spec("pytest_asyncio") is not None:
    import pytest_asyncio

    @pytest_asyncio.fixture
    async def fake_telegram() -> AsyncIterator[FakeTelegram]:
        """A fake Telegram Bot API on 127.0.0.1 (``.base_url``, ``.token``), stopped after the test, which
        fails if the bot called a method the fake does not implement."""
        from adapters.testing.telegram import FakeTelegram

        async with FakeTelegram() as fake:
            yield fake
            for bot in fake.bots.values():
                bot.check()

    @pytest_asyncio.fixture
    async def fake_slack() -> AsyncIterator[FakeSlack]:
        """A fake Slack on 127.0.0.1 (``.base_url`` for the Web API, ``.bot_token``, ``.signing_secret``; set
        ``.events_url`` to the app's ``/slack/events``), stopped after the test, which fails if the app called a
        method the fake does not implement."""
        from adapters.testing.slack import FakeSlack

        async with FakeSlack() as fake:
            yield fake
            fake.check()
