"""The two types every adapter and the core share: an inbound `Message` and an outbound `Reply`.

Adapters translate platform payloads to and from these and nothing else; the pipeline never sees a
platform object. Attachments are fetched lazily so that a text-only turn never downloads anything.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.errors import InputTooLarge

AttachmentKind = Literal["voice", "audio", "photo", "document"]


@dataclass(frozen=True, slots=True)
class ConversationRef:
    """Where a conversation lives: the channel name and the channel's own conversation id."""

    channel: str
    """Adapter name, e.g. ``"telegram"``, ``"web"``, ``"console"``."""
    conversation_id: str
    """The channel's id for the conversation (a Telegram chat id, a Slack thread, a browser session)."""

    def __str__(self) -> str:
        return f"{self.channel}:{self.conversation_id}"


@dataclass(frozen=True, slots=True)
class Attachment:
    """A voice note, audio file, photo or document whose bytes are fetched only when needed.

    ``fetch`` is owned by the adapter (a Telegram ``getFile`` + download, a Slack ``url_private`` GET, bytes
    already in memory). ``read`` enforces the size cap before and after fetching.
    """

    kind: AttachmentKind
    fetch: Callable[[], Awaitable[bytes]]
    """Coroutine factory returning the raw bytes; called at most once per ``read``."""
    mime_type: str | None = None
    size: int | None = None
    """Size announced by the platform, when it says (checked before downloading)."""
    filename: str | None = None
    duration_s: float | None = None
    """Duration announced by the platform for voice and audio, when it says."""
    locator: str | None = None
    """The channel's own reference to the bytes (a Telegram ``file_id``): kept in the durable inbox so that a
    message accepted before a restart can still be fetched after it (through the adapter's ``fetch``)."""
    data: bytes | None = field(default=None, repr=False)
    """The bytes, when they are already in memory (web uploads): the durable inbox keeps them as they are."""

    async def read(self, *, max_bytes: int) -> bytes:
        """Fetch the bytes, refusing anything over ``max_bytes`` (announced or actual)."""
        if self.size is not None and self.size > max_bytes:
            raise InputTooLarge(f"{self.kind} of {self.size} bytes is over the {max_bytes}-byte limit")
        data = await self.fetch()
        if len(data) > max_bytes:
            raise InputTooLarge(f"{self.kind} of {len(data)} bytes is over the {max_bytes}-byte limit")
        return data

    @classmethod
    def from_bytes(cls, kind: AttachmentKind, data: bytes, **details: Any) -> Attachment:
        """An attachment whose bytes are already in memory (web uploads, tests)."""

        async def fetch() -> bytes:
            return data

        return cls(kind=kind, fetch=fetch, size=len(data), data=data, **details)


@dataclass(frozen=True, slots=True)
class Message:
    """One inbound shopper (or colleague) message, as the core sees it."""

    conversation: ConversationRef
    user_id: str
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    message_id: str = ""
    """The platform's id, used to drop duplicates and to thread replies."""
    language_hint: str | None = None
    """A language the platform reports for the user (Telegram ``language_code``); detection still runs."""
    language: str | None = None
    """A reply language fixed by the caller (``kefu ask --lang``); overrides detection."""
    payload: str | None = None
    """A quick-reply payload when the user pressed a button rather than typed."""
    timestamp: float = field(default_factory=time.time)
    metadata: Mapping[str, Any] = field(default_factory=dict)
    client: str | None = None
    """Where an unverified sender connects from (the web chat's client address): per-client limits, such as
    the tickets a client may open, count by it. None where the platform vouches for its users (Telegram, Slack)."""
    answer: Reply | None = None
    """The channel's own answer (a /start greeting, a polite refusal of a sticker): sent as is, in turn
    order, without understanding the message; while an operator owns the conversation the message goes
    to the operator instead, like any other."""
    knowledge_base: str | None = None
    """The name of the knowledge base to answer from, when the channel chose one (a Slack channel's staff-only
    policies); None: the default one."""


@dataclass(frozen=True, slots=True)
class Source:
    """A knowledge-base passage an answer relies on."""

    id: str
    title: str
    score: float
    url: str | None = None


@dataclass(frozen=True, slots=True)
class QuickReply:
    """A button offered under a reply; pressing it comes back as ``Message.payload``."""

    label: str
    payload: str


HUMAN_PAYLOAD = "kefu:human"
"""Quick-reply payload of the visible "talk to a human" button."""


@dataclass(frozen=True, slots=True)
class Reply:
    """What the bot answers, in the shopper's language, with what it relied on."""

    text: str
    language: str = "en"
    intent: str | None = None
    confidence: float | None = None
    sources: tuple[Source, ...] = ()
    quick_replies: tuple[QuickReply, ...] = ()
    escalated: bool = False
    quote: str | None = None
    """What the bot understood from a voice note or photo, shown above the answer ("🎤 …")."""
    timings_ms: Mapping[str, float] = field(default_factory=dict)
    reason: str | None = None
    """Why the policy chose this reply (kept with the trace, not shown to the shopper)."""
    notice: bool = False
    """A channel's own short notice rather than an answer: no "was this helpful?" or automatic buttons."""
    author: str | None = None
    """Who wrote it when a person did: the operator's name on a reply relayed by the hand-off desk; None for the bot."""
    id: str | None = None
    """A unique id the outbox gives the reply when it is queued: a reply sent again after a crash keeps it, so a
    channel whose client can drop a repeat (the web chat) shows it once."""

    def to_json(self) -> dict[str, Any]:
        """The public JSON shape of ``kefu ask --json`` (docs/architecture.md §5)."""
        return {
            "text": self.text,
            "intent": self.intent,
            "confidence": self.confidence,
            "language": self.language,
            "sources": [{"id": s.id, "title": s.title, "score": round(s.score, 4)} for s in self.sources],
            "escalated": self.escalated,
            "reason": self.reason,
            "timings_ms": {stage: round(ms, 2) for stage, ms in self.timings_ms.items()},
        }
