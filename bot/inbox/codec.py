"""Messages and replies as JSON (plus attachment bytes), so the durable inbox and outbox can keep them.

An attachment is kept as its bytes when it has them in memory (``Attachment.data``), else as its channel's
``locator``; one with neither cannot be fetched after a restart and says so clearly when read.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from bot.errors import BadInput
from bot.messages import Attachment, ConversationRef, Message, QuickReply, Reply, Source

Refetch = Callable[[str, str], Awaitable[bytes]]
"""Fetches an attachment again from its channel: ``refetch(channel, locator) -> bytes``."""

LOST_ATTACHMENT = "Your {kind} arrived just before a restart and could not be read again; please send it once more."


def dump_reply(reply: Reply) -> str:
    """``reply`` as JSON text (every field, so that what is sent after a restart is what was decided)."""
    return json.dumps(
        {
            "text": reply.text,
            "language": reply.language,
            "intent": reply.intent,
            "confidence": reply.confidence,
            "sources": [[s.id, s.title, s.score, s.url] for s in reply.sources],
            "quick_replies": [[q.label, q.payload] for q in reply.quick_replies],
            "escalated": reply.escalated,
            "quote": reply.quote,
            "timings_ms": dict(reply.timings_ms),
            "reason": reply.reason,
            "notice": reply.notice,
            "author": reply.author,
            "id": reply.id,
        },
        ensure_ascii=False,
    )


def load_reply(text: str) -> Reply:
    """The ``Reply`` that ``dump_reply`` wrote."""
    data = json.loads(text)
    return Reply(
        text=data["text"],
        language=data["language"],
        intent=data["intent"],
        confidence=data["confidence"],
        sources=tuple(Source(id=i, title=t, score=s, url=u) for i, t, s, u in data["sources"]),
        quick_replies=tuple(QuickReply(label=label, payload=payload) for label, payload in data["quick_replies"]),
        escalated=data["escalated"],
        quote=data["quote"],
        timings_ms=data["timings_ms"],
        reason=data["reason"],
        notice=data["notice"],
        author=data.get("author"),  # absent from replies kept before the field existed
        id=data.get("id"),
    )


def numbered(reply: Reply) -> Reply:
    """``reply`` with its unique ``id`` (made here when it has none), as the outbox keeps it."""
    return reply if reply.id is not None else replace(reply, id=uuid.uuid4().hex[:16])


def dump_message(message: Message) -> tuple[str, list[bytes]]:
    """``message`` as JSON text and the in-memory bytes of its attachments (referenced by index)."""
    blobs: list[bytes] = []
    attachments = []
    for attachment in message.attachments:
        kept: dict[str, Any] = {
            "kind": attachment.kind,
            "mime_type": attachment.mime_type,
            "size": attachment.size,
            "filename": attachment.filename,
            "duration_s": attachment.duration_s,
            "locator": attachment.locator,
            "blob": None,
        }
        if attachment.data is not None:
            kept["blob"] = len(blobs)
            blobs.append(attachment.data)
        attachments.append(kept)
    record = {
        "channel": message.conversation.channel,
        "conversation_id": message.conversation.conversation_id,
        "user_id": message.user_id,
        "text": message.text,
        "attachments": attachments,
        "message_id": message.message_id,
        "language_hint": message.language_hint,
        "language": message.language,
        "payload": message.payload,
        "timestamp": message.timestamp,
        "metadata": _plain(message.metadata),
        "client": message.client,
        "answer": dump_reply(message.answer) if message.answer is not None else None,
        "knowledge_base": message.knowledge_base,
    }
    return json.dumps(record, ensure_ascii=False), blobs


def load_message(text: str, blobs: list[bytes], *, refetch: Refetch) -> Message:
    """The ``Message`` that ``dump_message`` wrote; attachments fetch from their bytes or their channel again."""
    data = json.loads(text)
    channel = data["channel"]
    attachments = tuple(_attachment(kept, blobs, channel, refetch) for kept in data["attachments"])
    return Message(
        conversation=ConversationRef(channel, data["conversation_id"]),
        user_id=data["user_id"],
        text=data["text"],
        attachments=attachments,
        message_id=data["message_id"],
        language_hint=data["language_hint"],
        language=data["language"],
        payload=data["payload"],
        timestamp=data["timestamp"],
        metadata=data["metadata"],
        client=data.get("client"),  # absent in records kept before clients were counted
        answer=load_reply(data["answer"]) if data["answer"] is not None else None,
        knowledge_base=data.get("knowledge_base"),
    )


def _attachment(kept: dict[str, Any], blobs: list[bytes], channel: str, refetch: Refetch) -> Attachment:
    details = {key: kept[key] for key in ("mime_type", "filename", "duration_s", "locator")}
    if kept["blob"] is not None:
        return Attachment.from_bytes(kept["kind"], blobs[kept["blob"]], **details)
    locator = kept["locator"]

    async def fetch() -> bytes:
        if locator is None:
            raise BadInput(LOST_ATTACHMENT.format(kind=kept["kind"].replace("_", " ")))
        return await refetch(channel, locator)

    return Attachment(kind=kept["kind"], fetch=fetch, size=kept["size"], **details)


def _plain(metadata: Any) -> dict[str, Any]:
    """The metadata values JSON can keep (others become their ``str``)."""
    return json.loads(json.dumps(dict(metadata), ensure_ascii=False, default=str))
