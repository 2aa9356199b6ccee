"""A browser session as ``chat.js`` runs it, for the fault suite: reconnects, offers unaccepted messages again,
and shows a reply with an id once."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import aiohttp


class Shopper:
    """One web-chat session against ``base_url`` that survives server restarts."""

    def __init__(self, http: aiohttp.ClientSession, base_url: str) -> None:
        self.http = http
        self.base_url = base_url
        self.session: str | None = None
        self.replies: list[str] = []
        """Texts of the replies shown, each reply id once, in arrival order."""
        self.repeats = 0
        """Replies that arrived again with an id already shown (dropped, as the page drops them)."""
        self.errors: list[str] = []
        self._shown: set[str] = set()
        self._unaccepted: dict[str, str] = {}
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._connected = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._runner = asyncio.create_task(self._run())
        await self._connected.wait()

    async def close(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        if self._ws is not None:
            await self._ws.close()

    async def say(self, text: str, message_id: str) -> None:
        """Send now if connected; either way it is offered again after each reconnect until accepted."""
        frame = json.dumps({"type": "message", "text": text, "id": message_id}, ensure_ascii=False)
        self._unaccepted[message_id] = frame
        if self._ws is not None and not self._ws.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self._ws.send_str(frame)

    async def _run(self) -> None:
        while True:
            try:
                params = {"session": self.session} if self.session else {}
                async with self.http.ws_connect(f"{self.base_url}/ws", params=params, heartbeat=None) as ws:
                    hello = json.loads((await ws.receive(timeout=10)).data)
                    self.session = hello["session"]
                    self._ws = ws
                    for frame in list(self._unaccepted.values()):
                        await ws.send_str(frame)
                    self._connected.set()
                    async for message in ws:
                        if message.type is aiohttp.WSMsgType.TEXT:
                            self._take(json.loads(message.data))
            except (aiohttp.ClientError, ConnectionError, TimeoutError, TypeError, ValueError):
                pass
            self._ws = None
            await asyncio.sleep(0.2)

    def _take(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "accepted":
            self._unaccepted.pop(frame["id"], None)
        elif kind == "reply":
            if frame["id"] in self._shown:
                self.repeats += 1
                return
            self._shown.add(frame["id"])
            self.replies.append(frame["text"])
        elif kind == "error":
            self.errors.append(frame["message"])
