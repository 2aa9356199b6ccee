"""Chats and their members: getChat, getChatMember, ban/unban, restrict, pins and reactions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from adapters.testing.telegram import payloads as p
from adapters.testing.telegram.methods.registry import method

if TYPE_CHECKING:
    from adapters.testing.telegram.server import FakeTelegram

_STATUSES = frozenset({"creator", "administrator", "member", "restricted", "left", "kicked"})
PERMISSIONS = (
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_react_to_messages",
    "can_edit_tag",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
)
"""ChatPermissions' fields; a restricted member's getChatMember lists each."""


def member_status(fake: FakeTelegram, chat_id: int, user_id: int) -> str:
    """A user's status: set by ``joins``/``leaves``/``set_member``; in a private chat its own user is a member."""
    known = fake.members.get(chat_id, {}).get(user_id)
    if known is not None:
        return known
    return "member" if chat_id == user_id or user_id == fake.bot_user["id"] else "left"


@method("getChat")
async def get_chat(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> dict[str, Any]:
    chat_id = p.integer(params, "chat_id")
    gifts = dict.fromkeys(
        ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription", "gifts_from_channels"), False
    )
    return fake.chat(chat_id) | {"accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}


@method("getChatMember")
async def get_chat_member(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> dict[str, Any]:
    chat_id, user_id = p.integer(params, "chat_id"), p.integer(params, "user_id")
    status = member_status(fake, chat_id, user_id)
    user = fake.bot_user if user_id == fake.bot_user["id"] else fake.users.get(user_id, p.user(user_id))
    member: dict[str, Any] = {"status": status, "user": user}
    if status == "kicked":
        member["until_date"] = 0
    if status == "administrator":
        member |= {
            "can_be_edited": False,
            "is_anonymous": False,
            "can_manage_chat": True,
            "can_delete_messages": True,
            "can_manage_video_chats": True,
            "can_restrict_members": True,
            "can_promote_members": False,
            "can_change_info": True,
            "can_invite_users": True,
            "can_post_stories": False,
            "can_edit_stories": False,
            "can_delete_stories": False,
            "can_send_welcome_messages": False,
        }
    if status == "creator":
        member["is_anonymous"] = False
    if status == "restricted":
        allowed = fake.permissions.get((chat_id, user_id), {})
        member |= {"is_member": True, "until_date": 0} | {name: bool(allowed.get(name)) for name in PERMISSIONS}
    return member


@method("restrictChatMember")
async def restrict_chat_member(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> bool:
    """Set a member's permissions: all ``can_send_*`` granted makes them a plain member again, as in Telegram."""
    chat_id, user_id = p.integer(params, "chat_id"), p.integer(params, "user_id")
    if chat_id > 0:
        raise p.BadRequest("method is available only for supergroups")
    permissions = params.get("permissions")
    if not isinstance(permissions, dict):
        raise p.BadRequest("can't parse permissions JSON object")
    granted = {name: bool(permissions.get(name)) for name in PERMISSIONS}
    fake.permissions[(chat_id, user_id)] = granted
    everything = all(granted[name] for name in PERMISSIONS if name.startswith("can_send"))
    if member_status(fake, chat_id, user_id) not in ("creator", "administrator", "left", "kicked"):
        fake.set_member(chat_id, user_id, "member" if everything else "restricted")
    return True


@method("banChatMember")
async def ban_chat_member(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> bool:
    chat_id, user_id = p.integer(params, "chat_id"), p.integer(params, "user_id")
    if chat_id > 0:
        raise p.BadRequest("method is available for supergroup and channel chats only")
    fake.members.setdefault(chat_id, {})[user_id] = "kicked"
    return True


@method("unbanChatMember")
async def unban_chat_member(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> bool:
    chat_id, user_id = p.integer(params, "chat_id"), p.integer(params, "user_id")
    if fake.members.get(chat_id, {}).get(user_id) == "kicked":
        fake.members[chat_id][user_id] = "left"
    return True


@method("pinChatMessage")
async def pin_chat_message(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> bool:
    chat_id, message_id = p.integer(params, "chat_id"), p.integer(params, "message_id")
    fake.message(chat_id, message_id)
    pinned = fake.pinned.setdefault(chat_id, [])
    if message_id not in pinned:
        pinned.append(message_id)
    return True


@method("unpinChatMessage")
async def unpin_chat_message(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> bool:
    chat_id = p.integer(params, "chat_id")
    pinned = fake.pinned.get(chat_id, [])
    if not pinned:
        raise p.BadRequest("message to unpin not found")
    target = p.integer(params, "message_id") if params.get("message_id") is not None else pinned[-1]
    if target not in pinned:
        raise p.BadRequest("message to unpin not found")
    pinned.remove(target)
    return True


@method("setMessageReaction")
async def set_message_reaction(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> bool:
    chat_id, message_id = p.integer(params, "chat_id"), p.integer(params, "message_id")
    fake.message(chat_id, message_id)
    reaction = params.get("reaction") or []
    if not isinstance(reaction, list) or not all(isinstance(r, dict) and r.get("type") for r in reaction):
        raise p.BadRequest("REACTION_INVALID")
    fake.reactions[(chat_id, message_id)] = [str(r.get("emoji", r.get("custom_emoji_id", ""))) for r in reaction]
    return True


def _settle_request(fake: FakeTelegram, params: dict[str, Any], status: str) -> bool:
    chat_id, user_id = p.integer(params, "chat_id"), p.integer(params, "user_id")
    if (chat_id, user_id) not in fake.join_requests:
        raise p.BadRequest("HIDE_REQUESTER_MISSING")
    fake.join_requests.discard((chat_id, user_id))
    fake.set_member(chat_id, user_id, status)
    return True


@method("approveChatJoinRequest")
async def approve_join_request(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> bool:
    return _settle_request(fake, params, "member")


@method("declineChatJoinRequest")
async def decline_join_request(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> bool:
    return _settle_request(fake, params, "left")
