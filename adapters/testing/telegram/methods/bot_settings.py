"""setMyCommands, getMyCommands, deleteMyCommands, setChatMenuButton and getChatMenuButton."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from adapters.testing.telegram import payloads as p
from adapters.testing.telegram.methods.registry import method

if TYPE_CHECKING:
    from adapters.testing.telegram.server import FakeTelegram

_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_MENU_TYPES = frozenset({"commands", "web_app", "default"})


def _key(params: dict[str, Any]) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    if not isinstance(scope, dict) or "type" not in scope:
        raise p.BadRequest("can't parse BotCommandScope JSON object")
    return str(scope["type"]), str(params.get("language_code") or "")


@method("setMyCommands")
async def set_my_commands(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> bool:
    commands = params.get("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise p.BadRequest("can't parse commands JSON object")
    for command in commands:
        if not isinstance(command, dict) or not _COMMAND.fullmatch(str(command.get("command", ""))):
            raise p.BadRequest("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", ""))) <= 256:
            raise p.BadRequest("BOT_COMMAND_DESCRIPTION_INVALID")
    fake.commands[_key(params)] = [{"command": c["command"], "description": c["description"]} for c in commands]
    return True


@method("getMyCommands")
async def get_my_commands(
    fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]
) -> list[dict[str, str]]:
    return fake.commands.get(_key(params), [])


@method("deleteMyCommands")
async def delete_my_commands(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> bool:
    fake.commands.pop(_key(params), None)
    return True


@method("setChatMenuButton")
async def set_chat_menu_button(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> bool:
    button = params.get("menu_button") or {"type": "default"}
    if not isinstance(button, dict) or button.get("type") not in _MENU_TYPES:
        raise p.BadRequest("can't parse menu button JSON object")
    if button["type"] == "web_app" and not (button.get("text") and isinstance(button.get("web_app"), dict)):
        raise p.BadRequest("web app menu button needs text and web_app")
    chat_id = p.integer(params, "chat_id") if params.get("chat_id") is not None else None
    fake.menu_buttons[chat_id] = button
    return True


@method("getChatMenuButton")
async def get_chat_menu_button(
    fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]
) -> dict[str, Any]:
    chat_id = p.integer(params, "chat_id") if params.get("chat_id") is not None else None
    return fake.menu_buttons.get(chat_id) or fake.menu_buttons.get(None) or {"type": "commands"}
