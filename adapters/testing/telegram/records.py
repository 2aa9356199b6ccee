"""What the fake records: API calls, messages the bot sent, callback answers, webhook deliveries, faults."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One Bot API request the bot made, as the fake received it."""

    method: str
    params: dict[str, Any]
    at: float
    """``time.monotonic()`` when it arrived."""
    status: int = 200
    via: str = "http"
    """``"http"``, or ``"webhook reply"`` for a method the bot returned in a webhook response body."""


@dataclass(slots=True)
class Fault:
    """A failure injected for one future call of a method."""

    status: int
    retry_after: int | None = None
    hang_s: float | None = None


@dataclass(slots=True)
class WebhookDelivery:
    """One POST of an update to the bot's webhook and the status it got (0 on a network error)."""

    update_id: int
    status: int
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True, slots=True)
class Entity:
    """A formatting entity of a message, with the text it covers."""

    type: str
    offset: int
    length: int
    text: str
    url: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Media:
    """The file of a media message: its kind (``photo``, ``document``, ``voice``…) and the bytes the bot sent."""

    kind: str
    data: bytes
    file_id: str
    file_name: str | None = None
    mime_type: str | None = None
    url: str | None = None
    """Set when the bot sent a URL for Telegram to fetch (the fake does not fetch it; ``data`` is empty)."""


MEDIA_KINDS = ("photo", "document", "voice", "audio", "video", "animation", "sticker", "video_note")


@dataclass(slots=True)
class SentMessage:
    """A message the bot sent (or edited), as the user would see it; ``obj`` is the Message Telegram returned."""

    chat_id: int
    message_id: int
    raw_text: str
    """Text or caption exactly as the bot sent it (with its markup)."""
    parse_mode: str | None
    at: float
    """``time.monotonic()`` when the fake received it."""
    obj: dict[str, Any]
    data: bytes | None = None
    url: str | None = None
    reply_keyboard: list[list[str]] | None = None
    """The reply keyboard this message showed (``ReplyKeyboardMarkup`` button labels), if any."""
    edits: int = 0
    deleted: bool = False

    @property
    def thread_id(self) -> int | None:
        """The forum topic the message is in (``message_thread_id``), None outside topics."""
        return self.obj.get("message_thread_id") if self.obj.get("is_topic_message") else None

    @property
    def text(self) -> str:
        """The text (or caption, or poll question) as the user sees it: markup parsed away."""
        return str(self.obj.get("text", self.obj.get("caption", self.obj.get("poll", {}).get("question", ""))))

    @property
    def entities(self) -> list[Entity]:
        raw = self.obj.get("entities", self.obj.get("caption_entities", []))
        units = self.text.encode("utf-16-le")
        return [
            Entity(
                e["type"],
                e["offset"],
                e["length"],
                units[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le"),
                e.get("url"),
                e.get("language"),
            )
            for e in raw
        ]

    def formatted(self, kind: str) -> list[str]:
        """The pieces of text shown with entity ``kind`` (``bold``, ``italic``, ``code``, ``text_link``…)."""
        return [e.text for e in self.entities if e.type == kind]

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        """The inline keyboard the user sees now (rows of InlineKeyboardButton dicts); edits replace it."""
        return list(self.obj.get("reply_markup", {}).get("inline_keyboard", []))

    @property
    def buttons(self) -> list[list[tuple[str, str]]]:
        """Inline keyboard rows of ``(label, callback_data or url)``."""
        return [
            [(b["text"], str(b.get("callback_data", b.get("url", "")))) for b in row] for row in self.inline_keyboard
        ]

    @property
    def reply_to(self) -> int | None:
        """The id of the message this one answers (``reply_to_message``)."""
        replied = self.obj.get("reply_to_message")
        return int(replied["message_id"]) if replied else None

    @property
    def media(self) -> Media | None:
        for kind in MEDIA_KINDS:
            if kind in self.obj:
                info = self.obj[kind][-1] if kind == "photo" else self.obj[kind]
                return Media(
                    kind, self.data or b"", info["file_id"], info.get("file_name"), info.get("mime_type"), self.url
                )
        return None

    @property
    def photo(self) -> bytes | None:
        return self.data if "photo" in self.obj else None


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    """The bot's answerCallbackQuery for a button press."""

    callback_query_id: str
    text: str | None
    show_alert: bool


@dataclass(frozen=True, slots=True)
class InlineAnswer:
    """The bot's answerInlineQuery: the results it offered for one inline query."""

    inline_query_id: str
    results: list[dict[str, Any]]

    @property
    def titles(self) -> list[str]:
        return [str(r.get("title", r.get("id"))) for r in self.results]


@dataclass(frozen=True, slots=True)
class PreCheckoutAnswer:
    """The bot's answerPreCheckoutQuery."""

    pre_checkout_query_id: str
    ok: bool
    error_message: str | None
