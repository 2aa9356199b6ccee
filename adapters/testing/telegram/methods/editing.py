"""editMessageText, editMessageCaption and editMessageReplyMarkup: edits replace text and inline keyboard."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from adapters.testing.telegram import entities
from adapters.testing.telegram import payloads as p
from adapters.testing.telegram.methods.media import MEDIA_DEFAULTS, store
from adapters.testing.telegram.methods.messages import formatted
from adapters.testing.telegram.methods.registry import method
from adapters.testing.telegram.records import MEDIA_KINDS, SentMessage

if TYPE_CHECKING:
    from adapters.testing.telegram.server import FakeTelegram

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same as "
    "a current content and reply markup of the message"
)


@method("editMessageText")
async def edit_message_text(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> Any:
    message = _target(fake, params)
    if "text" not in message.obj:
        raise p.BadRequest("there is no text in the message to edit")
    raw, fields = formatted(params, "text", "entities")
    if not fields.get("text", "").strip():
        raise p.BadRequest("message text is empty")
    if entities.utf16_len(fields["text"]) > 4096:
        raise p.BadRequest("message is too long")
    return _apply(message, params, raw, fields, ("text", "entities"))


@method("editMessageCaption")
async def edit_message_caption(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> Any:
    message = _target(fake, params)
    if "text" in message.obj or "location" in message.obj:
        raise p.BadRequest("there is no caption in the message to edit")
    raw, fields = formatted(params, "caption", "caption_entities")
    if entities.utf16_len(fields.get("caption", "")) > 1024:
        raise p.BadRequest("message caption is too long")
    return _apply(message, params, raw, fields, ("caption", "caption_entities"))


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> Any:
    message = _target(fake, params)
    return _apply(message, params, message.raw_text, {}, ())


@method("editMessageMedia")
async def edit_message_media(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> Any:
    message = _target(fake, params)
    media = params.get("media")
    if not isinstance(media, dict) or media.get("type") not in MEDIA_DEFAULTS:
        raise p.BadRequest("can't parse input media JSON object")
    if message.media is None:
        raise p.BadRequest("there is no media in the message to edit")
    kind = str(media["type"])
    info, data, url = store(fake, kind, p.upload({kind: media.get("media")}, files, kind), media)
    raw, fields = formatted(media, "caption", "caption_entities")
    fields[kind] = [info] if kind == "photo" else info
    result = _apply(message, params, raw, fields, (*MEDIA_KINDS, "caption", "caption_entities"))
    message.data, message.url, message.parse_mode = data, url, media.get("parse_mode")
    return result


def _target(fake: FakeTelegram, params: dict[str, Any]) -> SentMessage:
    if params.get("inline_message_id"):
        found = fake.inline_messages.get(str(params["inline_message_id"]))
        if found is None:
            raise p.BadRequest("MESSAGE_ID_INVALID")
        return found
    chat_id, message_id = p.integer(params, "chat_id"), p.integer(params, "message_id")
    if (chat_id, message_id) in fake._messages and not any(
        m.message_id == message_id for m in fake.sent.get(chat_id, [])
    ):
        raise p.BadRequest("message can't be edited")
    return fake.sent_message(chat_id, message_id, "message to edit not found")


def _apply(
    message: SentMessage, params: dict[str, Any], raw: str, fields: dict[str, Any], replaced: tuple[str, ...]
) -> dict[str, Any] | bool:
    """Replace ``replaced`` content fields and the inline keyboard (absent: removed), as Telegram does; an
    inline message's edit returns True, a chat message's the edited Message."""
    markup = params.get("reply_markup")
    p.check_markup(markup)
    if markup is not None and not (isinstance(markup, dict) and "inline_keyboard" in markup):
        raise p.BadRequest("inline keyboard expected")
    new = {k: v for k, v in message.obj.items() if k not in (*replaced, "reply_markup", "edit_date")} | fields
    if markup and markup.get("inline_keyboard"):
        new["reply_markup"] = markup
    old = {k: v for k, v in message.obj.items() if k != "edit_date"}
    if new == old:
        raise p.BadRequest(NOT_MODIFIED)
    message.obj.clear()
    message.obj.update(new, edit_date=int(time.time()))
    if replaced:
        message.raw_text, message.parse_mode = raw, params.get("parse_mode")
    message.edits += 1
    return True if params.get("inline_message_id") else message.obj
