"""Inbound Telegram updates as ``bot.messages.Message``: the aiogram router, albums, duplicates, buttons.

Imported only when the adapter starts (it imports aiogram). Messages of one chat are dispatched in
the order Telegram sent them; an album (one update per photo sharing a ``media_group_id``) becomes one
``Message`` (see ``adapters.telegram.albums`` for when, and its bounds). What the adapter can answer itself
(/start, a sticker, an edit) is dispatched too, with its answer attached (``Message.answer``), so the
answer keeps its place among the chat's replies and reaches an operator during a hand-off.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import CallbackQuery, TelegramObject, Update
from aiogram.types import Message as TgMessage

from adapters.base import Dispatch
from adapters.feedback import Feedback, FeedbackHook
from adapters.telegram.albums import Albums
from adapters.telegram.files import download
from adapters.telegram.render import FEEDBACK_NO, FEEDBACK_YES, CallbackCodec
from adapters.telegram.texts import language_of, text
from bot.messages import HUMAN_PAYLOAD, Attachment, ConversationRef, Message, QuickReply, Reply
from bot.recent import RecentKeys

log = logging.getLogger(__name__)


class Inbound:
    """Turns aiogram events into ``Message``s for ``dispatch``, with the adapter's answer where it has one."""

    def __init__(
        self,
        *,
        bot: Bot,
        dispatch: Dispatch,
        callbacks: CallbackCodec,
        on_feedback: FeedbackHook | None,
        max_download_bytes: int,
        album_window_s: float,
        max_albums: int,
        max_albums_per_chat: int,
        seen: RecentKeys[int],
    ) -> None:
        self._bot = bot
        self._dispatch_to_core = dispatch
        self._callbacks = callbacks
        self._on_feedback = on_feedback
        self._max_download_bytes = max_download_bytes
        self._seen = seen
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        self._albums = Albums(
            window_s=album_window_s,
            max_albums=max_albums,
            max_per_chat=max_albums_per_chat,
            lock_for=self._lock_for,
            send=self._send_album,
        )

    def router(self) -> Router:
        router = Router(name="kefu-telegram")
        router.message.register(self.on_message)
        router.edited_message.register(self.on_edited)
        router.callback_query.register(self.on_callback, F.data)
        return router

    async def skip_duplicates(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        update: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        """Outer update middleware: a redelivered ``update_id`` is ignored (forgotten again if handling fails)."""
        assert isinstance(update, Update)
        if not self._seen.add(update.update_id):
            log.info("telegram: ignoring duplicate update %s", update.update_id)
            return UNHANDLED
        try:
            return await handler(update, data)
        except BaseException:
            self._seen.discard(update.update_id)
            raise

    async def on_message(self, message: TgMessage) -> None:
        language = _language(message)
        command = (message.text or "").split(maxsplit=1)[0].split("@")[0].lower() if message.text else ""
        if command == "/start":
            await self._dispatch(
                self._to_message(message, text=message.text or "", answer=_notice("greeting", language, human=True))
            )
            return
        if command == "/human":
            await self._dispatch(self._to_message(message, text=message.text or "", payload=HUMAN_PAYLOAD))
            return
        attachments = self._attachments(message)
        if attachments is None:
            await self._dispatch(
                self._to_message(message, text=_described(message), answer=_notice("unsupported", language))
            )
            return
        if message.media_group_id:
            await self._albums.add(message)
            return
        await self._dispatch(
            self._to_message(message, text=message.text or message.caption or "", attachments=attachments)
        )

    async def on_edited(self, message: TgMessage) -> None:
        """An edit is answered with a request to send the correction anew; an operator sees the new text."""
        edited = message.text or message.caption or _described(message)
        await self._dispatch(
            self._to_message(
                message,
                text=f"✏️ {edited}",
                answer=_notice("edited", _language(message)),
                message_id=f"{message.message_id}:edit:{message.edit_date or 0}",
            )
        )

    async def on_callback(self, query: CallbackQuery) -> None:
        """Feedback is recorded, a quick reply is dispatched; the query is always answered."""
        data, language = query.data or "", query.from_user.language_code
        answer = text("thanks", language) if data in (FEEDBACK_YES, FEEDBACK_NO) else None
        try:
            await query.answer(text=answer)
        except Exception:
            log.exception("telegram: answerCallbackQuery failed for %s", query.id)
        source = query.message if isinstance(query.message, TgMessage) else None
        chat_id = source.chat.id if source is not None else query.from_user.id
        conversation = ConversationRef("telegram", str(chat_id))
        if answer is not None:
            await self._record_feedback(
                Feedback(
                    conversation,
                    str(query.from_user.id),
                    data == FEEDBACK_YES,
                    str(source.message_id) if source else "",
                    (source.text or source.caption or "") if source else "",
                )
            )
            return
        payload = self._callbacks.decode(data)
        if payload is None:
            log.warning("telegram: unknown or expired button data %r in chat %s", data, chat_id)
            return
        label = _button_label(source, data)
        await self._dispatch(
            Message(
                conversation=conversation,
                user_id=str(query.from_user.id),
                text=label,
                message_id=f"cb:{query.id}",
                language_hint=language,
                payload=payload,
            )
        )

    async def flush_albums(self) -> None:
        """Dispatch every album still being collected (at shutdown)."""
        await self._albums.flush_all()

    async def _record_feedback(self, feedback: Feedback) -> None:
        log.info(
            "telegram: feedback helpful=%s conversation=%s message=%s",
            feedback.helpful,
            feedback.conversation,
            feedback.message_id,
        )
        if self._on_feedback is None:
            return
        try:
            await self._on_feedback(feedback)
        except Exception:
            log.exception("telegram: the feedback hook failed for %s", feedback.conversation)

    async def _dispatch(self, message: Message) -> None:
        """Dispatch in order per chat: a pending album of this chat goes first."""
        chat_id = int(message.conversation.conversation_id)
        async with self._lock_for(chat_id):
            for album in self._albums.take(chat_id):
                await self._send_album(album)
            await self._dispatch_to_core(message)

    def _lock_for(self, chat_id: int) -> asyncio.Lock:
        return self._locks.setdefault(chat_id, asyncio.Lock())

    async def _send_album(self, album: list[TgMessage]) -> None:
        messages = sorted(album, key=lambda m: m.message_id)
        attachments = tuple(a for m in messages for a in self._attachments(m) or ())
        caption = next((m.caption for m in messages if m.caption), "")
        await self._dispatch_to_core(
            self._to_message(messages[0], text=caption, attachments=attachments, album=len(messages))
        )

    def _to_message(
        self,
        message: TgMessage,
        *,
        text: str,
        attachments: tuple[Attachment, ...] = (),
        payload: str | None = None,
        album: int = 0,
        answer: Reply | None = None,
        message_id: str | None = None,
    ) -> Message:
        sender = message.from_user
        metadata: dict[str, Any] = {"chat_type": message.chat.type}
        if sender is not None and sender.username:
            metadata["username"] = sender.username
        if album:
            metadata["album_size"] = album
        return Message(
            conversation=ConversationRef("telegram", str(message.chat.id)),
            user_id=str(sender.id if sender is not None else message.chat.id),
            text=text,
            attachments=attachments,
            message_id=message_id or str(message.message_id),
            language_hint=_language(message),
            payload=payload,
            timestamp=message.date.timestamp(),
            metadata=metadata,
            answer=answer,
        )

    def _attachments(self, message: TgMessage) -> tuple[Attachment, ...] | None:
        """The message's media as lazy attachments; ``()`` for plain text, None for what kefu cannot read."""
        if message.voice:
            v = message.voice
            return (self._lazy("voice", v.file_id, v.mime_type or "audio/ogg", v.file_size, duration=v.duration),)
        if message.audio:
            a = message.audio
            return (
                self._lazy(
                    "audio", a.file_id, a.mime_type or "audio/mpeg", a.file_size, name=a.file_name, duration=a.duration
                ),
            )
        if message.video_note:
            n = message.video_note
            return (
                self._lazy("voice", n.file_id, "video/mp4", n.file_size, name="video_note.mp4", duration=n.duration),
            )
        if message.photo:
            largest = max(message.photo, key=lambda s: (s.width * s.height, s.file_size or 0))
            return (self._lazy("photo", largest.file_id, "image/jpeg", largest.file_size),)
        if message.document:
            d = message.document
            mime = d.mime_type or ""
            kind = "photo" if mime.startswith("image/") else "audio" if mime.startswith("audio/") else None
            return (self._lazy(kind, d.file_id, mime, d.file_size, name=d.file_name),) if kind else None
        return () if message.text else None

    def _lazy(
        self,
        kind: Any,
        file_id: str,
        mime: str,
        size: int | None,
        *,
        name: str | None = None,
        duration: float | None = None,
    ) -> Attachment:
        fetch = functools.partial(download, self._bot, file_id, max_bytes=self._max_download_bytes)
        return Attachment(
            kind=kind,
            fetch=fetch,
            mime_type=mime,
            size=size,
            filename=name,
            duration_s=float(duration) if duration is not None else None,
            locator=file_id,
        )


def _language(message: TgMessage) -> str | None:
    return message.from_user.language_code if message.from_user else None


def _notice(key: str, language: str | None, *, human: bool = False) -> Reply:
    """The adapter's own sentence ``key`` as a notice, with the "talk to a human" button when ``human``."""
    buttons = (QuickReply(text("human", language), HUMAN_PAYLOAD),) if human else ()
    return Reply(text=text(key, language), language=language_of(language), quick_replies=buttons, notice=True)


def _described(message: TgMessage) -> str:
    """What kefu cannot read, named for the history and an operator ("[sticker]", "[document invoice.pdf]")."""
    name = message.document.file_name if message.document and message.document.file_name else ""
    kind = getattr(message.content_type, "value", message.content_type)
    return f"[{kind}{' ' + name if name else ''}]"


def _button_label(message: TgMessage | None, data: str) -> str:
    """The label of the pressed button, which is what the user "said"."""
    markup = message.reply_markup if message is not None else None
    for row in getattr(markup, "inline_keyboard", None) or []:
        for button in row:
            if button.callback_data == data:
                return str(button.text)
    return ""
