"""A ``Reply`` as Telegram messages: HTML-escaped chunks of at most 4096 characters plus inline buttons.

Pure functions, no aiogram: buttons come out as ``(label, callback_data)`` rows that the adapter turns
into an ``InlineKeyboardMarkup``. Callback data is capped at 64 bytes by Telegram, so longer quick-reply
payloads are kept in a bounded table and sent as a short key.
"""

from __future__ import annotations

import html
from collections import OrderedDict
from dataclasses import dataclass

from adapters.chunks import split_escaped, utf16_len
from adapters.telegram.texts import text
from bot.messages import HUMAN_PAYLOAD, Reply, Source

MAX_MESSAGE_CHARS = 4096
"""Telegram's limit on one text message."""
MAX_CALLBACK_BYTES = 64
MAX_QUOTE_CHARS = 600
MAX_SOURCES = 5
MAX_TITLE_CHARS = 60
FEEDBACK_YES = "f:1"
FEEDBACK_NO = "f:0"


ButtonRows = list[list[tuple[str, str]]]


@dataclass(frozen=True, slots=True)
class Rendered:
    """The HTML chunks of one reply, in order, and the buttons that go under the last one."""

    chunks: list[str]
    buttons: ButtonRows


def split_text(value: str, *, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Split ``value`` into HTML-escaped chunks of at most ``limit`` UTF-16 units (``adapters.chunks``)."""
    return split_escaped(value, limit=limit)


def _shorten(value: str, limit: int) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def _source_html(source: Source) -> str:
    title = html.escape(_shorten(source.title or source.id, MAX_TITLE_CHARS), quote=False)
    if source.url and source.url.startswith(("https://", "http://")) and len(source.url) <= 300:
        return f'<a href="{html.escape(source.url, quote=True)}">{title}</a>'
    return title


def render_reply(reply: Reply, *, callbacks: CallbackCodec) -> Rendered:
    """Chunks (quote above the first, sources under the last) and button rows for ``reply``."""
    if not reply.text.strip():
        raise ValueError("an empty reply cannot be sent to Telegram")
    head = f"<i>{html.escape(_shorten(reply.quote, MAX_QUOTE_CHARS), quote=False)}</i>" if reply.quote else ""
    sources = [_source_html(s) for s in reply.sources[:MAX_SOURCES]]
    tail = f"{text('sources', reply.language)}: " + " · ".join(sources) if sources else ""
    reserve = utf16_len(head) + utf16_len(tail) + 4
    chunks = split_text(reply.text, limit=MAX_MESSAGE_CHARS - reserve)
    if head:
        chunks[0] = f"{head}\n\n{chunks[0]}".rstrip()
    if tail:
        chunks[-1] = f"{chunks[-1]}\n\n{tail}".lstrip()
    return Rendered(chunks=chunks, buttons=reply_buttons(reply, callbacks=callbacks))


def reply_buttons(reply: Reply, *, callbacks: CallbackCodec) -> ButtonRows:
    """Quick replies two to a row, then "talk to a human", then "was this helpful? 👍 👎" (a notice: its own only)."""
    rows: ButtonRows = []
    quick = [(_shorten(q.label, 40), callbacks.encode(q.payload)) for q in reply.quick_replies]
    rows.extend(quick[i : i + 2] for i in range(0, len(quick), 2))
    if reply.notice:
        return rows
    offers_human = any(q.payload == HUMAN_PAYLOAD for q in reply.quick_replies)
    if not reply.escalated and not offers_human:
        rows.append([human_button(reply.language, callbacks=callbacks)])
    if not reply.escalated:
        language = reply.language
        rows.append([(text("helpful", language), FEEDBACK_YES), (text("not_helpful", language), FEEDBACK_NO)])
    return rows


def human_button(language: str | None, *, callbacks: CallbackCodec) -> tuple[str, str]:
    """The visible "talk to a human" button."""
    return (text("human", language), callbacks.encode(HUMAN_PAYLOAD))


class CallbackCodec:
    """Maps quick-reply payloads to callback data (``q:<payload>``, or ``k:<n>`` when over 64 bytes)."""

    def __init__(self, *, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._long: OrderedDict[str, str] = OrderedDict()
        self._next = 0

    def encode(self, payload: str) -> str:
        data = f"q:{payload}"
        if len(data.encode()) <= MAX_CALLBACK_BYTES:
            return data
        self._next += 1
        key = f"k:{self._next}"
        self._long[key] = payload
        while len(self._long) > self._capacity:
            self._long.popitem(last=False)
        return key

    def decode(self, data: str) -> str | None:
        """The payload behind callback ``data``; None for feedback, unknown or expired data."""
        if data.startswith("q:"):
            return data[2:]
        return self._long.get(data)
