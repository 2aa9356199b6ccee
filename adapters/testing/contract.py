"""A contract suite every channel adapter can run against itself, in kefu's tests or in its own package.

Subclass ``AdapterContract`` in a test module and implement ``connect``: build your adapter, mount its
``routes()`` with ``await self.serve(adapter)`` when it receives over HTTP, start it with the given ``dispatch``
and return it with a driver that plays the user on your channel (through your platform's fake, a socket, a
pipe). The suite runs the real ``bot.runtime.Runtime`` and ``Courier`` with a small echo bot, so what it checks
is what a running kefu relies on. It needs pytest-asyncio (any ``asyncio_mode``) and no kefu settings:

    class TestMyChannel(AdapterContract):
        async def connect(self, dispatch):
            fake = await self.use(FakePlatform())   # entered now, exited after the test
            adapter = factory(settings={"api_base": fake.url, ...})
            url = await self.serve(adapter)          # only for an adapter with routes()
            await adapter.start(dispatch)
            return adapter, MyDriver(fake, url)

A check whose driver capability is missing (see ``ChannelDriver``) is skipped, naming the method to implement.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from typing import Any, Protocol, TypeVar

import pytest
import pytest_asyncio

from adapters.base import Adapter, Dispatch
from adapters.testing.harness import (
    DELIVERY_ATTEMPTS,
    PRESS_PAYLOAD,
    EchoBot,
    Harness,
    build_runtime,
    close_driver,
    eventually,
)
from adapters.testing.routes import serve_routes

__all__ = ["BAD_EVENTS", "AdapterContract", "ChannelDriver", "EchoBot", "Harness"]

BAD_EVENTS = (
    b"",
    b"not json",
    b'{"events": [',
    b"[]",
    b"null",
    b'{"events": "none", "message": 7}',
    b"\xff\xfe\x00 not utf-8",
    b'{"events": [' + b"[" * 5000 + b"]" * 5000 + b"]}",
    b'{"padding": "' + b"x" * 2_000_000 + b'"}',
)
"""What ``send_raw`` is given: empty, not JSON, cut short, the wrong shape, not UTF-8, nested deep, 2 MB."""


T = TypeVar("T")


class ChannelDriver(Protocol):
    """Plays the user: says things on the channel and reads what the bot showed back.

    ``say`` and ``next_reply`` are required. Each optional method below enables one check (without it the check
    is skipped, naming the method):

    - ``async redeliver()``: deliver the platform event of the last ``say`` again, as the platform retries it.
    - ``async peer() -> ChannelDriver``: another user in a conversation of their own whose platform message ids
      repeat this user's (the same id for their first message as for this user's first), so the check learns
      that duplicates are recognised per conversation, as kefu scopes them.
    - ``async send_raw(body: bytes) -> int | None``: deliver ``body`` where the platform delivers its events
      (signed like a real one); the HTTP status, or None for a channel without one.
    - ``async press(payload: str)``: press the button carrying ``payload`` under the last reply; fail when the
      last reply showed no such button.
    - ``async fail_sends(failing: bool)``: while ``failing``, the platform refuses the adapter's outbound calls
      (a 500, a dropped connection).
    - ``async close()``: release what the driver holds (sessions, sockets); called after the adapter stops.
    """

    async def say(self, text: str) -> None: ...

    async def next_reply(self, *, timeout: float = 10.0) -> str:
        """The text of the next message the user sees from the bot."""
        ...


def capability(driver: object, name: str) -> Any:
    """The driver's optional method ``name``; skips the check when the driver lacks it."""
    method = getattr(driver, name, None)
    if not callable(method):
        pytest.skip(f"{type(driver).__name__} has no {name}(): implement it to run this check (see ChannelDriver)")
    return method


class AdapterContract:
    """The checks; subclasses provide ``connect``."""

    _stack: AsyncExitStack

    async def connect(self, dispatch: Dispatch) -> tuple[Adapter, ChannelDriver]:
        raise NotImplementedError("implement connect() in your test class")

    async def serve(self, adapter: Adapter) -> str:
        """Mount ``adapter.routes()`` on a loopback server (kefu's HTTP app), closed after the test; its base URL."""
        return await self._stack.enter_async_context(serve_routes(adapter))

    async def use(self, context: AbstractAsyncContextManager[T]) -> T:
        """Enter ``context`` (your fake platform) for the length of the test; what it yields."""
        return await self._stack.enter_async_context(context)

    @pytest_asyncio.fixture
    async def harness(self) -> AsyncIterator[Harness]:
        """The adapter from ``connect`` in the runtime; after the test: the runtime, the adapter, the driver's
        ``close``, then whatever ``serve`` and ``use`` opened, stopped in that order."""
        bot = EchoBot()
        runtime, outbound, channels = build_runtime(bot)
        async with AsyncExitStack() as stack:
            self._stack = stack
            adapter, driver = await self.connect(runtime.dispatch)
            stack.push_async_callback(close_driver, driver)
            stack.push_async_callback(adapter.stop)
            stack.push_async_callback(runtime.stop, drain_timeout_s=2.0)
            channels.add(adapter)
            yield Harness(adapter, driver, bot, runtime, outbound)

    @pytest.mark.asyncio
    async def test_text_round_trip(self, harness: Harness) -> None:
        await harness.driver.say("hello there")
        assert "echo: hello there" in await harness.driver.next_reply()

    @pytest.mark.asyncio
    async def test_chinese_text_round_trip(self, harness: Harness) -> None:
        await harness.driver.say("你好，我的订单到哪了？")
        assert "echo: 你好，我的订单到哪了？" in await harness.driver.next_reply()

    @pytest.mark.asyncio
    async def test_inbound_message_is_well_formed(self, harness: Harness) -> None:
        await harness.driver.say("first")
        await harness.driver.next_reply()
        await harness.driver.say("second")
        await harness.driver.next_reply()
        first, second = harness.bot.received[-2:]
        assert first.conversation.channel == harness.adapter.name
        assert first.conversation == second.conversation
        assert first.user_id
        assert first.message_id != second.message_id

    @pytest.mark.asyncio
    async def test_replies_keep_the_conversation_order(self, harness: Harness) -> None:
        texts = [f"message {n}" for n in range(5)]
        for text in texts:
            await harness.driver.say(text)
        replies = [await harness.driver.next_reply() for _ in texts]
        for text, reply in zip(texts, replies, strict=True):
            assert f"echo: {text}" in reply

    @pytest.mark.asyncio
    async def test_long_reply_arrives_whole(self, harness: Harness) -> None:
        await harness.driver.say("long")
        expected = EchoBot.answer("long").text
        shown = ""
        while len(shown.split()) < len(expected.split()):
            shown += " " + await harness.driver.next_reply()
        assert shown.split() == expected.split()

    @pytest.mark.asyncio
    async def test_stop_is_idempotent(self, harness: Harness) -> None:
        await harness.driver.say("before stop")
        assert "echo: before stop" in await harness.driver.next_reply()
        await harness.adapter.stop()
        await harness.adapter.stop()

    @pytest.mark.asyncio
    async def test_a_redelivered_event_is_answered_once(self, harness: Harness) -> None:
        redeliver = capability(harness.driver, "redeliver")
        await harness.driver.say("only once")
        assert "echo: only once" in await harness.driver.next_reply()
        await redeliver()
        await harness.driver.say("and then")
        assert "echo: and then" in await harness.driver.next_reply(), "the redelivery was answered again"
        assert [m.text for m in harness.bot.received] == ["only once", "and then"]

    @pytest.mark.asyncio
    async def test_the_same_message_id_in_another_conversation_is_answered(self, harness: Harness) -> None:
        peer = await capability(harness.driver, "peer")()
        self._stack.push_async_callback(close_driver, peer)
        await harness.driver.say("from the first user")
        assert "echo: from the first user" in await harness.driver.next_reply()
        await peer.say("from the second user")
        assert "echo: from the second user" in await peer.next_reply()
        first, second = harness.bot.received
        assert first.conversation != second.conversation
        assert first.message_id == second.message_id, "peer() must repeat the first user's platform message ids"

    @pytest.mark.asyncio
    async def test_bad_input_does_not_break_the_channel(self, harness: Harness) -> None:
        send_raw = capability(harness.driver, "send_raw")
        for body in BAD_EVENTS:
            status = await send_raw(body)
            assert status is None or status < 500, f"the adapter answered {status} to {body[:40]!r}"
        await harness.driver.say("still here")
        assert "echo: still here" in await harness.driver.next_reply()
        assert [m.text for m in harness.bot.received] == ["still here"]

    @pytest.mark.asyncio
    async def test_a_button_press_arrives_as_its_payload(self, harness: Harness) -> None:
        press = capability(harness.driver, "press")
        await harness.driver.say("show me buttons")
        assert "echo: show me buttons" in await harness.driver.next_reply()
        await press(PRESS_PAYLOAD)
        assert f"pressed: {PRESS_PAYLOAD}" in await harness.driver.next_reply()
        pressed = harness.bot.received[-1]
        assert pressed.payload == PRESS_PAYLOAD
        assert pressed.conversation == harness.bot.received[0].conversation

    @pytest.mark.asyncio
    async def test_a_failed_delivery_is_retried_until_it_arrives(self, harness: Harness) -> None:
        fail_sends = capability(harness.driver, "fail_sends")
        await fail_sends(True)
        await harness.driver.say("through the outage")
        await eventually(lambda: bool(harness.outbound.failures), what="the adapter's send to raise")
        await fail_sends(False)
        assert "echo: through the outage" in await harness.driver.next_reply()
        await harness.driver.say("after the outage")
        assert "echo: after the outage" in await harness.driver.next_reply(), "a reply arrived twice"
        assert harness.runtime.deliveries_failed == 0

    @pytest.mark.asyncio
    async def test_a_delivery_given_up_is_counted_and_the_channel_goes_on(self, harness: Harness) -> None:
        fail_sends = capability(harness.driver, "fail_sends")
        await fail_sends(True)
        await harness.driver.say("lost in the outage")
        await eventually(
            lambda: harness.runtime.deliveries_failed == 1,
            what=f"the courier to give up after {DELIVERY_ATTEMPTS} failed sends",
        )
        assert len(harness.outbound.failures) >= DELIVERY_ATTEMPTS
        await fail_sends(False)
        await harness.driver.say("after the outage")
        assert "echo: after the outage" in await harness.driver.next_reply()
