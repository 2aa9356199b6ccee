"""The durable inbox and reply outbox: what the runtime accepted, what it answered, what is still to send.

    seq = await inbox.accept(message)             # None: the same platform message was accepted before
    ...                                           # the turn runs
    await inbox.complete(seq, conversation, reply)  # done + reply queued, in one transaction
    outgoing = await inbox.next_due(conversation, now=time.time())
    await adapter.send(outgoing.conversation, outgoing.reply)
    await inbox.delivered(outgoing.id)

A message is acknowledged to its platform only after ``accept`` returned, so a crash after that point
leaves it ``pending`` for the next start; a reply leaves the outbox only once its channel took it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.inbox.codec import Refetch
from bot.messages import ConversationRef, Message, Reply


def message_key(message: Message) -> str | None:
    """The platform's identity of ``message`` within its conversation, or None when it has none (never deduplicated).

    Platforms number messages per chat (Telegram) or per client (the web chat), so the conversation is part of
    the identity: two shoppers' message 9001 are two messages.
    """
    if not message.message_id:
        return None
    conversation = message.conversation
    return f"{conversation.channel}\x1f{conversation.conversation_id}\x1f{message.message_id}"


def member(conversation: ConversationRef) -> str:
    """The conversation as one string (``channel`` and id joined by U+001F): its name in keys and notices."""
    return f"{conversation.channel}\x1f{conversation.conversation_id}"


STORE_CALL_S = 30.0
"""The longest a loop that retries (the courier's sweep, recording an answer) waits on one inbox call: a Redis call was
seen once to hang after a server restart, and a hung call must become a retry, not a stuck loop."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A reply waiting in the outbox."""

    id: int
    conversation: ConversationRef
    reply: Reply
    attempts: int
    """Failed deliveries so far (a deferral is not a failure)."""
    created_at: float


class Inbox(Protocol):
    """Keeps inbound messages from acceptance to answer, and replies until their channel took them."""

    async def accept(self, message: Message) -> int | None:
        """Keep ``message`` (durably, before the platform is acknowledged); its sequence number, or None for a
        message whose platform identity was accepted before (a redelivery)."""
        ...

    async def pending(self, *, refetch: Refetch) -> list[tuple[int, Message]]:
        """Messages accepted but not yet answered (after a crash), oldest first."""
        ...

    async def complete(self, seq: int, conversation: ConversationRef, reply: Reply | None) -> None:
        """Mark message ``seq`` answered and queue ``reply`` (None: nothing to send), in one transaction."""
        ...

    async def post(self, conversation: ConversationRef, reply: Reply, *, key: str | None = None) -> bool:
        """Queue a reply outside a turn (an operator's words); False when ``key`` was posted before."""
        ...

    async def next_due(self, conversation: ConversationRef, *, now: float) -> Outgoing | None:
        """The conversation's oldest unsent reply when it is due now (None when none, or when it must wait)."""
        ...

    async def due_conversations(self, *, now: float) -> list[ConversationRef]:
        """Conversations whose oldest unsent reply is due (for the courier's sweep)."""
        ...

    async def delivered(self, outgoing_id: int) -> None:
        """The channel took the reply: it leaves the outbox."""
        ...

    async def retry(self, outgoing_id: int, *, at: float, failed: bool) -> None:
        """Try the reply again at ``at``; ``failed`` counts an attempt (a deferral does not)."""
        ...

    async def give_up(self, outgoing_id: int) -> None:
        """Drop a reply that could not be delivered (the caller has logged why)."""
        ...

    async def prune(self, *, now: float) -> int:
        """Forget answered messages older than the de-duplication window; how many."""
        ...

    async def close(self) -> None:
        """Release the inbox's connection (what it keeps stays kept)."""
        ...
