"""The generic channel contract (adapters.testing.contract) run on the Slack adapter against the fake Slack."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.base import Adapter, Dispatch
from adapters.slack import SlackAdapter
from adapters.testing.contract import AdapterContract, ChannelDriver
from adapters.testing.slack import FakeSlack

FAILURES = 1000
"""``fail_sends(True)`` fails this many ``chat.postMessage`` calls in a row: more than any check makes."""


class DmDriver:
    """A workspace member DMing the bot; replies are read in order from the DM.

    A ``peer`` DMs with the message ts of this member's messages: Slack numbers messages (``ts``) per channel.
    """

    def __init__(self, fake: FakeSlack, user_id: str = "U2001", *, twin: DmDriver | None = None) -> None:
        self.fake = fake
        self.user = fake.user(user_id)
        self.twin = twin
        self.read = 0
        self.said: list[str] = []
        self.last: tuple[dict[str, Any], str | None] | None = None

    async def say(self, text: str) -> None:
        event = self.user.message(text, channel=self.user.dm_channel, channel_type="im")
        if self.twin is not None and len(self.twin.said) > len(self.said):
            event["ts"] = event["event_ts"] = self.twin.said[len(self.said)]
        self.said.append(event["ts"])
        delivery = await self.fake.post_event(event)
        assert delivery.status == 200, delivery.body
        self.last = event, delivery.event_id

    async def next_reply(self, *, timeout: float = 10.0) -> str:
        replies = await self.fake.wait_for_messages(self.user.dm_channel, self.read + 1, timeout=timeout)
        self.read += 1
        return replies[self.read - 1].body

    async def redeliver(self) -> None:
        assert self.last is not None, "say something first"
        event, event_id = self.last
        delivery = await self.fake.post_event(event, event_id=event_id, retry_num=1)
        assert delivery.status == 200, delivery.body

    async def peer(self) -> DmDriver:
        return DmDriver(self.fake, "U2002", twin=self)

    async def send_raw(self, body: bytes) -> int:
        return (await self.fake.post("event_callback", body, "application/json")).status

    async def press(self, payload: str) -> None:
        shown = self.fake.messages_in(self.user.dm_channel)[self.read - 1]
        labels = [label for label, _, value in shown.buttons if value == payload]
        assert labels, f"the last reply offered {shown.buttons}"
        delivery = await self.user.presses(shown, labels[0])
        assert delivery.status == 200, delivery.body

    async def fail_sends(self, failing: bool) -> None:
        if failing:
            self.fake.fail_next("chat.postMessage", status=500, times=FAILURES)
        else:
            self.fake.clear_faults("chat.postMessage")


class TestSlackChannel(AdapterContract):
    @pytest.fixture(autouse=True)
    def _fake(self, fake_slack: FakeSlack) -> None:
        self.fake = fake_slack

    async def connect(self, dispatch: Dispatch) -> tuple[Adapter, ChannelDriver]:
        adapter = SlackAdapter(
            bot_token=self.fake.bot_token,
            signing_secret=self.fake.signing_secret,
            api_base=self.fake.base_url,
            backoff_s=0.01,
        )
        self.fake.events_url = await self.serve(adapter) + "/slack/events"
        await adapter.start(dispatch)
        return adapter, DmDriver(self.fake)
