"""The generic channel contract (adapters.testing.contract) on the Telegram adapter: webhook mode, on kefu's HTTP app,
against the fake Bot API."""

from __future__ import annotations

import aiohttp
import pytest

from adapters.base import Adapter, Dispatch
from adapters.telegram import RateLimiter, TelegramAdapter
from adapters.testing.contract import AdapterContract
from adapters.testing.telegram import FakeTelegram
from tests.telegram.conftest import WEBHOOK_SECRET

FAILURES = 1000
"""``fail_sends(True)`` fails this many ``sendMessage`` calls in a row: more than any check makes."""


class ChatDriver:
    """A user in a private chat with the bot; replies are read in order from the chat.

    Telegram numbers messages per chat, so a ``peer`` (another chat) repeats this chat's message ids.
    """

    def __init__(self, fake: FakeTelegram, chat_id: int) -> None:
        self.fake = fake
        self.user = fake.user(chat_id)
        self.read = 0
        self.last_update: int | None = None
        self.http: aiohttp.ClientSession | None = None

    async def say(self, text: str) -> None:
        self.last_update = self.user.says(text)["update_id"]

    async def next_reply(self, *, timeout: float = 10.0) -> str:
        shown = await self.fake.wait_for_messages(self.user.chat_id, self.read + 1, timeout=timeout)
        self.read += 1
        text: str = shown[-1].text
        return text

    async def redeliver(self) -> None:
        assert self.last_update is not None, "say something first"
        self.fake.redeliver(self.last_update)

    async def peer(self) -> ChatDriver:
        return ChatDriver(self.fake, self.user.chat_id + 1)

    async def send_raw(self, body: bytes) -> int:
        """``body`` POSTed to the webhook as Telegram would, with the secret token."""
        assert self.fake.webhook_url is not None
        self.http = self.http or aiohttp.ClientSession()
        headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET, "Content-Type": "application/json"}
        async with self.http.post(self.fake.webhook_url, data=body, headers=headers) as response:
            return response.status

    async def press(self, payload: str) -> None:
        last = self.fake.sent_to(self.user.chat_id)[self.read - 1]
        offered = [data for row in last.buttons for _, data in row]
        assert f"q:{payload}" in offered, f"the last reply offered {offered}"  # the adapter's quick-reply prefix
        self.user.presses(data=f"q:{payload}")

    async def fail_sends(self, failing: bool) -> None:
        if failing:
            self.fake.fail_next("sendMessage", status=500, times=FAILURES)
        else:
            self.fake.clear_faults("sendMessage")

    async def close(self) -> None:
        if self.http is not None:
            await self.http.close()


class TestTelegramChannel(AdapterContract):
    @pytest.fixture(autouse=True)
    def _fake(self, fake_telegram: FakeTelegram) -> None:
        self.fake = fake_telegram

    async def connect(self, dispatch: Dispatch) -> tuple[Adapter, ChatDriver]:
        adapter = TelegramAdapter(
            token=self.fake.token,
            api_base=self.fake.base_url,
            mode="webhook",
            webhook_url="http://127.0.0.1/telegram/webhook",
            webhook_secret=WEBHOOK_SECRET,
            request_timeout_s=1.0,
            backoff_s=0.02,
            rate_limiter=RateLimiter(per_chat_interval_s=0.01),
        )
        adapter.webhook_url = await self.serve(adapter) + "/telegram/webhook"  # the port is known once served
        await adapter.start(dispatch)
        return adapter, ChatDriver(self.fake, 4001)
