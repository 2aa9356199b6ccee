"""The Bot API methods the fake implements, and its records of files and of what the bot sent."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from adapters.testing.telegram import payloads as p
from adapters.testing.telegram.records import CallbackAnswer, SentMessage

if TYPE_CHECKING:
    from adapters.testing.telegram.server import FakeTelegram

Handler = Callable[[dict[str, Any], dict[str, bytes]], Awaitable[Any]]


class MethodsMixin:
    """getMe, getUpdates, set/deleteWebhook, sendMessage, sendPhoto, sendChatAction, editMessageText,
    answerCallbackQuery and getFile, with Telegram's checks (4096 characters, parseable HTML, 64-byte
    callback data)."""

    def __init__(self) -> None:
        self.sent: dict[int, list[SentMessage]] = {}
        self.chat_actions: list[tuple[int, str]] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.files_by_path: dict[str, bytes] = {}
        self.streamed_sizes: dict[str, int] = {}
        """Sizes of the files made on the fly (``add_streamed_file``), by ``file_path``."""
        self.served: dict[str, int] = {}
        """Bytes of each streamed file actually sent, by ``file_path`` (a client that stops early gets fewer)."""
        self._files: dict[str, dict[str, Any]] = {}
        self.handlers: dict[str, Handler] = {
            "getme": self._get_me, "getupdates": self._get_updates, "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook, "getwebhookinfo": self._get_webhook_info,
            "sendmessage": self._send_message, "sendphoto": self._send_photo,
            "sendchataction": self._send_chat_action, "editmessagetext": self._edit_message_text,
            "answercallbackquery": self._answer_callback_query, "getfile": self._get_file,
            "close": self._noop, "logout": self._noop,
        }

    def add_file(self, data: bytes, *, suffix: str, announce_size: bool = True) -> dict[str, Any]:
        """Store ``data`` as a Telegram file; returns ``file_id``, ``file_unique_id`` and (announced) ``file_size``."""
        info, path = self._new_file(len(data), suffix=suffix, announce_size=announce_size)
        self.files_by_path[path] = data
        return info

    def add_streamed_file(self, size: int, *, suffix: str, announce_size: bool = False) -> dict[str, Any]:
        """A ``size``-byte file made on the fly and sent in chunks with no Content-Length, as a large file that
        the fake never holds in memory; ``served[file_path]`` counts what was sent before the client stopped."""
        info, path = self._new_file(size, suffix=suffix, announce_size=announce_size)
        self.streamed_sizes[path] = size
        self.served[path] = 0
        return info

    def _new_file(self, size: int, *, suffix: str, announce_size: bool) -> tuple[dict[str, Any], str]:
        number = len(self._files) + 1
        file_id = f"FILE{number:06d}{suffix}"
        path = f"files/file_{number}.{suffix}"
        info: dict[str, Any] = {"file_id": file_id, "file_unique_id": f"U{number}"}
        if announce_size:
            info["file_size"] = size
        self._files[file_id] = info | {"file_path": path}
        return info, path

    async def _stream_file(self, request: web.Request, path: str) -> web.StreamResponse:
        """Send a streamed file in 64 KiB chunks (chunked encoding, no length) until done or the client leaves."""
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        chunk = bytes(range(256)) * 256
        left = self.streamed_sizes[path]
        try:
            while left > 0:
                part = chunk[:left]
                await response.write(part)
                self.served[path] += len(part)
                left -= len(part)
            await response.write_eof()
        except ConnectionError:  # the client stopped reading and closed the connection
            pass
        return response

    def sent_to(self, chat_id: int) -> list[SentMessage]:
        """Messages the bot sent to ``chat_id`` so far, in order."""
        return list(self.sent.get(chat_id, []))

    def _fake(self) -> FakeTelegram:
        return self  # type: ignore[return-value]

    def _record(self, chat_id: int, visible: str, raw: str, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
        fake = self._fake()
        fake._message_ids[chat_id] += 1
        markup = params.get("reply_markup")
        p.check_markup(markup)
        buttons = [[(b["text"], b.get("callback_data", "")) for b in row]
                   for row in (markup or {}).get("inline_keyboard", [])] if isinstance(markup, dict) else []
        photo = extra.pop("_photo", None)
        obj = p.message(fake._message_ids[chat_id], chat_id, fake.bot_user, **extra)
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            obj["reply_markup"] = markup
        self.sent.setdefault(chat_id, []).append(
            SentMessage(chat_id, obj["message_id"], visible, raw, params.get("parse_mode"), buttons, time.monotonic(),
                        photo=photo, obj=obj)
        )
        return obj

    async def _noop(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        return True

    async def _get_me(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        return self._fake().bot_user

    async def _get_updates(self, params: dict[str, Any], files: dict[str, bytes]) -> list[dict[str, Any]]:
        fake = self._fake()
        if fake.webhook_url is not None:
            raise p.Conflict("can't use getUpdates method while webhook is active; use deleteWebhook to delete "
                            "the webhook first")
        offset, limit = p.integer(params, "offset", 0), max(1, min(p.integer(params, "limit", 100), 100))
        if offset > 0:
            fake._updates = [u for u in fake._updates if u["update_id"] >= offset]
        fake._poll_generation += 1
        generation = fake._poll_generation
        fake._pulse()
        deadline = time.monotonic() + p.integer(params, "timeout", 0)
        while not fake._closing.is_set():
            if fake._poll_generation != generation:
                raise p.Conflict("terminated by other getUpdates request; make sure that only one bot instance "
                                "is running")
            if fake._forced or fake._updates or not await fake._wait_change(deadline - time.monotonic()):
                break
        return fake._take(limit)

    async def _set_webhook(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        fake = self._fake()
        url = params.get("url") or ""
        if url and not url.startswith(("http://", "https://")):
            raise p.BadRequest("bad webhook: invalid URL")
        if params.get("drop_pending_updates") == "true" or params.get("drop_pending_updates") is True:
            fake._updates.clear()
        fake.webhook_url = url or None
        fake.webhook_secret = params.get("secret_token") or None
        if fake.webhook_url:
            fake._start_delivery()
        return True

    async def _delete_webhook(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        params = {**params, "url": ""}
        return await self._set_webhook(params, files)

    async def _get_webhook_info(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        fake = self._fake()
        return {"url": fake.webhook_url or "", "has_custom_certificate": False,
                "pending_update_count": fake.pending_updates}

    async def _send_message(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        chat_id, raw = p.integer(params, "chat_id"), str(params.get("text") or "")
        visible = p.visible_text(raw, params.get("parse_mode"))
        if not visible.strip():
            raise p.BadRequest("message text is empty")
        if p.utf16_len(visible) > 4096:
            raise p.BadRequest("message is too long")
        return self._record(chat_id, visible, raw, params, text=visible)

    async def _send_photo(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        chat_id, photo = p.integer(params, "chat_id"), p.upload(params, files, "photo")
        raw = str(params.get("caption") or "")
        caption = p.visible_text(raw, params.get("parse_mode"))
        if p.utf16_len(caption) > 1024:
            raise p.BadRequest("message caption is too long")
        data = photo if isinstance(photo, bytes) else self.files_by_path.get(self._files.get(photo, {}).get(
            "file_path", ""), b"")
        size = self.add_file(data, suffix="jpg") | {"width": 800, "height": 600}
        fields: dict[str, Any] = {"photo": [size], "_photo": data}
        if caption:
            fields["caption"] = caption
        return self._record(chat_id, caption, raw, params, **fields)

    async def _send_chat_action(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        self.chat_actions.append((p.integer(params, "chat_id"), str(params.get("action", ""))))
        return True

    async def _edit_message_text(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        chat_id, message_id = p.integer(params, "chat_id"), p.integer(params, "message_id")
        found = [m for m in self.sent.get(chat_id, []) if m.message_id == message_id]
        if not found:
            raise p.BadRequest("message to edit not found")
        raw = str(params.get("text") or "")
        visible = p.visible_text(raw, params.get("parse_mode"))
        if visible == found[0].text and "reply_markup" not in params:
            raise p.BadRequest("message is not modified")
        message = found[0]
        message.text, message.raw_text, message.edits = visible, raw, message.edits + 1
        assert message.obj is not None
        message.obj.update(text=visible, edit_date=int(time.time()))
        return message.obj

    async def _answer_callback_query(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        show_alert = str(params.get("show_alert", "")).lower() == "true"
        self.callback_answers.append(CallbackAnswer(str(params.get("callback_query_id")), params.get("text"),
                                                    show_alert))
        return True

    async def _get_file(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        info = self._files.get(str(params.get("file_id")))
        if info is None:
            raise p.BadRequest("invalid file_id")
        return info
