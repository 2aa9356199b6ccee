"""The Web API methods the fake implements, with Slack's checks, and its records of files, threads and views."""

from __future__ import annotations

import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Any

from adapters.testing.slack.blocks import MAX_TEXT_CHARS, InvalidBlocks, check_blocks
from adapters.testing.slack.records import SentMessage

Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


class SlackError(Exception):
    """An ``ok: false`` answer with Slack's error code (HTTP 200, as Slack answers them)."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class MethodsMixin:
    """auth.test, chat.postMessage/update/postEphemeral, conversations.replies, files.info, usergroups.users.list
    and apps.connections.open (the Socket Mode URL)."""

    base_url: str
    root_url: str
    team_id: str
    bot_user_id: str
    bot_id: str

    def __init__(self) -> None:
        self.messages: list[SentMessage] = []
        """Every message the bot posted, in order (ephemeral ones and ``response_url`` answers included)."""
        self.history: list[dict[str, Any]] = []
        """Every message in the workspace as Slack stores it (users' and the bot's), for ``conversations.replies``."""
        self.files: dict[str, dict[str, Any]] = {}
        self.file_bytes: dict[str, bytes] = {}
        self.served: dict[str, int] = {}
        """Bytes of each file actually sent, by file id (a client that stops early gets fewer)."""
        self.usergroups: dict[str, list[str]] = {}
        """User groups (``S…``) and their members, for ``usergroups.users.list``."""
        self._clock = itertools.count(1)
        self.handlers: dict[str, Handler] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "conversations.replies": self._replies,
            "files.info": self._files_info,
            "usergroups.users.list": self._usergroup_users,
            "apps.connections.open": self._connections_open,
        }

    def next_ts(self) -> str:
        """A new message ts, increasing like Slack's (``<seconds>.<micros>``)."""
        n = next(self._clock)
        return f"{int(time.time()) + n}.{n:06d}"

    def add_file(
        self, data: bytes, *, name: str, mimetype: str, subtype: str | None = None, announce_size: bool = True
    ) -> dict[str, Any]:
        """Store ``data`` as a Slack file and return its object (for ``files=[...]`` on a user's message);
        ``subtype="slack_audio"`` makes it an audio clip recorded in Slack."""
        file_id = f"F{len(self.files) + 1:08d}"
        url = f"{self.root_url}files-pri/{self.team_id}-{file_id}/{name}"
        info: dict[str, Any] = {
            "id": file_id,
            "name": name,
            "title": name,
            "mimetype": mimetype,
            "filetype": name.rsplit(".", 1)[-1] if "." in name else "binary",
            "url_private": url,
            "url_private_download": f"{url}?download=1",
            "mode": "hosted",
        }
        if announce_size:
            info["size"] = len(data)
        if subtype:
            info["subtype"] = subtype
        self.files[file_id] = info
        self.file_bytes[file_id] = data
        self.served[file_id] = 0
        return info

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """The root message and its replies, oldest first."""
        return [
            m
            for m in self.history
            if m["channel"] == channel and (m["ts"] == thread_ts or m.get("thread_ts") == thread_ts)
        ]

    def record_message(self, sent: SentMessage, *, metadata: dict[str, Any] | None = None) -> None:
        self.messages.append(sent)
        if sent.ephemeral_to is None:
            stored: dict[str, Any] = {
                "type": "message",
                "channel": sent.channel,
                "ts": sent.ts,
                "text": sent.text,
                "blocks": sent.blocks,
                "user": self.bot_user_id,
                "bot_id": self.bot_id,
            }
            if metadata:
                stored["metadata"] = metadata
            if sent.thread_ts:
                stored["thread_ts"] = sent.thread_ts
            self.history.append(stored)

    def _content(self, params: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        text, blocks = params.get("text") or "", params.get("blocks") or []
        if not text and not blocks:
            raise SlackError("no_text")
        if len(text) > MAX_TEXT_CHARS:
            raise SlackError("msg_too_long")
        try:
            check_blocks(blocks)
        except InvalidBlocks as error:
            raise SlackError("invalid_blocks") from error
        return text, blocks

    async def _auth_test(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": self.root_url,
            "team": "Kefu Test",
            "user": "kefu",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    async def _post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = _required(params, "channel")
        text, blocks = self._content(params)
        thread_ts = params.get("thread_ts") or None
        sent = SentMessage(channel, self.next_ts(), text, blocks, thread_ts=thread_ts)
        metadata = params.get("metadata")
        self.record_message(sent, metadata=metadata if isinstance(metadata, dict) else None)
        message = {
            "type": "message",
            "text": text,
            "blocks": blocks,
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "ts": sent.ts,
        } | ({"thread_ts": thread_ts} if thread_ts else {})
        return {"channel": channel, "ts": sent.ts, "message": message}

    async def _post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, user = _required(params, "channel"), _required(params, "user")
        text, blocks = self._content(params)
        sent = SentMessage(
            channel,
            self.next_ts(),
            text,
            blocks,
            thread_ts=params.get("thread_ts") or None,
            ephemeral_to=user,
            via="chat.postEphemeral",
        )
        self.record_message(sent)
        return {"message_ts": sent.ts}

    async def _update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = _required(params, "channel"), _required(params, "ts")
        text, blocks = self._content(params)
        for sent in self.messages:
            if sent.channel == channel and sent.ts == ts and sent.ephemeral_to is None:
                sent.text, sent.blocks, sent.edits = text, blocks, sent.edits + 1
                for stored in self.history:
                    if stored["channel"] == channel and stored["ts"] == ts:
                        stored.update(text=text, blocks=blocks)
                return {"channel": channel, "ts": ts, "text": text}
        raise SlackError("message_not_found")

    async def _replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = _required(params, "channel"), _required(params, "ts")
        messages = self.thread(channel, ts)
        if not messages:
            raise SlackError("thread_not_found")
        if params.get("include_all_metadata") not in (True, "true", "1"):
            messages = [{k: v for k, v in m.items() if k != "metadata"} for m in messages]
        return {"messages": messages, "has_more": False}

    async def _files_info(self, params: dict[str, Any]) -> dict[str, Any]:
        info = self.files.get(_required(params, "file"))
        if info is None:
            raise SlackError("file_not_found")
        return {"file": info}

    async def _usergroup_users(self, params: dict[str, Any]) -> dict[str, Any]:
        members = self.usergroups.get(_required(params, "usergroup"))
        if members is None:
            raise SlackError("no_such_subteam")
        return {"users": list(members)}

    async def _connections_open(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"url": self.base_url.replace("http://", "ws://", 1).replace("/api/", "/socket", 1)}


def _required(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if not value or not isinstance(value, str):
        raise SlackError("invalid_arguments" if name != "channel" else "channel_not_found")
    return value
