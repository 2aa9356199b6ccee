"""kefu's adapter contract on the LINE channel, through the fake platform, with every optional check."""

from __future__ import annotations

from kefu_line import LineAdapter, factory
from kefu_line.testing import FakeLine

from adapters.base import Dispatch
from adapters.testing.contract import AdapterContract


class LineDriver:
    """A user in a 1:1 chat: says things and presses buttons through the fake, reads what was pushed to them."""

    def __init__(self, fake: FakeLine, user_id: str) -> None:
        self.fake = fake
        self.user = fake.user(user_id)
        self.read = 0

    async def say(self, text: str) -> None:
        assert await self.user.says(text) == 200

    async def next_reply(self, *, timeout: float = 10.0) -> str:
        shown = await self.fake.wait_for_messages(self.user.user_id, self.read + 1, timeout=timeout)
        self.read += 1
        text: str = shown[-1]["text"]
        return text

    async def redeliver(self) -> None:
        assert await self.user.redelivers() == 200

    async def peer(self) -> LineDriver:
        return LineDriver(self.fake, f"{self.user.user_id}-peer")

    async def send_raw(self, body: bytes) -> int:
        return await self.fake.post(body)

    async def press(self, payload: str) -> None:
        last = self.fake.shown[self.user.user_id][self.read - 1]
        offered = [item["action"]["data"] for item in last.get("quickReply", {}).get("items", [])]
        assert payload in offered, f"the last reply offered {offered}"
        assert await self.user.presses(payload) == 200

    async def fail_sends(self, failing: bool) -> None:
        self.fake.failing = failing


class TestLineChannel(AdapterContract):
    async def connect(self, dispatch: Dispatch) -> tuple[LineAdapter, LineDriver]:
        fake = await self.use(FakeLine())
        adapter = factory(
            settings={
                "channel_secret": fake.channel_secret,
                "channel_token": fake.channel_token,
                "api_base": fake.base_url,
            }
        )
        fake.webhook_url = await self.serve(adapter) + adapter.webhook_path
        await adapter.start(dispatch)
        return adapter, LineDriver(fake, "U1000")
