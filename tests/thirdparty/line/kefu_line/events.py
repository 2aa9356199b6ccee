"""Webhook bodies into kefu messages: the signature checked, each event read defensively, odd ones skipped."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from typing import Any

from bot.messages import ConversationRef, Message, Reply

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Line-Signature"
MAX_TEXT_CHARS = 5000
"""The platform lets users send up to 5000 characters; anything longer is not from a real client."""


class Malformed(ValueError):
    """The body is not a webhook body (not JSON, not an object with an ``events`` list)."""


def signature(secret: str, body: bytes) -> str:
    """The body's signature: base64 of its HMAC-SHA256 under the channel secret."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def signed(secret: str, body: bytes, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(signature(secret, body), given)


def events_of(body: bytes) -> list[Any]:
    """The body's events, unread; ``Malformed`` when the body is not a webhook body."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
        raise Malformed(f"not JSON ({type(error).__name__})") from None
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise Malformed("not an object with an events list")
    return data["events"]


def to_message(event: Any, *, channel: str) -> Message | None:
    """A user's message or button press as a ``Message``; None (logged) for anything else or anything odd."""
    if not isinstance(event, dict) or event.get("type") not in ("message", "postback"):
        log.debug("line: skipped an event of type %r", event.get("type") if isinstance(event, dict) else None)
        return None
    source, event_id = event.get("source"), event.get("webhookEventId")
    chat = _chat_of(source)
    user = source.get("userId") if isinstance(source, dict) else None
    if chat is None or not isinstance(user, str) or not user or not isinstance(event_id, str) or not event_id:
        log.warning("line: skipped a %s event without a user, chat or event id", event["type"])
        return None
    conversation = ConversationRef(channel, chat)
    if event["type"] == "postback":
        data = event.get("postback", {}).get("data") if isinstance(event.get("postback"), dict) else None
        if not isinstance(data, str) or not data:
            log.warning("line: skipped a postback without data in %s", conversation)
            return None
        return Message(conversation, user_id=user, message_id=event_id, payload=data)
    return _text_message(event.get("message"), conversation, user)


def _chat_of(source: Any) -> str | None:
    """The conversation: the group or room when the message was said in one, else the user's 1:1 chat."""
    if not isinstance(source, dict):
        return None
    key = {"user": "userId", "group": "groupId", "room": "roomId"}.get(str(source.get("type")))
    chat = source.get(key) if key else None
    return chat if isinstance(chat, str) and chat else None


def _text_message(body: Any, conversation: ConversationRef, user: str) -> Message | None:
    message_id = body.get("id") if isinstance(body, dict) else None
    if not isinstance(message_id, str) or not message_id:
        log.warning("line: skipped a message without an id in %s", conversation)
        return None
    text = body.get("text")
    if body.get("type") != "text" or not isinstance(text, str):
        refusal = Reply(text="Sorry, I can read only text messages here.", notice=True)
        return Message(conversation, user_id=user, message_id=message_id, answer=refusal)
    if len(text) > MAX_TEXT_CHARS:
        log.warning("line: a message of %d characters in %s refused", len(text), conversation)
        refusal = Reply(text=f"That message is too long; please send at most {MAX_TEXT_CHARS} characters.", notice=True)
        return Message(conversation, user_id=user, message_id=message_id, answer=refusal)
    return Message(conversation, user_id=user, text=text, message_id=message_id)
