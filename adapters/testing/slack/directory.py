"""The workspace around the bot in the fake Slack: members (``users.info``), conversations (``conversations.open``,
``.info``, ``.history``), reactions and deleting messages, with Slack's error codes."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from adapters.testing.slack.methods import SlackError
from adapters.testing.slack.records import SentMessage

_CHANNEL_ID = re.compile(r"^[CDG][A-Z0-9]+$")
_EMOJI_NAME = re.compile(r"^[a-z0-9_+\-']+$")


class DirectoryMixin:
    """``users.info``, ``conversations.open/info/history``, ``reactions.add/remove`` and ``chat.delete``."""

    team_id: str
    bot_user_id: str
    bot_id: str
    history: list[dict[str, Any]]
    messages: list[SentMessage]
    handlers: dict[str, Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]]

    def __init__(self) -> None:
        self.members: dict[str, dict[str, Any]] = {}
        """Workspace members by id, as ``users.info`` returns them (``fake.user(id, real_name=…)`` adds one)."""
        self.channel_names: dict[str, str] = {}
        """Names of channels (``C…``) for ``conversations.info``; an unnamed one is called by its id, lowercased."""
        self.reactions: dict[tuple[str, str], list[str]] = {}
        """The bot's reactions on each message, by ``(channel, ts)``."""
        self.deleted: list[SentMessage] = []
        """The bot's messages deleted (``chat.delete``, ``delete_original``)."""
        self.add_member(self.bot_user_id, name="kefu", real_name="Kefu", is_bot=True)
        self.handlers.update(
            {
                "users.info": self._users_info,
                "conversations.open": self._conversations_open,
                "conversations.info": self._conversations_info,
                "conversations.history": self._conversations_history,
                "reactions.add": self._reactions_add,
                "reactions.remove": self._reactions_remove,
                "chat.delete": self._chat_delete,
            }
        )

    def add_member(
        self, user_id: str, *, name: str | None = None, real_name: str | None = None, is_bot: bool = False
    ) -> dict[str, Any]:
        """Make ``user_id`` a workspace member (kept if already one); its ``users.info`` object."""
        if user_id in self.members:
            return self.members[user_id]
        handle = name or user_id.lower()
        shown = real_name or handle
        self.members[user_id] = {
            "id": user_id,
            "team_id": self.team_id,
            "name": handle,
            "real_name": shown,
            "deleted": False,
            "is_bot": is_bot,
            "is_admin": False,
            "tz": "Europe/Lisbon",
            "profile": {"real_name": shown, "display_name": handle, "first_name": shown.split(" ")[0]},
        }
        return self.members[user_id]

    def forget_message(self, channel: str, ts: str) -> None:
        """Delete the bot's message ``ts`` in ``channel`` as users see it (gone from history and ``messages``)."""
        self.history[:] = [m for m in self.history if not (m["channel"] == channel and m["ts"] == ts)]
        for sent in [m for m in self.messages if m.channel == channel and m.ts == ts]:
            self.messages.remove(sent)
            self.deleted.append(sent)

    async def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        member = self.members.get(params.get("user") or "")
        if member is None:
            raise SlackError("user_not_found")
        return {"user": member}

    async def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if not users:
            raise SlackError("users_list_not_supplied")
        if any(u not in self.members for u in users):
            raise SlackError("user_not_found")
        if len(users) > 1:
            raise SlackError("invalid_arguments")  # group DMs are not modelled
        channel = {"id": "D" + users[0][1:]}
        if params.get("return_im") in (True, "true", "1"):
            channel = self._channel(channel["id"])
        return {"channel": channel, "no_op": True, "already_open": True}

    async def _conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"channel": self._channel(str(params.get("channel") or ""))}

    async def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(str(params.get("channel") or ""))["id"]
        top = [m for m in self.history if m["channel"] == channel and m.get("thread_ts") in (None, m["ts"])]
        limit = int(params.get("limit") or 100)
        newest_first = [{k: v for k, v in m.items() if k != "channel"} for m in reversed(top)]
        return {"messages": newest_first[:limit], "has_more": len(newest_first) > limit}

    async def _reactions_add(self, params: dict[str, Any]) -> dict[str, Any]:
        names = self._reactions_of(params)
        if params["name"] in names:
            raise SlackError("already_reacted")
        names.append(params["name"])
        return {}

    async def _reactions_remove(self, params: dict[str, Any]) -> dict[str, Any]:
        names = self._reactions_of(params)
        if params["name"] not in names:
            raise SlackError("no_reaction")
        names.remove(params["name"])
        return {}

    async def _chat_delete(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = self._channel(str(params.get("channel") or ""))["id"], str(params.get("ts") or "")
        stored = self._stored(channel, ts)
        if stored.get("user") != self.bot_user_id:
            raise SlackError("cant_delete_message")
        self.forget_message(channel, ts)
        return {"channel": channel, "ts": ts}

    def _reactions_of(self, params: dict[str, Any]) -> list[str]:
        channel, ts = params.get("channel"), params.get("timestamp")
        if not channel or not ts:
            raise SlackError("no_item_specified")
        name = str(params.get("name") or "")
        if not _EMOJI_NAME.match(name):
            raise SlackError("invalid_name")
        params["name"] = name
        self._stored(self._channel(str(channel))["id"], str(ts))
        return self.reactions.setdefault((str(channel), str(ts)), [])

    def _stored(self, channel: str, ts: str) -> dict[str, Any]:
        for message in self.history:
            if message["channel"] == channel and message["ts"] == ts:
                return message
        raise SlackError("message_not_found")

    def _channel(self, channel: str) -> dict[str, Any]:
        """``conversations.info``'s object for ``channel``; ``channel_not_found`` for what is not a channel id."""
        if not _CHANNEL_ID.match(channel):
            raise SlackError("channel_not_found")
        kind = channel[0]
        info: dict[str, Any] = {
            "id": channel,
            "is_channel": kind == "C",
            "is_group": kind == "G",
            "is_im": kind == "D",
            "is_private": kind != "C",
            "is_archived": False,
        }
        if kind == "D":
            info["user"] = "U" + channel[1:]
        else:
            info["name"] = self.channel_names.get(channel, channel.lower())
        return info
