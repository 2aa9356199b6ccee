"""A browser session as ``chat.js`` runs it, for the fault suite: sends one message at a time (the next once the
server accepted the one before), sends it again after a reconnect or a refusal with ``retry_after_s``, and shows
a reply with an id once."""

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
        """Refusals for good (the message was dropped)."""
        self.retried: list[str] = []
        """Refusals for now ("slow down", "busy"): the message went again after ``retry_after_s``."""
        self._shown: set[str] = set()
        self._pending: list[tuple[str, str]] = []
        """(id, frame) of the messages not yet accepted, in order; the first is the one in flight."""
        self._in_flight = False
        self._retry: asyncio.TimerHandle | None = None
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
        """Queue the message; it leaves when every earlier one is accepted, and again until it is."""
        self._pending.append(
            (message_id, json.dumps({"type": "message", "text": text, "id": message_id}, ensure_ascii=False))
        )
        self._pump()

    def _pump(self) -> None:
        ws = self._ws
        if self._in_flight or self._retry is not None or not self._pending or ws is None or ws.closed:
            return
        self._in_flight = True
        asyncio.get_running_loop().create_task(self._send(ws, self._pending[0][1]))

    @staticmethod
    async def _send(ws: aiohttp.ClientWebSocketResponse, frame: str) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.send_str(frame)

    def _retry_now(self) -> None:
        self._retry = None
        self._pump()

    async def _run(self) -> None:
        while True:
            try:
                params = {"session": self.session} if self.session else {}
                async with self.http.ws_connect(f"{self.base_url}/ws", params=params, heartbeat=None) as ws:
                    hello = json.loads((await ws.receive(timeout=10)).data)
                    self.session = hello["session"]
                    self._ws, self._in_flight = ws, False
                    self._pump()
                    self._connected.set()
                    async for message in ws:
                        if message.type is aiohttp.WSMsgType.TEXT:
                            self._take(json.loads(message.data))
            except (aiohttp.ClientError, ConnectionError, TimeoutError, TypeError, ValueError):
                pass
            self._ws, self._in_flight = None, False
            await asyncio.sleep(0.2)

    def _take(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "accepted":
            if self._pending and self._pending[0][0] == frame["id"]:
                self._pending.pop(0)
                self._in_flight = False
                self._pump()
        elif kind == "reply":
            if frame["id"] in self._shown:
                self.repeats += 1
                return
            self._shown.add(frame["id"])
            self.replies.append(frame["text"])
        elif kind == "error":
            (self.retried if "retry_after_s" in frame else self.errors).append(frame["message"])
            if self._in_flight:
                self._in_flight = False
                if "retry_after_s" in frame:
                    self._retry = asyncio.get_running_loop().call_later(
                        max(0.25, frame["retry_after_s"]), self._retry_now
                    )
                else:
                    self._pending.pop(0)
                    self._pump()
