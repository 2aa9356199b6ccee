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


@dataclass(slots=True)
class SentMessage:
    """A message the bot sent (or edited), as the user would see it."""

    chat_id: int
    message_id: int
    text: str
    """Visible text (HTML parsed and stripped), or the photo caption."""
    raw_text: str
    """Text exactly as the bot sent it (with HTML tags and entities)."""
    parse_mode: str | None
    buttons: list[list[tuple[str, str]]]
    """Inline keyboard rows of ``(label, callback_data)``."""
    at: float
    """``time.monotonic()`` when the fake received it."""
    photo: bytes | None = None
    edits: int = 0
    obj: dict[str, Any] | None = None
    """The Message object returned to the bot (what a callback query carries)."""


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    """The bot's answerCallbackQuery for a button press."""

    callback_query_id: str
    text: str | None
    show_alert: bool
