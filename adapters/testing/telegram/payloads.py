"""Bot API objects as Telegram sends them (users, chats, messages) and request bodies as clients send them."""

from __future__ import annotations

import json
import time
from html import unescape
from html.parser import HTMLParser
from typing import Any

from aiohttp import web

_JSON_FIELDS = frozenset(
    {"reply_markup", "entities", "caption_entities", "allowed_updates", "reply_parameters", "media"}
)
_HTML_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "span", "tg-spoiler",
     "blockquote", "tg-emoji"}
)


class BadRequest(Exception):
    """A request Telegram would refuse with 400 and this description."""

    status = 400
    prefix = "Bad Request"


class Conflict(BadRequest):
    """A second consumer of getUpdates, or getUpdates while a webhook is set (409)."""

    status = 409
    prefix = "Conflict"


def user(user_id: int, *, first_name: str = "Shopper", language_code: str | None = "en") -> dict[str, Any]:
    out: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code:
        out["language_code"] = language_code
    return out


def chat(chat_id: int, *, first_name: str = "Shopper") -> dict[str, Any]:
    """A private chat for positive ids, a supergroup for negative ones (as Telegram numbers them)."""
    if chat_id < 0:
        return {"id": chat_id, "type": "supergroup", "title": f"Group {-chat_id}"}
    return {"id": chat_id, "type": "private", "first_name": first_name}


def message(message_id: int, chat_id: int, sender: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A Message object; ``fields`` adds ``text``, ``photo``, ``voice``, ``caption``…"""
    return {"message_id": message_id, "date": int(time.time()), "chat": chat(chat_id), "from": sender, **fields}


def command_entities(text: str) -> list[dict[str, Any]]:
    """The ``bot_command`` entity Telegram adds when a text starts with ``/``."""
    if not text.startswith("/"):
        return []
    length = len(text.split(maxsplit=1)[0])
    return [{"type": "bot_command", "offset": 0, "length": length}]


def ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def error(status: int, description: str, *, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)


async def read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The call's parameters and uploaded files, from JSON, urlencoded or multipart bodies and the query.

    Form values arrive as strings; fields that Telegram defines as objects are decoded from JSON, and
    ``attach://<name>`` references are resolved to the uploaded part of that name.
    """
    params: dict[str, Any] = dict(request.query)
    files: dict[str, bytes] = {}
    if request.content_type == "application/json":
        params.update(await request.json())
        return params, files
    if request.can_read_body:
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = value.file.read()
            else:
                params[key] = value
    for key in _JSON_FIELDS & params.keys():
        if isinstance(params[key], str):
            try:
                params[key] = json.loads(params[key])
            except json.JSONDecodeError as exc:
                raise BadRequest(f"can't parse {key} JSON object") from exc
    return params, files


def upload(params: dict[str, Any], files: dict[str, bytes], field: str) -> bytes | str:
    """The bytes uploaded for ``field`` (directly or as ``attach://name``), else its file_id or URL."""
    if field in files:
        return files[field]
    value = params.get(field)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"there is no {field} in the request")
    if value.startswith("attach://"):
        name = value.removeprefix("attach://")
        if name not in files:
            raise BadRequest(f"file attach://{name} not found in the request")
        return files[name]
    return value


def integer(params: dict[str, Any], key: str, default: int | None = None) -> int:
    value = params.get(key, default)
    if value is None:
        raise BadRequest(f"{key} is required")
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise BadRequest(f"{key} must be an integer, got {value!r}") from exc


def visible_text(text: str, parse_mode: str | None) -> str:
    """The text a user sees: HTML is checked like Telegram does (known tags, balanced) and stripped."""
    if (parse_mode or "").upper() != "HTML":
        return text
    parser = _EntityParser()
    parser.feed(text)
    parser.close()
    if parser.open_tags:
        raise BadRequest(f"can't parse entities: unclosed tag <{parser.open_tags[-1]}>")
    return "".join(parser.parts)


def utf16_len(value: str) -> int:
    return len(value.encode("utf-16-le")) // 2


def check_markup(markup: Any) -> None:
    """Refuse inline keyboards Telegram would refuse (callback data over 64 bytes, missing fields)."""
    if not isinstance(markup, dict):
        return
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if not button.get("text"):
                raise BadRequest("text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise BadRequest("BUTTON_DATA_INVALID")


class _EntityParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.open_tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_TAGS:
            raise BadRequest(f"can't parse entities: unsupported start tag \"{tag}\"")
        self.open_tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open_tags or self.open_tags[-1] != tag:
            raise BadRequest(f"can't parse entities: unexpected end tag \"{tag}\"")
        self.open_tags.pop()

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def unknown_decl(self, data: str) -> None:
        self.parts.append(unescape(data))
