"""Understanding a shopper's turn whatever its modality: typed text, voice notes, photos."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot.engines import Engines
from bot.errors import user_message
from bot.generation.templates import kind_name, say
from bot.language import clean_text, detect_language
from bot.messages import Attachment, Message
from bot.photos import photo_words, seen_quote
from bot.protocols import Description

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Understanding:
    """The shopper's turn in words, whatever its modality."""

    text: str
    language: str
    quote: str | None = None
    notices: list[str] = field(default_factory=list)
    photos: list[Description] = field(default_factory=list)
    """What the describer saw in each photo of the turn (for matching to the catalogue)."""
    said: str = ""
    """The shopper's own words: typed or spoken, without what was read off photos."""


async def understand(
    message: Message,
    engines: Engines,
    *,
    max_text_chars: int,
    max_audio_bytes: int,
    max_image_bytes: int,
    language_hint: str | None = None,
) -> Understanding:
    """Words and language of ``message``; unusable attachments become notices for the shopper, not errors.

    ``language_hint`` (the conversation's language so far) decides when the text alone cannot (an order number).
    A photo sent without words opening a conversation is answered in the language of the text on it (a Chinese
    order screenshot gets Chinese).
    """
    typed = clean_text(message.text)
    notices: list[str] = []
    language = message.language or detect_language(typed, hint=language_hint or message.language_hint)
    if len(typed) > max_text_chars:
        typed = typed[:max_text_chars]
        notices.append(say("truncated", language, limit=max_text_chars))
    parts = [typed] if typed else []
    said = [typed] if typed else []
    quotes: list[str] = []
    photos: list[Description] = []
    for attachment in message.attachments:
        heard = await _attachment(attachment, engines, language, notices, max_audio_bytes, max_image_bytes)
        if heard is None:
            continue
        if isinstance(heard, tuple):
            words, quote, heard_language = heard
            parts.append(words)
            said.append(words)
            quotes.append(quote)
            if not typed and heard_language and not message.language:
                language = heard_language
        else:
            photos.append(heard)
            parts.append(photo_words(heard))
    if photos and not said and not message.language and not (language_hint or message.language_hint):
        language = detect_language(" ".join(photo_words(photo) for photo in photos), default=language)
    if photos:
        quotes.append(seen_quote(photos, language))
    text = " ".join(part for part in parts if part).strip()
    return Understanding(text, language, "\n".join(quotes) or None, notices, photos, " ".join(said).strip())


async def _attachment(
    attachment: Attachment, engines: Engines, language: str, notices: list[str], max_audio: int, max_image: int
) -> tuple[str, str, str | None] | Description | None:
    """Words, a quote and maybe a language from a voice note, what a photo shows; a notice instead when it cannot
    be used."""
    is_audio = attachment.kind in ("voice", "audio")
    is_image = attachment.kind == "photo" or (attachment.mime_type or "").startswith("image/")
    kind = kind_name(attachment.kind, language)
    if (
        not (is_audio or is_image)
        or (is_audio and engines.transcriber is None)
        or (is_image and engines.describer is None)
    ):
        notices.append(say("attachment_disabled", language, kind=kind))
        return None
    try:
        if is_audio:
            transcript = await engines.transcribe(await attachment.read(max_bytes=max_audio))
            return transcript.text, f"🎤 {transcript.text}", transcript.language
        return await engines.describe(await attachment.read(max_bytes=max_image))
    except Exception as error:  # each bad attachment becomes a notice, the turn goes on
        reason = user_message(error)
        if reason is None:
            log.exception("could not process a %s", attachment.kind)
            reason = say("internal_error", language)
        else:
            log.warning("rejected a %s: %s", attachment.kind, error)
        notices.append(say("attachment_failed", language, kind=kind, reason=reason))
        return None
