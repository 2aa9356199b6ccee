"""Bot API objects as Telegram sends them (users, chats, messages) and request bodies as clients send them."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "permissions",
        "entities",
        "caption_entities",
        "allowed_updates",
        "reply_parameters",
        "media",
        "commands",
        "scope",
        "menu_button",
        "results",
        "prices",
        "button",
        "shipping_options",
        "link_preview_options",
        "suggested_tip_amounts",
        "options",
        "reaction",
        "message_ids",
    }
)


class BadRequest(Exception):
    """A request Telegram would refuse with 400 and this description."""

    status = 400
    prefix = "Bad Request"


class Conflict(BadRequest):
    """A second consumer of getUpdates, or getUpdates while a webhook is set (409)."""

    status = 409
    prefix = "Conflict"


class Forbidden(BadRequest):
    """The user blocked the bot, or the bot is not in the chat (403)."""

    status = 403
    prefix = "Forbidden"


@dataclass(frozen=True, slots=True)
class Upload:
    """A file uploaded in a multipart request."""

    data: bytes
    filename: str | None = None
    content_type: str | None = None


def user(
    user_id: int,
    *,
    first_name: str = "Shopper",
    last_name: str | None = None,
    username: str | None = None,
    language_code: str | None = "en",
) -> dict[str, Any]:
    out: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    for key, value in (("last_name", last_name), ("username", username), ("language_code", language_code)):
        if value:
            out[key] = value
    return out


def chat(chat_id: int, *, first_name: str = "Shopper", title: str | None = None) -> dict[str, Any]:
    """A private chat for positive ids, a supergroup for negative ones (as Telegram numbers them)."""
    if chat_id < 0:
        return {"id": chat_id, "type": "supergroup", "title": title or f"Group {-chat_id}"}
    return {"id": chat_id, "type": "private", "first_name": first_name}


def message(message_id: int, chat: dict[str, Any], sender: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A Message object; ``fields`` adds ``text``, ``photo``, ``voice``, ``caption``…"""
    return {"message_id": message_id, "date": int(time.time()), "chat": chat, "from": sender, **fields}


def ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def error(status: int, description: str, *, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)


async def read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
    """The call's parameters and uploaded files, from JSON, urlencoded or multipart bodies and the query."""
    params: dict[str, Any] = dict(request.query)
    files: dict[str, Upload] = {}
    if request.content_type == "application/json":
        params.update(await request.json())
    elif request.can_read_body:
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = Upload(value.file.read(), value.filename, value.content_type)
            else:
                params[key] = value
    return decode_fields(params), files


def decode_fields(params: dict[str, Any]) -> dict[str, Any]:
    """Form values arrive as strings: fields that Telegram defines as objects are decoded from JSON."""
    for key in _JSON_FIELDS & params.keys():
        if isinstance(params[key], str):
            try:
                params[key] = json.loads(params[key])
            except json.JSONDecodeError as exc:
                if key == "allowed_updates":  # Telegram ignores it (see set_allowed)
                    continue
                raise BadRequest(f"can't parse {key} JSON object") from exc
    return params


def upload(params: dict[str, Any], files: dict[str, Upload], field: str) -> Upload | str:
    """The file uploaded for ``field`` (directly or as ``attach://name``), else its file_id or URL."""
    if field in files:
        return files[field]
    value = params.get(field)
    if isinstance(value, Upload):
        return value
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
        raise BadRequest("chat_id is empty" if key == "chat_id" else f'parameter "{key}" is required')
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise BadRequest(f"{key} must be an integer, got {value!r}") from exc


def flag(params: dict[str, Any], key: str) -> bool:
    """A boolean parameter, sent as JSON ``true`` or as the form string ``"true"``."""
    return str(params.get(key, "")).lower() in ("true", "1")


def check_markup(markup: Any) -> None:
    """Refuse keyboards Telegram would refuse (callback data over 64 bytes, buttons without text)."""
    if markup is None:
        return
    if not isinstance(markup, dict):
        raise BadRequest("can't parse reply keyboard markup JSON object")
    inline = "inline_keyboard" in markup
    field = "inline_keyboard" if inline else "keyboard"
    rows = markup.get(field) or []
    if not isinstance(rows, list):
        raise BadRequest(f'field "{field}" must be of type Array')
    if not all(isinstance(row, list) for row in rows):
        raise BadRequest(
            'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            if inline
            else 'field "keyboard" must be an Array of Arrays'
        )
    for row in rows:
        for button in row:
            if not isinstance(button, dict | str) or (isinstance(button, dict) and not button.get("text")):
                kind = "inline keyboard button" if inline else "keyboard button"
                raise BadRequest(f"can't parse {kind}: Can't find field \"text\"")
            if "inline_keyboard" not in markup or not isinstance(button, dict):
                continue
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise BadRequest("BUTTON_DATA_INVALID")
            if not any(
                k in button
                for k in (
                    "callback_data",
                    "url",
                    "switch_inline_query",
                    "web_app",
                    "pay",
                    "switch_inline_query_current_chat",
                    "login_url",
                    "copy_text",
                    "callback_game",
                    "switch_inline_query_chosen_chat",
                )
            ):
                raise BadRequest(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
