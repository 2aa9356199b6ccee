"""A workspace member who talks to the bot: DMs, @mentions (in threads), slash commands (button presses, modals,
shortcuts, reactions and the home tab: ``interactions``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from adapters.testing.slack.interactions import InteractionsMixin
from adapters.testing.slack.records import Delivery

if TYPE_CHECKING:
    from adapters.testing.slack.server import FakeSlack


class FakeSlackUser(InteractionsMixin):
    """Acts as ``user_id``; every call posts a signed request to the app and returns its ``Delivery``."""

    def __init__(self, fake: FakeSlack, user_id: str) -> None:
        self.fake = fake
        self.user_id = user_id

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
