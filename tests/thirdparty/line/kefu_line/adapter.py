"""The channel: webhook route in, push API out, settings from kefu's ``[adapters.line]`` table."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import aiohttp
from aiohttp import web

from adapters.base import Adapter, Dispatch
from bot.errors import ConfigError, DeliveryDeferred
from bot.messages import ConversationRef, Reply
from kefu_line.events import SIGNATURE_HEADER, Malformed, events_of, signed, to_message

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
TEXT_LIMIT = 5000
MESSAGES_PER_PUSH = 5
MAX_BUTTONS = 13
RETRY_KEYS = uuid.UUID("6c1f7f1e-4a51-4c8e-9a43-1b0c5d2f7e10")
"""Namespace of the push API's ``X-Line-Retry-Key``: the same reply part always gets the same key."""


class LineApiError(RuntimeError):
    """The push API refused a call; kefu's courier tries the reply again later."""


class LineAdapter(Adapter):
    """Receives the platform's signed webhook POSTs at ``webhook_path``; answers through the push API."""

    name = "line"

    def __init__(
        self,
        *,
        channel_secret: str,
        channel_token: str,
        api_base: str = "https://api.line.me",
        webhook_path: str = "/line/webhook",
    ) -> None:
        self.channel_secret = channel_secret
        self.channel_token = channel_token
        self.api_base = api_base.rstrip("/")
        self.webhook_path = webhook_path
        self._dispatch: Dispatch | None = None
        self._http: aiohttp.ClientSession | None = None

    def routes(self) -> Iterable[web.RouteDef]:
        return [web.post(self.webhook_path, self._webhook)]

    async def start(self, dispatch: Dispatch) -> None:
        self._dispatch = dispatch
        self._http = aiohttp.ClientSession(
            headers={"Authorization": f"Bearer {self.channel_token}"}, timeout=aiohttp.ClientTimeout(total=10)
        )

    async def stop(self) -> None:
        self._dispatch = None
        http, self._http = self._http, None
        if http is not None:
            await http.close()

    async def send(self, conversation: ConversationRef, reply: Reply) -> None:
        messages = _render(reply)
        key = reply.id or uuid.uuid4().hex
        for start in range(0, len(messages), MESSAGES_PER_PUSH):
            retry_key = str(uuid.uuid5(RETRY_KEYS, f"{key}:{start}"))
            payload = {"to": conversation.conversation_id, "messages": messages[start : start + MESSAGES_PER_PUSH]}
            await self._call("/v2/bot/message/push", payload, retry_key=retry_key)

    async def working(self, conversation: ConversationRef) -> None:
        await self._call("/v2/bot/chat/loading/start", {"chatId": conversation.conversation_id, "loadingSeconds": 5})

    async def _call(self, path: str, payload: Mapping[str, Any], *, retry_key: str | None = None) -> None:
        if self._http is None:
            raise DeliveryDeferred("the line channel is not started")
        headers = {"X-Line-Retry-Key": retry_key} if retry_key else {}
        async with self._http.post(f"{self.api_base}{path}", json=payload, headers=headers) as response:
            if response.status == 409 and retry_key:  # accepted before under this key: already sent
                return
            if response.status >= 300:
                raise LineApiError(f"{path}: HTTP {response.status} {(await response.text())[:200]}")

    async def _webhook(self, request: web.Request) -> web.Response:
        if (request.content_length or 0) > MAX_BODY_BYTES:
            log.warning("line: refused a webhook body of %d bytes", request.content_length)
            return web.json_response({"error": "body too large"}, status=413)
        body = await request.read()
        if len(body) > MAX_BODY_BYTES:
            log.warning("line: refused a webhook body of %d bytes", len(body))
            return web.json_response({"error": "body too large"}, status=413)
        if not signed(self.channel_secret, body, request.headers.get(SIGNATURE_HEADER)):
            log.warning("line: refused a webhook request with a missing or wrong signature from %s", request.remote)
            return web.json_response({"error": "bad signature"}, status=401)
        try:
            events = events_of(body)
        except Malformed as why:
            log.warning("line: refused a webhook body: %s", why)
            return web.json_response({"error": str(why)}, status=400)
        dispatch = self._dispatch
        if dispatch is None:
            return web.json_response({"error": "not started"}, status=503)
        for event in events:
            message = to_message(event, channel=self.name)
            if message is not None and not await dispatch(message):
                log.info("line: event %s was a redelivery", message.message_id)
        return web.json_response({})


def factory(*, settings: Mapping[str, Any]) -> LineAdapter:
    """The channel from its ``[adapters.line]`` table (secrets from ``KEFU_ADAPTERS__LINE__*``)."""
    known = {"channel_secret", "channel_token", "api_base", "webhook_path"}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise ConfigError(f"unknown setting {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    missing = [key for key in ("channel_secret", "channel_token") if not settings.get(key)]
    if missing:
        raise ConfigError(" and ".join(f"set KEFU_ADAPTERS__LINE__{key.upper()}" for key in missing))
    return LineAdapter(**{key: str(value) for key, value in settings.items()})


def _render(reply: Reply) -> list[dict[str, Any]]:
    """The reply as text messages within the platform's limits; the buttons under the last one."""
    text = reply.text
    if reply.sources:
        text += "\n\n" + "\n".join(
            f"[{n}] {s.title}" + (f" {s.url}" if s.url else "") for n, s in enumerate(reply.sources, 1)
        )
    messages: list[dict[str, Any]] = [{"type": "text", "text": part} for part in _split(text, TEXT_LIMIT)]
    if reply.author:
        for message in messages:
            message["sender"] = {"name": reply.author[:20]}
    if reply.quick_replies:
        messages[-1]["quickReply"] = {
            "items": [
                {
                    "type": "action",
                    "action": {
                        "type": "postback",
                        "label": button.label[:20],
                        "data": button.payload,
                        "displayText": button.label,
                    },
                }
                for button in reply.quick_replies[:MAX_BUTTONS]
            ]
        }
    return messages


def _split(text: str, limit: int) -> list[str]:
    """``text`` in parts of at most ``limit`` characters, cut at the last space before the limit where there is one."""
    parts: list[str] = []
    rest = text.strip() or "…"
    while len(rest) > limit:
        cut = rest.rfind(" ", 0, limit + 1)
        cut = cut if cut > 0 else limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return [*parts, rest]
