"""Harness: the fake Telegram (from kefu's pytest plugin), a real TelegramAdapter on it, an echo pipeline."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from adapters.telegram import Feedback, RateLimiter, TelegramAdapter
from adapters.testing.telegram import FakeTelegram
from bot.messages import Message, QuickReply, Reply

WEBHOOK_SECRET = "s3cret-for-tests"


@dataclass
class EchoPipeline:
    """A real, deterministic dispatch: answers each message with what it actually received and fetched."""

    adapter: TelegramAdapter | None = None
    received: list[Message] = field(default_factory=list)
    fetched: list[list[bytes]] = field(default_factory=list)
    queue: asyncio.Queue[Message] = field(default_factory=asyncio.Queue)

    async def dispatch(self, message: Message) -> None:
        self.received.append(message)
        await self.queue.put(message)

    async def run(self) -> None:
        """Answers in arrival order, as the runtime does per chat; the adapter's own answer is sent as is."""
        assert self.adapter is not None
        while True:
            message = await self.queue.get()
            if message.text.startswith("slow"):
                await asyncio.sleep(0.3)
            if message.answer is not None:
                await self.adapter.send(message.conversation, message.answer)
                continue
            datas = [await a.read(max_bytes=10_000_000) for a in message.attachments]
            self.fetched.append(datas)
            parts = [f"echo: {message.text}"] if message.text else []
            parts += [f"{a.kind} {len(d)} bytes {a.mime_type}" for a, d in zip(message.attachments, datas, strict=True)]
            if message.payload:
                parts.append(f"payload {message.payload}")
            reply = Reply(text="; ".join(parts) or "(empty)", quick_replies=(QuickReply("Yes", "yes"),))
            await self.adapter.send(message.conversation, reply)


@dataclass
class Harness:
    fake: FakeTelegram
    adapter: TelegramAdapter
    pipeline: EchoPipeline
    feedback: list[Feedback]
    webhook_url: str | None


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture(params=["polling", "webhook"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def tg(fake_telegram: FakeTelegram, mode: str) -> AsyncIterator[Harness]:
    """The fake + a started adapter in ``mode`` with small timeouts + the echo pipeline; all stopped after."""
    feedback: list[Feedback] = []

    async def on_feedback(item: Feedback) -> None:
        feedback.append(item)

    runner: web.AppRunner | None = None
    sock = _free_socket() if mode == "webhook" else None
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/telegram/webhook" if sock else None
    adapter = TelegramAdapter(
        token=fake_telegram.token,
        api_base=fake_telegram.base_url,
        mode=mode,  # type: ignore[arg-type]
        webhook_secret=WEBHOOK_SECRET if sock else None,
        webhook_url=url,
        on_feedback=on_feedback,
        polling_timeout_s=1,
        request_timeout_s=1.0,
        album_window_s=0.15,
        backoff_s=0.02,
        rate_limiter=RateLimiter(per_chat_interval_s=0.01),
    )
    if sock is not None:
        app = web.Application()
        app.add_routes(adapter.routes())
        runner = web.AppRunner(app, handle_signals=False)
        await runner.setup()
        await web.SockSite(runner, sock).start()
    pipeline = EchoPipeline(adapter=adapter)
    worker = asyncio.create_task(pipeline.run())
    await adapter.start(pipeline.dispatch)
    try:
        yield Harness(fake_telegram, adapter, pipeline, feedback, url)
    finally:
        await adapter.stop()
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
        if runner is not None:
            await runner.cleanup()
