"""Sending, forwarding, copying and deleting messages; chat actions and callback answers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from adapters.testing.telegram import entities
from adapters.testing.telegram import payloads as p
from adapters.testing.telegram.methods.registry import method
from adapters.testing.telegram.records import MEDIA_KINDS, CallbackAnswer

if TYPE_CHECKING:
    from adapters.testing.telegram.server import FakeTelegram

_CONTENT = (*MEDIA_KINDS, "text", "entities", "caption", "caption_entities", "location", "contact", "poll")
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


def formatted(params: dict[str, Any], field: str, entities_field: str) -> tuple[str, dict[str, Any]]:
    """``(raw, fields)``: the text as sent, and ``{field: visible, entities_field: [...]}`` as Telegram stores it."""
    raw = str(params.get(field) or "")
    visible, found = entities.parse(raw, params.get("parse_mode"), params.get(entities_field))
    fields: dict[str, Any] = {field: visible} if visible else {}
    if found:
        fields[entities_field] = found
    return raw, fields


@method("sendMessage")
async def send_message(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> dict[str, Any]:
    raw, fields = formatted(params, "text", "entities")
    if not fields.get("text", "").strip():
        raise p.BadRequest("message text is empty")
    if entities.utf16_len(fields["text"]) > 4096:
        raise p.BadRequest("message is too long")
    return fake.record(params, raw, fields)


@method("sendLocation")
async def send_location(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> dict[str, Any]:
    try:
        latitude, longitude = float(params["latitude"]), float(params["longitude"])
    except (KeyError, TypeError, ValueError) as exc:
        raise p.BadRequest("wrong latitude or longitude specified") from exc
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise p.BadRequest("wrong latitude or longitude specified")
    return fake.record(params, "", {"location": {"latitude": latitude, "longitude": longitude}})


@method("sendChatAction")
async def send_chat_action(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> bool:
    chat_id, action = p.integer(params, "chat_id"), str(params.get("action", ""))
    if action not in CHAT_ACTIONS:
        raise p.BadRequest("wrong parameter action in request")
    fake.check_reachable(chat_id)
    fake.chat_actions.append((chat_id, action))
    return True


@method("answerCallbackQuery")
async def answer_callback_query(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> bool:
    query_id = str(params.get("callback_query_id"))
    if query_id not in fake.open_queries:
        raise p.BadRequest("query is too old and response timeout expired or query ID is invalid")
    fake.open_queries.discard(query_id)
    fake.callback_answers.append(CallbackAnswer(query_id, params.get("text"), p.flag(params, "show_alert")))
    return True


@method("forwardMessage")
async def forward_message(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> dict[str, Any]:
    source = _source(fake, params, "message to forward not found")
    origin = {"type": "user", "sender_user": source["from"], "date": source["date"]}
    content = {k: v for k, v in source.items() if k in _CONTENT}
    return fake.record(
        {k: v for k, v in params.items() if k != "reply_markup"},
        source.get("text", ""),
        content | {"forward_origin": origin},
        data=_data_of(fake, content),
    )


@method("copyMessage")
async def copy_message(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> dict[str, int]:
    source = _source(fake, params, "message to copy not found")
    content = {k: v for k, v in source.items() if k in _CONTENT}
    raw = content.get("text", content.get("caption", ""))
    if "caption" in params:
        if "text" in content:
            raise p.BadRequest("can't set caption of a text message")
        content = {k: v for k, v in content.items() if k not in ("caption", "caption_entities")}
        raw, caption = formatted(params, "caption", "caption_entities")
        content |= caption
    obj = fake.record(params, raw, content, data=_data_of(fake, content))
    return {"message_id": obj["message_id"]}


@method("deleteMessage")
async def delete_message(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> bool:
    chat_id, message_id = p.integer(params, "chat_id"), p.integer(params, "message_id")
    if fake._messages.pop((chat_id, message_id), None) is None:
        raise p.BadRequest("message to delete not found")
    for message in fake.sent.get(chat_id, []):
        if message.message_id == message_id:
            message.deleted = True
    return True


@method("deleteMessages")
async def delete_messages(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> bool:
    """Delete up to 100 messages; the ones that cannot be found are skipped, as Telegram does."""
    ids = params.get("message_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100 or not all(isinstance(i, int) for i in ids):
        raise p.BadRequest("message_ids must be a list of 1-100 message identifiers")
    chat_id = p.integer(params, "chat_id")
    for message_id in ids:
        if (chat_id, message_id) in fake._messages:
            await delete_message(fake, {"chat_id": chat_id, "message_id": message_id}, files)
    return True


def _source(fake: FakeTelegram, params: dict[str, Any], missing: str) -> dict[str, Any]:
    found = fake._messages.get((p.integer(params, "from_chat_id"), p.integer(params, "message_id")))
    if found is None:
        raise p.BadRequest(missing)
    return found


def _data_of(fake: FakeTelegram, content: dict[str, Any]) -> bytes | None:
    for kind in MEDIA_KINDS:
        if kind in content:
            info = content[kind][-1] if kind == "photo" else content[kind]
            return fake.file_data(info["file_id"])
    return None
