"""``WebChatAdapter``: the browser chat at ``/``, one conversation per browser session over a WebSocket."""

from __future__ import annotations

import asyncio
import html
import logging
import re
import uuid
from collections.abc import Iterable
from importlib import resources
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from adapters.base import Adapter, Dispatch
from adapters.web.clients import DEFAULT_CLIENT_LIMITS, ClientLimits, SocketCounter, client_address
from adapters.web.flood import DEFAULT_FLOOD_LIMIT, FloodGuard, FloodLimit, Verdict
from adapters.web.frames import (
    ChatLimits,
    FrameError,
    Inbound,
    accepted_frame,
    decode_frame,
    error_frame,
    notice_frame,
    reply_frame,
)
from adapters.web.sessions import SessionHub, new_session_id, send_frame, valid_session_id
from bot.errors import DeliveryDeferred, Overloaded, user_message
from bot.messages import HUMAN_PAYLOAD, ConversationRef, Message, Reply

log = logging.getLogger(__name__)

_AFTER_RE = re.compile(r"([0-9a-f]{1,16})\.([0-9]{1,12})")
_STATIC = {"chat.js": "application/javascript", "chat.css": "text/css"}
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_SLOW_DOWN = "You are sending messages too fast; please slow down and try again in a moment."
_NOT_TAKEN = "Sorry, your message could not be taken just now; please try again."
_BUSY = "We are very busy right now; your message will be sent again in a moment."
_BUSY_RETRY_S = 5.0
_BINARY = "Binary frames are not accepted; send JSON text frames (see the chat protocol)."
_TRY_AGAIN_LATER = 1013
"""WebSocket close code "try again later": a socket refused over a ``ClientLimits`` bound."""


class WebChatAdapter(Adapter):
    """The browser chat: ``GET /`` serves the page, ``GET /ws`` carries JSON frames (see docs/web.md).

    Each browser session is one conversation, ``ConversationRef("web", session_id)``; the session id is made
    here, sent in the ``hello`` frame and resumed with ``/ws?session=<id>&after=<epoch>.<last seq seen>``. Replies
    sent while no socket is open are kept (the last ``max_pending``) and delivered on reconnect.

        chat = WebChatAdapter(speech_enabled=True)
        app.add_routes(chat.routes())
        await chat.start(runtime.dispatch)
    """

    name = "web"

    def __init__(
        self,
        *,
        max_text_chars: int = 4000,
        max_upload_bytes: int = 20 * 1024 * 1024,
        speech_enabled: bool = False,
        vision_enabled: bool = False,
        flood_limit: FloodLimit = DEFAULT_FLOOD_LIMIT,
        max_pending: int = 50,
        title: str = "Customer service · 客服",
        heartbeat_s: float = 30.0,
        client_limits: ClientLimits = DEFAULT_CLIENT_LIMITS,
        large_decodes: int = 2,
    ) -> None:
        self._limits = ChatLimits(
            max_text_chars=max_text_chars, max_upload_bytes=max_upload_bytes, voice=speech_enabled, photo=vision_enabled
        )
        self._flood_limit = flood_limit
        self._heartbeat_s = heartbeat_s
        self._hub = SessionHub(max_pending=max_pending)
        self._sockets = SocketCounter(client_limits)
        self._large_decodes = asyncio.Semaphore(large_decodes)
        """Uploads decoded in worker threads at once (each holds its frame and decoded bytes in memory)."""
        self._dispatch: Dispatch | None = None
        self._stopped = False
        self._page = _static_text("index.html").replace("{{title}}", html.escape(title)).encode()
        self._assets = {name: _static_text(name).encode() for name in _STATIC}
        # A frame up to twice the text frame size, or an upload up to a quarter over the limit, still gets a
        # clear error frame; bigger frames close the socket (1009).
        upload_frame_bytes = (max_upload_bytes + 2) // 3 * 4 * 5 // 4 + 64 * 1024
        uploads = speech_enabled or vision_enabled
        self._max_frame_bytes = max(2 * self._limits.max_text_frame_bytes, upload_frame_bytes if uploads else 0)

    def routes(self) -> Iterable[web.RouteDef]:
        """``/`` (the page), ``/ws`` (the socket) and the page's two assets under ``/web/``."""
        return [
            web.get("/", self._page_handler),
            web.get("/ws", self._socket_handler),
            *(web.get(f"/web/{name}", self._asset_handler) for name in _STATIC),
        ]

    async def start(self, dispatch: Dispatch) -> None:
        self._dispatch = dispatch
        self._stopped = False

    async def stop(self) -> None:
        self._stopped = True
        closing = [ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down") for ws in self._hub.sockets()]
        await asyncio.gather(*closing, return_exceptions=True)

    async def send(self, conversation: ConversationRef, reply: Reply) -> None:
        """Push a reply to the session's sockets; ``DeliveryDeferred`` while none is open (kept for a reconnect
        meanwhile, and offered again by the runtime's outbox until a socket takes it)."""
        if not await self._hub.deliver(conversation.conversation_id, reply_frame(reply), keep=True):
            raise DeliveryDeferred(f"no browser of web chat {conversation.conversation_id} is connected")

    async def working(self, conversation: ConversationRef) -> None:
        await self._hub.deliver(conversation.conversation_id, {"type": "typing"}, keep=False)

    def undelivered(self, conversation: ConversationRef) -> int:
        """Replies waiting for this conversation's browser to reconnect."""
        return self._hub.undelivered(conversation.conversation_id)

    async def _page_handler(self, request: web.Request) -> web.Response:
        return web.Response(
            body=self._page,
            content_type="text/html",
            charset="utf-8",
            headers={"Content-Security-Policy": _CSP, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"},
        )

    async def _asset_handler(self, request: web.Request) -> web.Response:
        name = request.path.rsplit("/", 1)[-1]
        return web.Response(
            body=self._assets[name],
            content_type=_STATIC[name],
            charset="utf-8",
            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"},
        )

    async def _socket_handler(self, request: web.Request) -> web.StreamResponse:
        dispatch = self._dispatch
        if dispatch is None or self._stopped:
            raise web.HTTPServiceUnavailable(text="the web chat is not running")
        asked = request.query.get("session")
        session_id = asked if asked is not None and valid_session_id(asked) else new_session_id()
        address = client_address(request.remote)
        refused = self._sockets.open(address, session_id)
        ws = web.WebSocketResponse(heartbeat=self._heartbeat_s, max_msg_size=self._max_frame_bytes, decode_text=False)
        try:
            await ws.prepare(request)
            if refused is not None:
                log.info("web chat: refused a socket from %s (session %s): %s", address, session_id, refused)
                await send_frame(ws, error_frame(refused))
                await ws.close(code=_TRY_AGAIN_LATER, message=b"too many connections")
                return ws
            after = _parse_after(request.query.get("after", ""))
            await self._hub.attach(session_id, ws, greeting=self._hello(session_id), after=after)
            try:
                await self._read_loop(ws, ConversationRef(self.name, session_id), address, dispatch)
            finally:
                self._hub.detach(session_id, ws)
        finally:
            if refused is None:
                self._sockets.close(address, session_id)
        return ws

    def _hello(self, session_id: str) -> dict[str, Any]:
        return {
            "type": "hello",
            "session": session_id,
            "features": {"voice": self._limits.voice, "photo": self._limits.photo},
            "limits": {"text_chars": self._limits.max_text_chars, "upload_bytes": self._limits.max_upload_bytes},
            "human_payload": HUMAN_PAYLOAD,
        }

    async def _read_loop(
        self, ws: web.WebSocketResponse, conversation: ConversationRef, address: str, dispatch: Dispatch
    ) -> None:
        guard = FloodGuard(self._flood_limit)
        async for frame in ws:
            if frame.type is WSMsgType.ERROR:
                log.info("web chat %s: socket closed on a protocol error: %s", conversation, frame.data)
                return
            verdict = guard.admit()
            if verdict is Verdict.CLOSE:
                log.warning("web chat %s: closing a connection flooding past the hard cap", conversation)
                await send_frame(ws, error_frame("Too many messages: this connection is closed. Reload to continue."))
                await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"too many messages")
                return
            if verdict is Verdict.REFUSE:
                await send_frame(ws, error_frame(_SLOW_DOWN, retry_after_s=guard.wait_s()))
                continue
            if frame.type is not WSMsgType.TEXT:
                await send_frame(ws, error_frame(_BINARY))
                continue
            try:
                inbound = await self._decode(frame.data)
            except FrameError as error:
                await send_frame(ws, error_frame(str(error)))
                continue
            if inbound.truncated_from is not None:
                await send_frame(
                    ws,
                    notice_frame(
                        f"Your message was {inbound.truncated_from} characters long; only the first "
                        f"{self._limits.max_text_chars} were kept."
                    ),
                )
            await self._hand_over(ws, _message(conversation, inbound, client=address), dispatch)

    async def _decode(self, data: bytes) -> Inbound:
        """A client frame; one over the text frame size (an upload) is decoded in a worker thread, a few at once."""
        if len(data) <= self._limits.max_text_frame_bytes:
            return decode_frame(data, limits=self._limits)
        async with self._large_decodes:
            return await asyncio.to_thread(decode_frame, data, limits=self._limits)

    async def _hand_over(self, ws: web.WebSocketResponse, message: Message, dispatch: Dispatch) -> None:
        """Dispatch, then tell the page its message is kept (so it stops offering it again after a reconnect)."""
        try:
            accepted = await dispatch(message)
        except Overloaded:
            await send_frame(ws, error_frame(_BUSY, retry_after_s=_BUSY_RETRY_S))
            return
        except Exception as error:
            shown = user_message(error)
            if shown is None:
                log.exception("web chat %s: dispatch failed", message.conversation)
            await send_frame(ws, error_frame(shown or _NOT_TAKEN, retry_after_s=None if shown else _BUSY_RETRY_S))
            return
        await send_frame(ws, accepted_frame(message.message_id, duplicate=accepted is False))


def _message(conversation: ConversationRef, inbound: Inbound, *, client: str) -> Message:
    metadata: dict[str, Any] = {}
    if inbound.truncated_from is not None:
        metadata["truncated_from"] = inbound.truncated_from
    return Message(
        conversation=conversation,
        user_id=conversation.conversation_id,
        text=inbound.text,
        attachments=(inbound.attachment,) if inbound.attachment else (),
        message_id=inbound.client_id or uuid.uuid4().hex,
        payload=inbound.payload,
        metadata=metadata,
        client=client,
    )


def _parse_after(value: str) -> tuple[str, int] | None:
    """``<epoch>.<seq>`` from a reconnecting page, or None when absent or malformed."""
    match = _AFTER_RE.fullmatch(value)
    return (match[1], int(match[2])) if match else None


def _static_text(name: str) -> str:
    return resources.files("adapters.web").joinpath("static", name).read_text(encoding="utf-8")
