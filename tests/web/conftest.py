"""Reusable fixtures for the web chat: a server with a given dispatch, socket clients, a headless browser page.

    async def test_x(web_chat_server, browser_page):
        server = await web_chat_server(lambda adapter: answer_with(adapter, my_respond))
        await browser_page.goto(server.url)

``web_chat_server(make_dispatch=None, **adapter_options)`` builds a ``WebChatAdapter(**adapter_options)``,
calls ``make_dispatch(adapter)`` for its dispatch (default: ``reverse_responder`` answering through the
adapter) and serves it on 127.0.0.1 port 0 until the test ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.base import Dispatch
from adapters.web import WebChatAdapter
from adapters.web.testing import ChatClient, answer_with, serve
from bot.messages import HUMAN_PAYLOAD, Message, QuickReply, Reply, Source

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
FAKE_MICROPHONE_ARGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
"""Chromium's built-in fake microphone (a beep), so the voice recorder can be driven headless."""
ECHO_SOURCE = Source(id="echo-policy", title="Echo policy · 回声说明", score=0.87)


def _is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


async def reverse_responder(message: Message) -> Reply:
    """A small deterministic responder: typed text reversed, button payloads and uploads named, one source."""
    if message.payload is not None:
        text = f"pressed {message.payload}"
    elif message.attachments:
        attachment = message.attachments[0]
        data = await attachment.read(max_bytes=attachment.size or 0)
        text = f"got a {attachment.kind} of {len(data)} bytes"
    else:
        text = message.text[::-1]
    return Reply(
        text=text,
        language="zh" if _is_chinese(message.text) else "en",
        intent="echo",
        confidence=1.0,
        sources=(ECHO_SOURCE,),
        quick_replies=(QuickReply("Track my order", "order_status"), QuickReply("转人工", HUMAN_PAYLOAD)),
        escalated=message.payload == HUMAN_PAYLOAD,
        quote="what you said" if message.attachments else None,
    )


@dataclass
class ChatServer:
    """A running web chat: its base URL, the adapter, its dispatch, and every message the dispatch received."""

    url: str
    adapter: WebChatAdapter
    dispatch: Dispatch
    received: list[Message] = field(default_factory=list)


StartChat = Callable[..., Awaitable[ChatServer]]


@pytest.fixture
async def web_chat_server() -> AsyncIterator[StartChat]:
    """Factory ``await web_chat_server(make_dispatch=None, **adapter_options) -> ChatServer``."""
    async with AsyncExitStack() as stack:

        async def start(
            make_dispatch: Callable[[WebChatAdapter], Dispatch] | None = None, **options: Any
        ) -> ChatServer:
            adapter = WebChatAdapter(**options)
            inner = make_dispatch(adapter) if make_dispatch else answer_with(adapter, reverse_responder)
            received: list[Message] = []

            async def dispatch(message: Message) -> bool:
                received.append(message)
                return await inner(message)

            url = await stack.enter_async_context(serve(adapter, dispatch))
            server = ChatServer(url=url, adapter=adapter, dispatch=dispatch, received=received)
            return server

        yield start


@pytest.fixture
async def chat_client() -> AsyncIterator[Callable[..., Awaitable[ChatClient]]]:
    """Factory ``await chat_client(url, session=None, after=None) -> ChatClient`` (closed after the test)."""
    async with aiohttp.ClientSession() as http:

        async def connect(url: str, **options: Any) -> ChatClient:
            return await ChatClient.connect(http, url, **options)

        yield connect


@pytest.fixture
async def browser_page() -> AsyncIterator[Any]:
    """A Playwright page in headless Debian chromium; skips when /usr/bin/chromium is missing."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS + FAKE_MICROPHONE_ARGS, headless=True
        )
        try:
            context = await browser.new_context(permissions=["microphone"])
            yield await context.new_page()
        finally:
            await browser.close()
