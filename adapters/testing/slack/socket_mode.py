"""Socket Mode in the fake Slack: the WebSocket ``apps.connections.open`` points at, and the envelopes Slack sends
over it (``events_api``, ``slash_commands``, ``interactive``), acknowledged by ``envelope_id``."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web

from adapters.testing.slack.records import Delivery

ACK_TIMEOUT_S = 10.0
"""How long the fake waits for an envelope's ack before recording it unanswered (Slack itself waits 3 s)."""
_ENVELOPE_TYPES = {"event_callback": "events_api", "slash_command": "slash_commands"}


class SocketModeMixin:
    """Serves ``/socket``; every user action goes over it when the app has no ``events_url`` but is connected."""

    api_app_id: str
    deliveries: list[Delivery]
    event_envelope: Callable[..., dict[str, Any]]
    _pulse: Callable[[], None]
    wait_until: Callable[..., Awaitable[None]]

    def __init__(self) -> None:
        self.socket_acks: dict[str, dict[str, Any]] = {}
        """Socket Mode acks received, by envelope id (with any response payload)."""
        self._sockets: list[web.WebSocketResponse] = []

    @property
    def socket_connections(self) -> int:
        """How many Socket Mode connections are open now."""
        return len(self._sockets)

    async def socket_event(self, event: dict[str, Any], *, event_id: str | None = None) -> str:
        """Send ``event`` over the newest Socket Mode connection as an ``events_api`` envelope; its envelope id
        (``socket_acks`` gets it once the app acknowledged)."""
        return await self._send("events_api", self.event_envelope(event, event_id=event_id), accepts_payload=False)

    async def socket_request(self, kind: str, body: bytes, content_type: str) -> Delivery:
        """Deliver what ``post`` would POST (an event, a slash command, an interaction) as a Socket Mode envelope
        and wait for its ack; the ``Delivery`` body is the ack's payload as JSON (empty without one)."""
        if content_type == "application/json":
            payload: Any = json.loads(body)
        else:
            form = dict(parse_qsl(body.decode()))
            payload = json.loads(form["payload"]) if "payload" in form else form
        started = time.monotonic()
        envelope_type = _ENVELOPE_TYPES.get(kind, "interactive")
        envelope_id = await self._send(envelope_type, payload, accepts_payload=envelope_type != "events_api")
        with contextlib.suppress(TimeoutError):
            await self.wait_until(lambda: envelope_id in self.socket_acks, timeout=ACK_TIMEOUT_S)
        ack = self.socket_acks.get(envelope_id)
        answer = ack.get("payload") if ack else None
        delivery = Delivery(
            kind,
            200 if ack is not None else 408,
            json.dumps(answer) if answer else "",
            time.monotonic() - started,
            payload.get("event_id") if kind == "event_callback" else None,
            (payload.get("event") or {}).get("ts") if kind == "event_callback" else None,
        )
        self.deliveries.append(delivery)
        return delivery

    async def socket_connection(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json(
            {"type": "hello", "num_connections": len(self._sockets), "connection_info": {"app_id": self.api_app_id}}
        )
        try:
            async for frame in ws:
                if frame.type == aiohttp.WSMsgType.TEXT:
                    ack = json.loads(frame.data)
                    if isinstance(ack, dict) and "envelope_id" in ack:
                        self.socket_acks[ack["envelope_id"]] = ack
                        self._pulse()
        finally:
            self._sockets.remove(ws)
        return ws

    async def close_sockets(self) -> None:
        for ws in list(self._sockets):
            await ws.close()

    async def _send(self, envelope_type: str, payload: dict[str, Any], *, accepts_payload: bool) -> str:
        if not self._sockets:
            raise RuntimeError("no Socket Mode connection is open")
        envelope_id = f"env-{len(self.socket_acks) + len(self.deliveries) + time.monotonic_ns()}"
        envelope = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "accepts_response_payload": accepts_payload,
            "payload": payload,
        }
        if envelope_type == "events_api":
            envelope |= {"retry_attempt": 0, "retry_reason": ""}
        await self._sockets[-1].send_json(envelope)
        return envelope_id
