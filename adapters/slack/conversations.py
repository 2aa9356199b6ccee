"""Where a Slack conversation lives, as the ``conversation_id`` of a ``ConversationRef`` (a plain string, so that
the durable inbox keeps it and a reply after a restart still finds its thread).

    "D0123"                      a DM with the bot, answered in the DM
    "C0123:1700000000.000100"    a thread of a channel (or of a DM), answered in that thread
    "C0123:@U0456"               a slash command's asker in C0123, answered privately (ephemeral)
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.messages import ConversationRef

CHANNEL = "slack"


@dataclass(frozen=True, slots=True)
class Place:
    """A Slack channel plus the thread root to answer in, or the one user who sees the answer."""

    channel: str
    thread_ts: str | None = None
    user: str | None = None

    @property
    def conversation_id(self) -> str:
        if self.user:
            return f"{self.channel}:@{self.user}"
        return f"{self.channel}:{self.thread_ts}" if self.thread_ts else self.channel

    def ref(self) -> ConversationRef:
        return ConversationRef(CHANNEL, self.conversation_id)

    @classmethod
    def parse(cls, conversation: ConversationRef) -> Place:
        """The place ``conversation`` names; ``ValueError`` for another channel's or a malformed id."""
        if conversation.channel != CHANNEL:
            raise ValueError(f"{conversation} is not a Slack conversation")
        channel, _, rest = conversation.conversation_id.partition(":")
        if not channel or (rest.startswith("@") and len(rest) == 1):
            raise ValueError(f"{conversation} does not name a Slack channel")
        if rest.startswith("@"):
            return cls(channel, user=rest[1:])
        return cls(channel, thread_ts=rest or None)

    @classmethod
    def of_message(cls, channel: str, *, ts: str, thread_ts: str | None) -> Place:
        """Where a message at ``ts`` is answered: a DM in the DM (or its thread), anything else in its thread."""
        if channel.startswith("D") and not thread_ts:
            return cls(channel)
        return cls(channel, thread_ts=thread_ts or ts)
