"""A fake of the platform on 127.0.0.1 for tests: the push API the adapter calls, and users whose messages and
button presses it delivers to the adapter's webhook, signed like the real platform.

    async with FakeLine() as fake:
        adapter = LineAdapter(channel_secret=fake.channel_secret, channel_token=fake.channel_token,
                              api_base=fake.base_url)
        fake.webhook_url = base_url + adapter.webhook_path
        user = fake.user("U1")
        await user.says("hello")
        [shown] = await fake.wait_for_messages(user.user_id, 1)
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any, Self

import aiohttp
from aiohttp import web

from kefu_line.events import SIGNATURE_HEADER, signature


class FakeLine:
    """The push and loading APIs (``base_url``) and webhook deliveries (to ``webhook_url``)."""

    def __init__(self, *, channel_secret: str = "fake-channel-secret", channel_token: str = "fake-channel-token"):
        self.channel_secret = channel_secret
        self.channel_token = channel_token
        self.webhook_url: str | None = None
        self.shown: dict[str, list[dict[str, Any]]] = {}
        """Messages pushed to each chat, in order."""
        self.failing = False
        """While True the push API answers 500 and shows nothing."""
        self.refused = 0
        self._retry_keys: set[str] = set()
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self.base_url = ""

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.add_routes(
            [web.post("/v2/bot/message/push", self._push), web.post("/v2/bot/chat/loading/start", self._loading)]
        )
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        self._http = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def user(self, user_id: str) -> FakeLineUser:
        return FakeLineUser(self, user_id)

    async def post(self, body: bytes, *, sign: bool = True) -> int:
        """POST ``body`` to the webhook (signed unless ``sign`` is False); the adapter's HTTP status."""
        if self._http is None or self.webhook_url is None:
            raise RuntimeError("start the fake and set webhook_url first")
        headers = {"Content-Type": "application/json"}
        if sign:
            headers[SIGNATURE_HEADER] = signature(self.channel_secret, body)
        async with self._http.post(self.webhook_url, data=body, headers=headers) as response:
            return response.status

    async def deliver(self, *events: dict[str, Any]) -> int:
        """Deliver ``events`` in one webhook body; the adapter's HTTP status."""
        body = json.dumps({"destination": "Ufakebot", "events": list(events)}, ensure_ascii=False).encode()
        return await self.post(body)

    async def wait_for_messages(self, chat: str, count: int, *, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The first ``count`` messages shown in ``chat``, once there are that many."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(self.shown.get(chat, [])) >= count), timeout)
        return self.shown[chat][:count]

    async def _push(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.channel_token}":
            return web.json_response({"message": "Authentication failed"}, status=401)
        if self.failing:
            self.refused += 1
            return web.json_response({"message": "Internal error"}, status=500)
        key = request.headers.get("X-Line-Retry-Key")
        if key is not None and key in self._retry_keys:
            return web.json_response({"message": "The retry key is already accepted"}, status=409)
        payload = await request.json()
        messages = payload.get("messages")
        if not isinstance(payload.get("to"), str) or not isinstance(messages, list) or not 1 <= len(messages) <= 5:
            return web.json_response({"message": "The request body has 1 error(s)"}, status=400)
        if any(len(m.get("text", "")) > 5000 or len(m.get("quickReply", {}).get("items", [])) > 13 for m in messages):
            return web.json_response({"message": "A message is over the platform's limits"}, status=400)
        if key is not None:
            self._retry_keys.add(key)
        async with self._changed:
            self.shown.setdefault(payload["to"], []).extend(messages)
            self._changed.notify_all()
        return web.json_response({"sentMessages": [{"id": uuid.uuid4().hex} for _ in messages]})

    async def _loading(self, request: web.Request) -> web.Response:
        return web.json_response({}, status=202)


class FakeLineUser:
    """One user in a 1:1 chat with the bot. Message ids count from 1 per user, so two users' ids repeat."""

    def __init__(self, fake: FakeLine, user_id: str) -> None:
        self.fake = fake
        self.user_id = user_id
        self.sent = 0
        self.last_event: dict[str, Any] | None = None

    async def says(self, text: str) -> int:
        self.sent += 1
        return await self._send("message", message={"type": "text", "id": str(self.sent), "text": text})

    async def presses(self, data: str) -> int:
        return await self._send("postback", postback={"data": data})

    async def redelivers(self) -> int:
        """The last event again, as the platform redelivers one its webhook did not acknowledge."""
        if self.last_event is None:
            raise RuntimeError("nothing was delivered yet")
        return await self.fake.deliver({**self.last_event, "deliveryContext": {"isRedelivery": True}})

    async def _send(self, kind: str, **fields: Any) -> int:
        self.last_event = {
            "type": kind,
            "mode": "active",
            "timestamp": 0,
            "webhookEventId": uuid.uuid4().hex,
            "deliveryContext": {"isRedelivery": False},
            "source": {"type": "user", "userId": self.user_id},
            "replyToken": uuid.uuid4().hex,
            **fields,
        }
        return await self.fake.deliver(self.last_event)
