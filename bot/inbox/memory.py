"""``MemoryInbox``: the inbox for one process without a store (tests, ``kefu ask``, benchmarks); lost on exit."""

from __future__ import annotations

import itertools
import time
from collections import OrderedDict

from bot.inbox.base import Outgoing, message_key
from bot.inbox.codec import Refetch, numbered
from bot.messages import ConversationRef, Message, Reply


class MemoryInbox:
    """``Inbox`` in memory: remembers the last ``remember_ids`` message identities for de-duplication."""

    def __init__(self, *, remember_ids: int = 10_000) -> None:
        self._remember_ids = remember_ids
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._pending: dict[int, Message] = {}
        self._outbox: dict[int, tuple[Outgoing, float]] = {}
        self._keys: OrderedDict[str, None] = OrderedDict()
        self._numbers = itertools.count(1)

    async def accept(self, message: Message) -> int | None:
        key = message_key(message)
        if key is not None:
            if key in self._seen:
                return None
            _remember(self._seen, key, self._remember_ids)
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
        if key is not None:
            if key in self._keys:
                return False
            _remember(self._keys, key, self._remember_ids)
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
        self._outbox[outgoing_id] = (Outgoing(outgoing.id, outgoing.conversation, outgoing.reply, attempts,
                                              outgoing.created_at), at)

    async def give_up(self, outgoing_id: int) -> None:
        self._outbox.pop(outgoing_id, None)

    async def prune(self, *, now: float) -> int:
        return 0

    def _queue(self, conversation: ConversationRef, reply: Reply) -> None:
        now = time.time()
        outgoing_id = next(self._numbers)
        self._outbox[outgoing_id] = (Outgoing(outgoing_id, conversation, numbered(reply), 0, now), now)


def _remember(keys: OrderedDict[str, None], key: str, capacity: int) -> None:
    keys[key] = None
    if len(keys) > capacity:
        keys.popitem(last=False)
