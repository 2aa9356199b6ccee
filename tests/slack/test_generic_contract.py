"""The generic channel contract (adapters.testing.contract) run on the Slack adapter against the fake Slack."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from adapters.base import Adapter, Dispatch
from adapters.slack import SlackAdapter
from adapters.testing.contract import AdapterContract, ChannelDriver
from adapters.testing.slack import FakeSlack
from tests.slack.conftest import serve


class DmDriver:
    """A workspace member DMing the bot; replies are read in order from the DM."""

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        self.user = fake.user("U2001")
        self.read = 0

    async def say(self, text: str) -> None:
        delivery = await self.user.says(text)
        assert delivery.status == 200, delivery.body

    async def next_reply(self, *, timeout: float = 10.0) -> str:
        replies = await self.fake.wait_for_messages(self.user.dm_channel, self.read + 1, timeout=timeout)
        self.read += 1
        return replies[self.read - 1].body


class TestSlackChannel(AdapterContract):
    fake: FakeSlack
    runner: web.AppRunner | None = None

    @pytest.fixture(autouse=True)
    async def _fake(self, fake_slack: FakeSlack) -> AsyncIterator[None]:
        self.fake = fake_slack
        yield
        if self.runner is not None:
            await self.runner.cleanup()

    async def connect(self, dispatch: Dispatch) -> tuple[Adapter, ChannelDriver]:
        adapter = SlackAdapter(bot_token=self.fake.bot_token, signing_secret=self.fake.signing_secret,
                               api_base=self.fake.base_url)
        self.runner, self.fake.events_url = await serve(adapter)
        await adapter.start(dispatch)
        return adapter, DmDriver(self.fake)
