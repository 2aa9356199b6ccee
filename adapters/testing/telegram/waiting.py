"""How a test synchronises with the bot: wait for replies, for a condition, for the bot to settle."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from adapters.testing.telegram.records import ApiCall, SentMessage


class NotImplementedByFake(AssertionError):
    """The bot called a Bot API method the fake does not implement: the test fails with its name at once."""


class Waiting:
    """Waits that re-check after every API call and update, and fail at once on an unimplemented method."""

    calls: list[ApiCall]
    sent: dict[int, list[SentMessage]]
    unimplemented: list[str]
    _marks: dict[int, int]
    _taken_at: float
    _in_flight: int

    async def _wait_change(self, timeout: float) -> bool:
        raise NotImplementedError

    @property
    def pending_updates(self) -> int:
        raise NotImplementedError

    def check(self) -> None:
        """Raise if the bot called a method the fake does not implement (the fixture calls this at teardown)."""
        if self.unimplemented:
            raise NotImplementedByFake(f"fake Telegram: method {self.unimplemented[0]} is not implemented")

    async def wait_until(self, condition: Callable[[], bool], *, timeout: float = 5.0) -> None:
        """Wait until ``condition()`` holds, re-checked after every API call and update and every 20 ms."""
        deadline = time.monotonic() + timeout
        while not condition():
            self.check()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout} s")
            await self._wait_change(min(remaining, 0.02))
        self.check()

    async def wait_for_messages(self, chat_id: int, count: int, *, timeout: float = 5.0) -> list[SentMessage]:
        """Wait until the bot has sent at least ``count`` messages to ``chat_id`` in all; return them all (a
        running total: ``expect_reply`` counts from the user's last action instead)."""
        try:
            await self.wait_until(lambda: len(self.sent.get(chat_id, [])) >= count, timeout=timeout)
        except TimeoutError:
            got = [m.text for m in self.sent.get(chat_id, [])]
            raise TimeoutError(f"expected {count} messages in chat {chat_id} within {timeout} s, got {got}") from None
        return list(self.sent[chat_id])

    async def expect_reply(self, chat_id: int, count: int = 1, *, timeout: float = 5.0) -> list[SentMessage]:
        """Wait for ``count`` messages sent to ``chat_id`` since the user's last action there, or since the
        messages an earlier ``expect_reply`` returned (so an answer caused from another chat, as an operator's
        reply in a group reaching a customer, is the next one); return those."""
        mark = self._marks.get(chat_id, 0)
        try:
            await self.wait_until(lambda: len(self.sent.get(chat_id, [])) - mark >= count, timeout=timeout)
        except TimeoutError:
            got = [m.text for m in self.sent.get(chat_id, [])[mark:]]
            raise TimeoutError(
                f"expected {count} replies in chat {chat_id} within {timeout} s after the user's last action, got {got}"
            ) from None
        replies = self.sent[chat_id][mark:]
        self._marks[chat_id] = mark + len(replies)
        return replies

    async def idle(self, quiet_s: float = 0.2, *, timeout: float = 10.0) -> None:
        """Wait until the bot has taken every queued update *and* then made no API call for ``quiet_s`` seconds."""
        try:
            await self.wait_until(lambda: self.pending_updates == 0 and not self._in_flight, timeout=timeout)
        except TimeoutError:
            raise TimeoutError(
                f"the bot did not take {self.pending_updates} update(s) within {timeout} s: is it "
                "polling, or is its webhook set?"
            ) from None
        deadline = time.monotonic() + timeout
        while True:
            last = max([c.at for c in self.calls if c.method.lower() != "getupdates"] + [self._taken_at])
            if time.monotonic() - last >= quiet_s and not self._in_flight:
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(f"the bot kept calling the API for {timeout} s")
            await self._wait_change(max(0.005, quiet_s - (time.monotonic() - last)))
            self.check()

    async def wait_quiet(self, quiet_s: float = 0.2, *, timeout: float = 10.0) -> None:
        """The same as ``idle``."""
        await self.idle(quiet_s, timeout=timeout)

    def _mark(self, update: dict[str, Any]) -> None:
        for value in update.values():
            if isinstance(value, dict):
                chat = value.get("chat") or (value.get("message") or {}).get("chat") or value.get("from")
                if isinstance(chat, dict) and "id" in chat:
                    self._marks[int(chat["id"])] = len(self.sent.get(int(chat["id"]), []))
