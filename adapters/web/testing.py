"""Run the web chat on a loopback port and talk to it as a browser's socket would (tests, contract suite).

async with serve(WebChatAdapter(), answer_with(adapter, respond)) as url:
    async with aiohttp.ClientSession() as http:
        chat = await ChatClient.connect(http, url)
        await chat.say("hello")
        reply = await chat.next_of("reply")
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiohttp import web

from adapters.base import Dispatch
from adapters.web.adapter import WebChatAdapter
from bot.errors import DeliveryDeferred
from bot.messages import Message, Reply

Respond = Callable[[Message], Awaitable[Reply | None]]


@asynccontextmanager
async def serve(adapter: WebChatAdapter, dispatch: Dispatch, *, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Serve ``adapter.routes()`` on ``host`` port 0 with ``dispatch``; yields the base URL, stops both after."""
    app = web.Application()
    app.add_routes(adapter.routes())
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, host, 0).start()
    await adapter.start(dispatch)
    bound_host, port = runner.addresses[0][:2]
    try:
        yield f"http://{bound_host}:{port}"
    finally:
        await adapter.stop()
        await runner.cleanup()


def answer_with(adapter: WebChatAdapter, respond: Respond) -> Dispatch:
    """A dispatch that, like the runtime, accepts at once and later sends ``respond(message)`` through ``adapter``."""
    tasks: set[asyncio.Task[None]] = set()

    async def answer(message: Message) -> None:
        await adapter.working(message.conversation)
        reply = await respond(message)
        if reply is not None:
            with contextlib.suppress(DeliveryDeferred):  # kept for the reconnect; the runtime would also retry
                await adapter.send(message.conversation, reply)

    async def dispatch(message: Message) -> bool:
        task = asyncio.create_task(answer(message))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return True

    return dispatch


class ChatClient:
    """One browser session's socket: send client frames, read server frames (JSON dicts).

    It is also the web chat's ``ChannelDriver`` for ``adapters.testing.contract`` (``say``, ``next_reply``).
    """

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, hello: dict[str, Any]) -> None:
        self.ws = ws
        self.hello = hello
        self.session: str = hello["session"]

    @classmethod
    async def connect(
        cls, http: aiohttp.ClientSession, base_url: str, *, session: str | None = None, after: str | None = None
    ) -> ChatClient:
        """Open ``/ws`` (resuming ``session`` when given) and read its ``hello`` frame."""
        params = {key: value for key, value in (("session", session), ("after", after)) if value is not None}
        ws = await http.ws_connect(f"{base_url}/ws", params=params)
        client = cls(ws, {"session": ""})
        hello = await client.next_frame()
        if hello.get("type") != "hello":
            raise AssertionError(f"expected a hello frame first, got {hello!r}")
        client.hello, client.session = hello, hello["session"]
        return client

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(frame, ensure_ascii=False))

    async def say(self, text: str) -> None:
        await self.send({"type": "message", "text": text})

    async def next_frame(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next server frame; raises ``ConnectionError`` (with the close code) when the socket closes."""
        message = await self.ws.receive(timeout=timeout)
        if message.type is not aiohttp.WSMsgType.TEXT:
            raise ConnectionError(f"socket closed: {message.type.name} code={self.ws.close_code} {message.extra or ''}")
        frame: dict[str, Any] = json.loads(message.data)
        return frame

    async def next_of(self, kind: str, timeout: float = 5.0) -> dict[str, Any]:
        """The next frame of type ``kind`` (``reply``, ``error``…), skipping ``typing`` and ``notice`` frames."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await self.next_frame(max(0.01, deadline - loop.time()))
            if frame["type"] == kind:
                return frame
            if frame["type"] not in ("typing", "notice", "accepted"):
                raise AssertionError(f"expected a {kind} frame, got {repr(frame)[:500]}")

    async def next_reply(self, *, timeout: float = 10.0) -> str:
        """The text of the next reply (the contract suite's ``ChannelDriver``)."""
        text: str = (await self.next_of("reply", timeout))["text"]
        return text

    async def close(self) -> None:
        await self.ws.close()
