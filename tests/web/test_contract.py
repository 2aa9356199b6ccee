"""The web chat runs the adapter contract suite through a real WebSocket on 127.0.0.1, like the page would."""

from __future__ import annotations

from typing import Any

import aiohttp

from adapters.base import Adapter, Dispatch
from adapters.testing.contract import AdapterContract
from adapters.web import WebChatAdapter
from adapters.web.testing import ChatClient


class PageDriver(ChatClient):
    """The page's socket, numbering its messages ``c1``, ``c2``… as the page does (so a peer's ids repeat), offering
    the last one again like the page after a reconnect, and answered with an error frame for each raw frame."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, hello: dict[str, Any]) -> None:
        super().__init__(ws, hello)
        self.http: aiohttp.ClientSession | None = None
        self.url = ""
        self.sent: list[dict[str, Any]] = []
        self.last_reply: dict[str, Any] = {}

    @classmethod
    async def open(cls, url: str) -> PageDriver:
        http = aiohttp.ClientSession()
        driver = await cls.connect(http, url)
        driver.http, driver.url = http, url
        return driver

    async def say(self, text: str) -> None:
        await self._offer({"type": "message", "text": text})

    async def next_reply(self, *, timeout: float = 10.0) -> str:
        self.last_reply = await self.next_of("reply", timeout)
        text: str = self.last_reply["text"]
        return text

    async def redeliver(self) -> None:
        await self.send(self.sent[-1])
        assert (await self.next_of("accepted"))["duplicate"] is True

    async def peer(self) -> PageDriver:
        return await PageDriver.open(self.url)

    async def send_raw(self, body: bytes) -> None:
        """An error frame answers a bad frame; one over the size limit closes the socket (1009), so the page
        reconnects to its session."""
        await self.ws.send_frame(body, aiohttp.WSMsgType.TEXT)
        try:
            assert (await self.next_frame())["type"] == "error"
        except ConnectionError:
            assert self.ws.close_code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG and len(body) > 1024 * 1024
            assert self.http is not None
            again = await ChatClient.connect(self.http, self.url, session=self.session)
            self.ws, self.hello = again.ws, again.hello

    async def press(self, payload: str) -> None:
        offered = [button["payload"] for button in self.last_reply.get("quick_replies", [])]
        assert payload in offered, f"the last reply offered {offered}"
        await self._offer({"type": "button", "payload": payload})

    async def close(self) -> None:
        await super().close()
        if self.http is not None:
            await self.http.close()

    async def _offer(self, frame: dict[str, Any]) -> None:
        frame = {**frame, "id": f"c{len(self.sent) + 1}"}
        self.sent.append(frame)
        await self.send(frame)


class TestWebChatContract(AdapterContract):
    async def connect(self, dispatch: Dispatch) -> tuple[Adapter, PageDriver]:
        adapter = WebChatAdapter()
        url = await self.serve(adapter)
        await adapter.start(dispatch)
        return adapter, await PageDriver.open(url)
