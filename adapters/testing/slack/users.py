"""A workspace member who talks to the bot: DMs, @mentions (in threads), slash commands, button presses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from adapters.testing.slack.records import Delivery, SentMessage

if TYPE_CHECKING:
    from adapters.testing.slack.server import FakeSlack


class FakeSlackUser:
    """Acts as ``user_id``; every call posts a signed request to the app and returns its ``Delivery``."""

    def __init__(self, fake: FakeSlack, user_id: str) -> None:
        self.fake = fake
        self.user_id = user_id

    @property
    def dm_channel(self) -> str:
        """The id of this user's DM with the bot (``D`` + the user id's digits)."""
        return "D" + self.user_id[1:]

    def message(
        self,
        text: str,
        *,
        channel: str,
        channel_type: str,
        thread_ts: str | None = None,
        files: Sequence[dict[str, Any]] = (),
        event_type: str = "message",
        mention: bool = False,
    ) -> dict[str, Any]:
        """A message event from this user, ``text`` escaped as Slack escapes what people type (``&``, ``<``, ``>``),
        after ``<@bot>`` when ``mention``; stored in the fake's history, so ``conversations.replies`` sees it."""
        ts = self.fake.next_ts()
        typed = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        if mention:
            typed = f"<@{self.fake.bot_user_id}> {typed}".rstrip()
        event: dict[str, Any] = {
            "type": event_type,
            "user": self.user_id,
            "text": typed,
            "ts": ts,
            "channel": channel,
            "event_ts": ts,
            "team": self.fake.team_id,
        }
        if event_type == "message":
            event["channel_type"] = channel_type
        if thread_ts:
            event["thread_ts"] = thread_ts
        if files:
            event["files"], event["upload"] = list(files), False
            if event_type == "message":
                event["subtype"] = "file_share"
        self.fake.history.append({k: v for k, v in event.items() if k != "event_ts"})
        return event

    async def says(
        self, text: str, *, thread_ts: str | None = None, files: Sequence[dict[str, Any]] = (), **options: Any
    ) -> Delivery:
        """A DM to the bot (``message`` with ``channel_type: im``); ``options`` go to ``post_event``."""
        event = self.message(text, channel=self.dm_channel, channel_type="im", thread_ts=thread_ts, files=files)
        return await self.fake.post_event(event, **options)

    async def mentions(
        self,
        channel: str,
        text: str,
        *,
        thread_ts: str | None = None,
        files: Sequence[dict[str, Any]] = (),
        **options: Any,
    ) -> Delivery:
        """``<@bot> text`` in ``channel`` (an ``app_mention`` event), in the thread ``thread_ts`` when given."""
        event = self.message(
            text,
            channel=channel,
            channel_type="channel",
            thread_ts=thread_ts,
            files=files,
            event_type="app_mention",
            mention=True,
        )
        return await self.fake.post_event(event, **options)

    async def says_in_channel(
        self, channel: str, text: str, *, thread_ts: str | None = None, **options: Any
    ) -> Delivery:
        """A channel message that does not mention the bot (``message`` with ``channel_type: channel``)."""
        event = self.message(text, channel=channel, channel_type="channel", thread_ts=thread_ts)
        return await self.fake.post_event(event, **options)

    async def slash(self, text: str, *, channel: str = "C0GENERAL", command: str = "/kefu", **options: Any) -> Delivery:
        """``/kefu text`` typed in ``channel``."""
        return await self.fake.slash_command(self.user_id, text, channel=channel, command=command, **options)

    async def presses(self, message: SentMessage, label: str, **options: Any) -> Delivery:
        """Press the button labelled ``label`` on ``message`` (a ``block_actions`` payload, as Slack builds it)."""
        matching = [b for b in message.buttons if b[0] == label]
        if not matching:
            raise LookupError(f"no button {label!r} on the message; it has {[b[0] for b in message.buttons]}")
        label, action_id, value = matching[0]
        block_id = next(
            b.get("block_id", "")
            for b in message.blocks
            if b.get("type") == "actions" and any(e.get("action_id") == action_id for e in b.get("elements", []))
        )
        fake = self.fake
        container: dict[str, Any] = {
            "type": "message",
            "message_ts": message.ts,
            "channel_id": message.channel,
            "is_ephemeral": message.ephemeral_to is not None,
        }
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": self.user_id, "username": self.user_id.lower(), "team_id": fake.team_id},
            "api_app_id": fake.api_app_id,
            "token": "unused-verification-token",
            "container": container,
            "trigger_id": fake.new_trigger_id(),
            "team": {"id": fake.team_id, "domain": "kefu-test"},
            "channel": {"id": message.channel, "name": message.channel.lower()},
            "response_url": fake.new_response_url(message.channel, self.user_id),
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": block_id,
                    "value": value,
                    "type": "button",
                    "text": {"type": "plain_text", "text": label},
                    "action_ts": fake.next_ts(),
                }
            ],
        }
        if message.ephemeral_to is None:
            shown = {
                "type": "message",
                "user": fake.bot_user_id,
                "bot_id": fake.bot_id,
                "ts": message.ts,
                "text": message.text,
                "blocks": message.blocks,
            }
            if message.thread_ts:
                shown["thread_ts"] = container["thread_ts"] = message.thread_ts
            payload["message"] = shown
        return await fake.block_action(payload, **options)

    async def submits(self, view: Mapping[str, Any], values: Mapping[str, str], **options: Any) -> Delivery:
        """Submit the modal ``view`` (one the bot opened, see ``fake.views``) with ``values`` typed into its plain
        text inputs, by ``action_id`` (a ``view_submission`` payload, as Slack builds it)."""
        fake = self.fake
        state: dict[str, dict[str, Any]] = {}
        for block in view.get("blocks", []):
            element = block.get("element") or {}
            if block.get("type") == "input" and element.get("action_id") in values:
                state[block.get("block_id", "")] = {
                    element["action_id"]: {
                        "type": element.get("type", "plain_text_input"),
                        "value": values[element["action_id"]],
                    }
                }
        missing = set(values) - {a for block in state.values() for a in block}
        if missing:
            raise LookupError(f"the view has no input {sorted(missing)}")
        payload: dict[str, Any] = {
            "type": "view_submission",
            "team": {"id": fake.team_id, "domain": "kefu-test"},
            "user": {"id": self.user_id, "username": self.user_id.lower(), "team_id": fake.team_id},
            "api_app_id": fake.api_app_id,
            "token": "unused-verification-token",
            "trigger_id": fake.new_trigger_id(),
            "view": {
                **view,
                "id": view.get("id", "V00000000"),
                "team_id": fake.team_id,
                "state": {"values": state},
                "hash": "fake-hash",
            },
        }
        return await fake.block_action(payload, **options)
