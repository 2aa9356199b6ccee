"""Forum topics in supergroups (``fake.make_forum``): createForumTopic and its edits, each with the service message
Telegram posts in the topic, and ``message_thread_id`` on what the bot sends there."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from adapters.testing.telegram import payloads as p
from adapters.testing.telegram.methods.registry import method

if TYPE_CHECKING:
    from adapters.testing.telegram.server import FakeTelegram

ICON_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)
"""The colours Telegram allows for a topic icon (createForumTopic's ``icon_color``)."""
THREAD_NOT_FOUND = "message thread not found"


def topic_fields(forums: dict[int, dict[int, dict[str, Any]]], chat_id: int, params: dict[str, Any]) -> dict[str, Any]:
    """``message_thread_id`` / ``is_topic_message`` of a message the bot sends with ``message_thread_id``; 400
    "message thread not found" when the chat has no such (open or closed, not deleted) topic."""
    if params.get("message_thread_id") in (None, "", 0, "0"):
        return {}
    thread_id = p.integer(params, "message_thread_id")
    if thread_id not in forums.get(chat_id, {}):
        raise p.BadRequest(THREAD_NOT_FOUND)
    return {"message_thread_id": thread_id, "is_topic_message": True}


def _topic(fake: FakeTelegram, params: dict[str, Any]) -> tuple[int, int, dict[str, Any]]:
    chat_id = p.integer(params, "chat_id")
    topics = _forum(fake, chat_id)
    thread_id = p.integer(params, "message_thread_id")
    if thread_id not in topics:
        raise p.BadRequest(THREAD_NOT_FOUND)
    return chat_id, thread_id, topics[thread_id]


def _forum(fake: FakeTelegram, chat_id: int) -> dict[int, dict[str, Any]]:
    if chat_id not in fake.forums:
        raise p.BadRequest("the chat is not a forum")
    return fake.forums[chat_id]


def _announce(fake: FakeTelegram, chat_id: int, thread_id: int | None, **service: Any) -> dict[str, Any]:
    """Post a service message (``forum_topic_created``…) from the bot in the topic and deliver it as an update."""
    fields = {"message_thread_id": thread_id, "is_topic_message": True} if thread_id else {}
    obj = fake.new_message(chat_id, fake.bot_user, **service, **fields)
    if thread_id is None:  # the topic's id is its creation message's id
        obj["message_thread_id"], obj["is_topic_message"] = obj["message_id"], True
    fake.inject_update("message", obj)
    return obj


@method("createForumTopic")
async def create_forum_topic(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> Any:
    chat_id = p.integer(params, "chat_id")
    topics = _forum(fake, chat_id)
    name = str(params.get("name") or "")
    if not name:
        raise p.BadRequest('parameter "name" is required')
    color = int(params.get("icon_color") or ICON_COLORS[0])
    topic: dict[str, Any] = {"name": name, "icon_color": color}
    if params.get("icon_custom_emoji_id"):
        topic["icon_custom_emoji_id"] = str(params["icon_custom_emoji_id"])
    created = _announce(fake, chat_id, None, forum_topic_created=dict(topic))
    thread_id = int(created["message_thread_id"])
    topics[thread_id] = topic | {"closed": False}
    return {"message_thread_id": thread_id, **topic}


@method("editForumTopic")
async def edit_forum_topic(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> bool:
    chat_id, thread_id, topic = _topic(fake, params)
    changed = {k: str(params[k]) for k in ("name", "icon_custom_emoji_id") if params.get(k) is not None}
    if not changed or all(topic.get(k) == v for k, v in changed.items()):
        raise p.BadRequest("TOPIC_NOT_MODIFIED")
    topic.update(changed)
    _announce(fake, chat_id, thread_id, forum_topic_edited=changed)
    return True


@method("closeForumTopic")
async def close_forum_topic(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> bool:
    return _set_closed(fake, params, closing=True)


@method("reopenForumTopic")
async def reopen_forum_topic(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> bool:
    return _set_closed(fake, params, closing=False)


def _set_closed(fake: FakeTelegram, params: dict[str, Any], *, closing: bool) -> bool:
    chat_id, thread_id, topic = _topic(fake, params)
    if topic["closed"] == closing:
        raise p.BadRequest("TOPIC_NOT_MODIFIED")
    topic["closed"] = closing
    _announce(fake, chat_id, thread_id, **({"forum_topic_closed": {}} if closing else {"forum_topic_reopened": {}}))
    return True


@method("deleteForumTopic")
async def delete_forum_topic(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> bool:
    chat_id, thread_id, _ = _topic(fake, params)
    del fake.forums[chat_id][thread_id]
    return True
