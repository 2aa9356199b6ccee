"""One bot's state on the fake: its files, chats, the messages in them and what the bot sent."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from aiohttp import web

from adapters.testing.telegram import payloads as p
from adapters.testing.telegram.methods import forum
from adapters.testing.telegram.records import CallbackAnswer, InlineAnswer, PreCheckoutAnswer, SentMessage


class BotState:
    """Files (``getFile``), chats with their names, every message by chat and id, and the bot's records."""

    def __init__(self) -> None:
        self.sent: dict[int, list[SentMessage]] = {}
        self.chat_actions: list[tuple[int, str]] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.inline_answers: list[InlineAnswer] = []
        self.pre_checkout_answers: list[PreCheckoutAnswer] = []
        self.refunds: list[tuple[int, str]] = []
        """``(user_id, telegram_payment_charge_id)`` of each refundStarPayment."""
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        """setMyCommands lists by ``(scope type, language_code)``."""
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        """setChatMenuButton by chat id (None: the default for all chats)."""
        self.open_queries: set[str] = set()
        """Callback and inline query ids the bot may still answer."""
        self.pre_checkouts: dict[str, dict[str, Any]] = {}
        """Pre-checkout queries waiting for answerPreCheckoutQuery, by id."""
        self.invoice_payloads: dict[tuple[int, int], str] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        """Completed payments by ``telegram_payment_charge_id``: user_id, currency, total_amount, refunded."""
        self.members: dict[int, dict[int, str]] = {}
        """Member statuses by chat and user id (``joins``, ``leaves``, ``set_member``, ``banChatMember``)."""
        self.users: dict[int, dict[str, Any]] = {}
        """Every user made with ``fake.user``, by id."""
        self.pinned: dict[int, list[int]] = {}
        self.join_requests: set[tuple[int, int]] = set()
        """Pending ``(chat_id, user_id)`` join requests (``requests_to_join``)."""
        self.reactions: dict[tuple[int, int], list[str]] = {}
        """The bot's reactions (emoji) by ``(chat_id, message_id)``."""
        self.permissions: dict[tuple[int, int], dict[str, bool]] = {}
        """restrictChatMember's permissions by ``(chat_id, user_id)``."""
        self.forums: dict[int, dict[int, dict[str, Any]]] = {}
        """Forum supergroups (``make_forum``) and their topics by ``message_thread_id``: name, icon, closed."""
        self.blocked: set[int] = set()
        """Private chats whose user blocked the bot: sending there answers 403."""
        self.strict_chats = False
        """When True, only chats of users made with ``fake.user`` exist: a private chat with anyone else answers
        403 "bot can't initiate conversation with a user", an unknown group 400 "chat not found"."""
        self.files_by_path: dict[str, bytes] = {}
        self.streamed_sizes: dict[str, int] = {}
        """Sizes of the files made on the fly (``add_streamed_file``), by ``file_path``."""
        self.served: dict[str, int] = {}
        """Bytes of each streamed file actually sent, by ``file_path`` (a client that stops early gets fewer)."""
        self.keyboards: dict[int, list[list[str]]] = {}
        self.inline_messages: dict[str, SentMessage] = {}
        """Messages users sent through the bot's inline results (``chooses_inline_result``), by inline_message_id."""
        self._files: dict[str, dict[str, Any]] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._groups: set[int] = set()
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._message_ids: dict[int, int] = defaultdict(int)
        self.bot_user: dict[str, Any] = {}

    # files -------------------------------------------------------------------------------------

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

    def file_data(self, file_id: str) -> bytes | None:
        """The bytes of a stored file, or None for an unknown id."""
        info = self._files.get(file_id)
        return None if info is None else self.files_by_path.get(info["file_path"], b"")

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

    # chats and messages ------------------------------------------------------------------------

    def chat(self, chat_id: int) -> dict[str, Any]:
        """The Chat object of ``chat_id``: the name its user was created with (``fake.user(..., first_name=)``)."""
        return dict(self._chats.get(chat_id) or p.chat(chat_id))

    def make_forum(self, chat_id: int, *, title: str = "Support") -> None:
        """Make ``chat_id`` (negative) a forum supergroup named ``title``, where the bot can create topics."""
        if chat_id >= 0:
            raise ValueError("a forum is a supergroup: give a negative chat id")
        self._groups.add(chat_id)
        self._chats[chat_id] = {"id": chat_id, "type": "supergroup", "title": title, "is_forum": True}
        self.forums.setdefault(chat_id, {})

    def set_member(self, chat_id: int, user_id: int, status: str) -> None:
        """Set what getChatMember answers (``creator``, ``administrator``, ``member``, ``left``, ``kicked``)."""
        self.members.setdefault(chat_id, {})[user_id] = status

    def sent_to(self, chat_id: int) -> list[SentMessage]:
        """Messages the bot sent to ``chat_id`` so far, in order (deleted ones too, marked ``deleted``)."""
        return list(self.sent.get(chat_id, []))

    def keyboard(self, chat_id: int) -> list[list[str]] | None:
        """The reply keyboard the user of ``chat_id`` sees now (button labels), None when none is shown."""
        return self.keyboards.get(chat_id)

    def message(self, chat_id: int, message_id: int) -> dict[str, Any]:
        """A message in the chat (the user's or the bot's), or 400 like Telegram."""
        found = self._messages.get((chat_id, message_id))
        if found is None:
            raise p.BadRequest("message not found")
        return found

    def check_reachable(self, chat_id: int) -> None:
        """Refuse a chat the bot may not write to, with Telegram's answer."""
        if chat_id in self.blocked:
            raise p.Forbidden("bot was blocked by the user")
        if self.strict_chats and chat_id not in self._chats and chat_id not in self._groups:
            if chat_id > 0:
                raise p.Forbidden("bot can't initiate conversation with a user")
            raise p.BadRequest("chat not found")

    def sent_message(self, chat_id: int, message_id: int, missing: str) -> SentMessage:
        for message in self.sent.get(chat_id, []):
            if message.message_id == message_id and not message.deleted:
                return message
        raise p.BadRequest(missing)

    def new_message(self, chat_id: int, sender: dict[str, Any], **fields: Any) -> dict[str, Any]:
        self._message_ids[chat_id] += 1
        obj = p.message(self._message_ids[chat_id], self.chat(chat_id), sender, **fields)
        self._messages[(chat_id, obj["message_id"])] = obj
        return obj

    def record(
        self,
        params: dict[str, Any],
        raw: str,
        fields: dict[str, Any],
        *,
        data: bytes | None = None,
        url: str | None = None,
    ) -> dict[str, Any]:
        """Check and store one message from the bot; returns the Message object Telegram would return."""
        chat_id = p.integer(params, "chat_id")
        self.check_reachable(chat_id)
        markup = params.get("reply_markup")
        p.check_markup(markup)
        reply = self._reply_to(chat_id, params)
        topic = forum.topic_fields(self.forums, chat_id, params)
        obj = self.new_message(
            chat_id, self.bot_user, **fields, **topic, **({"reply_to_message": reply} if reply else {})
        )
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            obj["reply_markup"] = markup
        shown = self._show_keyboard(chat_id, markup)
        self.sent.setdefault(chat_id, []).append(
            SentMessage(
                chat_id, obj["message_id"], raw, params.get("parse_mode"), time.monotonic(), obj, data, url, shown
            )
        )
        return obj

    def _reply_to(self, chat_id: int, params: dict[str, Any]) -> dict[str, Any] | None:
        reply = params.get("reply_parameters") or {}
        message_id = reply.get("message_id") if isinstance(reply, dict) else None
        if message_id is None and params.get("reply_to_message_id") is not None:
            message_id = p.integer(params, "reply_to_message_id")
        if message_id is None:
            return None
        found = self._messages.get((int(reply.get("chat_id", chat_id)), int(message_id)))
        if found is None:
            if reply.get("allow_sending_without_reply") or p.flag(params, "allow_sending_without_reply"):
                return None
            raise p.BadRequest("message to be replied not found")
        return {k: v for k, v in found.items() if k != "reply_to_message"}

    def _show_keyboard(self, chat_id: int, markup: Any) -> list[list[str]] | None:
        if not isinstance(markup, dict):
            return None
        if "keyboard" in markup:
            labels = [[b if isinstance(b, str) else b["text"] for b in row] for row in markup["keyboard"]]
            self.keyboards[chat_id] = labels
            return labels
        if markup.get("remove_keyboard"):
            self.keyboards.pop(chat_id, None)
        return None
