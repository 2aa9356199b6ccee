"""The web chat's WebSocket frames: client JSON in (validated, cleaned), server JSON out.

Every way a client frame can be wrong ends in ``FrameError``, whose text is shown to the shopper as an
``{"type": "error"}`` frame; nothing here touches a socket, so the rules are easy to test one by one.

A text or button frame is small (``ChatLimits.max_text_frame_bytes``). A frame over that size can only be a voice
note or photo: it is never parsed whole; its one large field, ``data``, is cut out as raw bytes, the small rest is
parsed as JSON, and the base64 is decoded in slices. Such frames cost tens of milliseconds, so callers decode them
off the event loop.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from bot.errors import BadInput
from bot.messages import Attachment, AttachmentKind, Reply

CLIENT_FRAME_TYPES = ("message", "voice", "photo", "button")
_MAX_ID_CHARS = 128
_MAX_PAYLOAD_CHARS = 256
_MAX_NAME_CHARS = 200
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
"""C0/C1 controls except tab and newline (CR is turned into LF first), and lone surrogates."""
_DATA_FIELD = re.compile(rb'"data"\s*:\s*"')
_B64_SLICE = 1024 * 1024
"""Base64 characters decoded per call: each call holds the GIL, so slices let the event loop run in between."""
_NOT_JSON = "Your message could not be read: frames must be JSON objects."


class FrameError(BadInput):
    """A client frame the chat refuses; ``str(error)`` is the clear text sent back to the shopper."""


@dataclass(frozen=True, slots=True)
class ChatLimits:
    """What one web chat accepts from a browser."""

    max_text_chars: int = 4000
    """Longer text is cut to this many characters and the shopper is told (a ``notice`` frame)."""
    max_upload_bytes: int = 20 * 1024 * 1024
    """Largest voice note or photo, in decoded bytes."""
    voice: bool = False
    """Voice notes are accepted (a speech engine is wired)."""
    photo: bool = False
    """Photos are accepted (a vision engine is wired)."""

    @property
    def max_text_frame_bytes(self) -> int:
        """Largest frame read as text: ``max_text_chars`` even if each is JSON-escaped (12 bytes), plus 16 KiB."""
        return self.max_text_chars * 12 + 16 * 1024


@dataclass(frozen=True, slots=True)
class Inbound:
    """One accepted client frame, ready to become a ``bot.messages.Message``."""

    text: str = ""
    payload: str | None = None
    attachment: Attachment | None = None
    client_id: str = ""
    truncated_from: int | None = None
    """The text's length before it was cut to ``max_text_chars``, when it was cut."""


def clean_text(text: str) -> str:
    """Text with CR/LF normalised, C0/C1 controls (except newline and tab) and lone surrogates removed, trimmed.

    Text with nothing visible left, only format characters such as zero-width spaces, joiners or a byte order
    mark, is empty; format characters between visible ones (a ZWJ inside an emoji sequence) are kept.
    """
    text = _CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()
    return text if any(_visible(ch) for ch in text) else ""


def _visible(ch: str) -> bool:
    return not ch.isspace() and unicodedata.category(ch) != "Cf"


def decode_frame(data: bytes | str, *, limits: ChatLimits) -> Inbound:
    """Parse and check one text frame's payload (raw bytes: UTF-8 is checked here, not by the socket).

    A frame over ``limits.max_text_frame_bytes`` is read as an upload (see the module's docstring); run such
    frames off the event loop.
    """
    encoded: bytes | None = None
    if len(data) > limits.max_text_frame_bytes:
        frame, encoded = _split_upload(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data, limits)
    else:
        frame = _parse(data)
    kind = frame.get("type")
    client_id = _optional_str(frame, "id", _MAX_ID_CHARS)
    if encoded is not None and kind not in ("voice", "photo"):
        raise FrameError(_too_long(limits))
    if kind == "message":
        return _text_frame(frame, client_id, limits)
    if kind == "button":
        payload = clean_text(_optional_str(frame, "payload", _MAX_PAYLOAD_CHARS))
        if not payload:
            raise FrameError("That button press carried no payload.")
        return Inbound(payload=payload, client_id=client_id)
    if kind == "voice":
        if not limits.voice:
            raise FrameError("Voice notes are not enabled on this chat yet; please type your question instead.")
        return _upload_frame(frame, client_id, limits, kind="voice", mime_prefix="audio/", encoded=encoded)
    if kind == "photo":
        if not limits.photo:
            raise FrameError("Photos are not enabled on this chat yet; please describe the item in words instead.")
        return _upload_frame(frame, client_id, limits, kind="photo", mime_prefix="image/", encoded=encoded)
    shown = kind if isinstance(kind, str) and len(kind) <= 40 else "(missing)"
    raise FrameError(f"Unknown frame type {shown!r}; expected one of: {', '.join(CLIENT_FRAME_TYPES)}.")


def _parse(data: bytes | str) -> dict[str, Any]:
    """A small frame's JSON object."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise FrameError(f"Your message is not valid UTF-8 text (bad byte at position {error.start}).") from None
    try:
        frame = json.loads(data)
    except (json.JSONDecodeError, RecursionError):
        raise FrameError(_NOT_JSON) from None
    except ValueError:  # an integer past Python's digit limit (4300)
        raise FrameError("Your message could not be read: it holds a number too long to read.") from None
    if not isinstance(frame, dict):
        raise FrameError(_NOT_JSON)
    return frame


def _split_upload(data: bytes, limits: ChatLimits) -> tuple[dict[str, Any], bytes]:
    """A large frame's object with ``data`` emptied, and that field's raw base64 (``\\/`` unescaped).

    Only an upload may be this large, and only in its ``data`` string: without one, or with more than
    ``max_text_frame_bytes`` left around it, the frame is refused unparsed.
    """
    if not (limits.voice or limits.photo) or (field := _DATA_FIELD.search(data)) is None:
        raise FrameError(_too_long(limits))
    end = data.find(b'"', field.end())
    if end < 0:
        raise FrameError(_NOT_JSON)
    if field.end() + len(data) - end > limits.max_text_frame_bytes:
        raise FrameError(_too_long(limits))
    frame = _parse(data[: field.end()] + data[end:])
    if frame.get("data") != "":  # the cut string was not the frame's own "data" field
        raise FrameError(_NOT_JSON)
    return frame, data[field.end() : end].replace(b"\\/", b"/")


def _too_long(limits: ChatLimits) -> str:
    return f"Your message is too long to read: please keep it under {limits.max_text_chars} characters."


def _text_frame(frame: dict[str, Any], client_id: str, limits: ChatLimits) -> Inbound:
    raw = frame.get("text")
    if not isinstance(raw, str):
        raise FrameError('A message frame needs a "text" string.')
    text = clean_text(raw)
    if not text:
        raise FrameError("Your message is empty; please type a question.")
    if len(text) > limits.max_text_chars:
        return Inbound(text=text[: limits.max_text_chars].rstrip(), client_id=client_id, truncated_from=len(text))
    return Inbound(text=text, client_id=client_id)


def _upload_frame(
    frame: dict[str, Any],
    client_id: str,
    limits: ChatLimits,
    *,
    kind: AttachmentKind,
    mime_prefix: str,
    encoded: bytes | None,
) -> Inbound:
    what = "voice note" if kind == "voice" else "photo"
    mime = _optional_str(frame, "mime", 100).strip().lower()
    if not mime.startswith(mime_prefix):
        raise FrameError(f"The {what}'s type must be {mime_prefix}*; got {mime or 'none'!r}.")
    if encoded is None:
        field = frame.get("data")
        encoded = field.encode("ascii", errors="replace") if isinstance(field, str) else None
    if not encoded:
        raise FrameError(f"The {what} carried no data.")
    if len(encoded) // 4 * 3 > limits.max_upload_bytes + 2:
        raise FrameError(f"The {what} is too large: the limit is {_mib(limits.max_upload_bytes)}.")
    try:
        data = _b64decode(encoded)
    except (binascii.Error, ValueError):
        raise FrameError(f"The {what} could not be read: its data is not valid base64.") from None
    if not data:
        raise FrameError(f"The {what} carried no data.")
    if len(data) > limits.max_upload_bytes:
        raise FrameError(f"The {what} is too large: the limit is {_mib(limits.max_upload_bytes)}.")
    name = clean_text(_optional_str(frame, "name", _MAX_NAME_CHARS)) or None
    caption = clean_text(_optional_str(frame, "text", limits.max_text_chars))
    attachment = Attachment.from_bytes(kind, data, mime_type=mime, filename=name)
    return Inbound(text=caption, attachment=attachment, client_id=client_id)


def _b64decode(encoded: bytes) -> bytes:
    """Strict base64 (padding only at the end, no whitespace), decoded a slice at a time."""
    if len(encoded) % 4 or encoded.find(b"=", 0, len(encoded) - 2) >= 0:
        raise ValueError("base64 length is not a multiple of 4, or padding before the end")
    slices = range(0, len(encoded), _B64_SLICE)
    return b"".join(base64.b64decode(encoded[i : i + _B64_SLICE], validate=True) for i in slices)


def _optional_str(frame: dict[str, Any], key: str, max_chars: int) -> str:
    value = frame.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise FrameError(f"The field {key!r} must be a string.")
    return value[:max_chars]


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB" if size >= 1024 * 1024 else f"{size} bytes"


def reply_frame(reply: Reply) -> dict[str, Any]:
    """The ``{"type": "reply"}`` frame for a ``Reply`` (the protocol in docs/web.md)."""
    return {
        "type": "reply",
        "id": reply.id,
        "text": reply.text,
        "language": reply.language,
        "sources": [{"id": s.id, "title": s.title, "score": round(s.score, 4)} for s in reply.sources],
        "quick_replies": [{"label": q.label, "payload": q.payload} for q in reply.quick_replies],
        "escalated": reply.escalated,
        "quote": reply.quote,
        "intent": reply.intent,
        "confidence": reply.confidence,
    }


def accepted_frame(client_id: str, *, duplicate: bool) -> dict[str, Any]:
    """``{"type": "accepted"}``: the message with this client id is kept (``duplicate``: it was already)."""
    return {"type": "accepted", "id": client_id, "duplicate": duplicate}


def error_frame(message: str, *, retry_after_s: float | None = None) -> dict[str, Any]:
    """An ``{"type": "error"}`` frame with text safe to show the shopper; ``retry_after_s`` says the message it
    answers was refused for now (a flood, a busy server) and should be sent again after that many seconds,
    before any later one, so that the conversation keeps its order."""
    frame: dict[str, Any] = {"type": "error", "message": message}
    if retry_after_s is not None:
        frame["retry_after_s"] = retry_after_s
    return frame


def notice_frame(message: str) -> dict[str, str]:
    """An ``{"type": "notice"}`` frame: the message went through, but the shopper should know something."""
    return {"type": "notice", "message": message}
