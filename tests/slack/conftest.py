"""Harness: the fake Slack (kefu's pytest plugin), a real SlackAdapter served on a loopback port, the real runtime
with a deterministic echo bot."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from adapters.feedback import Feedback
from adapters.slack import SlackAdapter
from adapters.testing.slack import FakeSlack
from bot.messages import Message, QuickReply, Reply, Source
from bot.outbound import Channels
from bot.runtime import Runtime


@dataclass
class EchoBot:
    """Answers with what it received and fetched; ``hold`` keeps a ``slow`` message's turn open until released,
    a ``five seconds`` message takes five seconds."""

    received: list[Message] = field(default_factory=list)
    fetched: list[list[bytes]] = field(default_factory=list)
    hold: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, message: Message) -> Reply:
        self.received.append(message)
        if message.answer is not None:
            return message.answer
        if message.text.startswith("slow"):
            await self.hold.wait()
        if message.text.startswith("five seconds"):
            await asyncio.sleep(5)
        datas = [await a.read(max_bytes=1_000_000) for a in message.attachments]
        self.fetched.append(datas)
        parts = [f"echo: {message.text}"] if message.text else []
        parts += [f"{a.kind} {len(d)} bytes {a.mime_type}" for a, d in zip(message.attachments, datas, strict=True)]
        if message.payload:
            parts.append(f"payload {message.payload}")
        return Reply(
            text="; ".join(parts),
            quick_replies=(QuickReply("Yes", "yes"),),
            sources=(Source("returns", "Returns & refunds", 0.9, "https://shop.example/returns"),),
        )


@dataclass
class Harness:
    fake: FakeSlack
    adapter: SlackAdapter
    bot: EchoBot
    runtime: Runtime
    feedback: list[Feedback]


async def serve(adapter: SlackAdapter) -> tuple[web.AppRunner, str]:
    """The adapter's routes on a free loopback port, like kefu's one server; the events URL."""
    app = web.Application()
    app.add_routes(adapter.routes())
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}/slack/events"


@contextlib.asynccontextmanager
async def running(fake_slack: FakeSlack, **options: Any) -> AsyncIterator[Harness]:
    """A real ``SlackAdapter`` (``options`` added to its settings) served against the fake, on the real runtime."""
    feedback: list[Feedback] = []

    async def on_feedback(item: Feedback) -> None:
        feedback.append(item)

    adapter = SlackAdapter(
        bot_token=fake_slack.bot_token,
        signing_secret=fake_slack.signing_secret,
        api_base=fake_slack.base_url,
        on_feedback=on_feedback,
        backoff_s=0.01,
        **options,
    )
    bot = EchoBot()
    channels = Channels()
    runtime = Runtime(bot.handle, outbound=channels, turn_timeout_s=30.0)
    channels.add(adapter)
    runner, fake_slack.events_url = await serve(adapter)
    await adapter.start(runtime.dispatch)
    try:
        yield Harness(fake_slack, adapter, bot, runtime, feedback)
    finally:
        bot.hold.set()
        await runtime.stop(drain_timeout_s=2.0)
        await adapter.stop()
        await runner.cleanup()


@pytest.fixture
async def slack(fake_slack: FakeSlack) -> AsyncIterator[Harness]:
    async with running(fake_slack) as harness:
        yield harness
