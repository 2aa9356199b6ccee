"""``MemoryInbox``: the inbox for one process without a store (tests, ``kefu ask``, benchmarks); lost on exit."""

from __future__ import annotations

import itertools
import time

from bot.inbox.base import Outgoing, message_key
from bot.inbox.codec import Refetch, numbered
from bot.messages import ConversationRef, Message, Reply
from bot.recent import RecentKeys


class MemoryInbox:
    """``Inbox`` in memory: remembers the last ``remember_ids`` message identities for de-duplication."""

    def __init__(self, *, remember_ids: int = 10_000) -> None:
        self._seen = RecentKeys[str](remember_ids)
        self._pending: dict[int, Message] = {}
        self._outbox: dict[int, tuple[Outgoing, float]] = {}
        self._keys = RecentKeys[str](remember_ids)
        self._numbers = itertools.count(1)

    async def accept(self, message: Message) -> int | None:
        key = message_key(message)
        if key is not None and not self._seen.add(key):
            return None
        seq = next(self._numbers)
        self._pending[seq] = message
        return seq

    async def pending(self, *, refetch: Refetch) -> list[tuple[int, Message]]:
        return sorted(self._pending.items())

    async def complete(self, seq: int, conversation: ConversationRef, reply: Reply | None) -> None:
        self._pending.pop(seq, None)
        if reply is not None:
            self._queue(conversation, reply)

    async def post(self, conversation: ConversationRef, reply: Reply, *, key: str | None = None) -> bool:
        if key is not None and not self._keys.add(key):
            return False
        self._queue(conversation, reply)
        return True

    async def next_due(self, conversation: ConversationRef, *, now: float) -> Outgoing | None:
        for outgoing, due_at in self._outbox.values():
            if outgoing.conversation == conversation:
                return outgoing if due_at <= now else None
        return None

    async def due_conversations(self, *, now: float) -> list[ConversationRef]:
        heads: dict[ConversationRef, float] = {}
        for outgoing, due_at in self._outbox.values():
            heads.setdefault(outgoing.conversation, due_at)
        return [conversation for conversation, due_at in heads.items() if due_at <= now]

    async def delivered(self, outgoing_id: int) -> None:
        self._outbox.pop(outgoing_id, None)

    async def retry(self, outgoing_id: int, *, at: float, failed: bool) -> None:
        outgoing, _ = self._outbox[outgoing_id]
        attempts = outgoing.attempts + (1 if failed else 0)
        self._outbox[outgoing_id] = (
            Outgoing(outgoing.id, outgoing.conversation, outgoing.reply, attempts, outgoing.created_at),
            at,
        )

    async def give_up(self, outgoing_id: int) -> None:
        self._outbox.pop(outgoing_id, None)

    async def prune(self, *, now: float) -> int:
        return 0

    async def close(self) -> None:
        """Nothing to release."""

    def _queue(self, conversation: ConversationRef, reply: Reply) -> None:
        now = time.time()
        outgoing_id = next(self._numbers)
        self._outbox[outgoing_id] = (Outgoing(outgoing_id, conversation, numbered(reply), 0, now), now)
