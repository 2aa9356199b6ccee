"""The built-in hand-off desk on Redis: tickets and the operator-reply outbox shared by every worker.

Keys, under the connection's prefix: ``ticket:<id>`` (a hash), ``ticket:<id>:messages`` (a list of JSON lines),
``tickets:<state>`` (sorted sets of ids), ``tickets:user:<user_id>`` (for ``forget_user``), ``ticket:next`` (the id
counter); the outbox is ``desk:outbox`` (a sorted set of ids), ``desk:outbox:<id>`` (a hash) and ``desk:outbox:next``.
A Lua script claims outbox rows, so two workers never hand over the same operator reply; a claim older than
``stale_claim_s`` (its worker died) is taken again, and the runtime's inbox queues a row's reply once whatever the
number of tries (its ``key``), as with the SQLite desk.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from typing import Any

from bot.handoff.base import Deliver, HandoffError, Ticket, TicketMessage, TicketState
from bot.handoff.moves import OperatorMoves
from bot.handoff.redis_links import delete_links
from bot.messages import ConversationRef, Reply
from bot.pii import mask_pii
from bot.sessions.base import Turn
from bot.sessions.redis import RedisConnection, RedisSessionStore, text
from bot.sessions.sqlite import days_ago

log = logging.getLogger(__name__)

_CLAIM = """
local claimed = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local row = ARGV[3] .. id
  local at = redis.call('HGET', row, 'claimed_at')
  if redis.call('EXISTS', row) == 1 and ((not at) or at == '' or tonumber(at) < tonumber(ARGV[2])) then
    redis.call('HSET', row, 'claimed_at', ARGV[1])
    table.insert(claimed, id)
  end
end
return claimed
"""


class RedisDesk(OperatorMoves):
    """``HandoffDesk`` on Redis; keeps the sessions' hand-off state in step with its tickets (``set_handoff``)."""

    def __init__(
        self,
        connection: RedisConnection,
        sessions: RedisSessionStore,
        *,
        deliver: Deliver | None = None,
        stale_claim_s: float = 60.0,
        poll_s: float = 2.0,
    ) -> None:
        self.connection = connection
        self.redis: Any = connection.client  # redis-py's async stubs type every answer as a union
        self.sessions = sessions
        self.deliver = deliver
        """Where operator replies go; None in a process that only queues them (``kefu handoff reply``)."""
        self.stale_claim_s = stale_claim_s
        self.poll_s = poll_s
        self._claim = self.redis.register_script(_CLAIM)

    def _key(self, *parts: str | int) -> str:
        return self.connection.key(*parts)

    async def open(
        self, *, conversation: ConversationRef, user_id: str, reason: str, language: str, transcript: Sequence[Turn]
    ) -> Ticket:
        for ticket in await self.tickets():  # a conversation has at most one open ticket (a replayed turn)
            if ticket.conversation == conversation:
                log.info("ticket %d is already open for %s: not opening another", ticket.id, conversation)
                return ticket
        now = repr(time.time())
        ticket_id = int(await self.redis.incr(self._key("ticket", "next")))
        row = {
            "channel": conversation.channel,
            "conversation_id": conversation.conversation_id,
            "user_id": user_id,
            "state": TicketState.OPEN.value,
            "reason": reason,
            "language": language,
            "operator": "",
            "opened_at": now,
            "updated_at": now,
        }
        lines = [_line("shopper" if t.role == "user" else t.role, mask_pii(t.text), t.at) for t in transcript]
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._key("ticket", ticket_id), mapping=row)
            if lines:
                pipe.rpush(self._key("ticket", ticket_id, "messages"), *lines)
            pipe.zadd(self._key("tickets", TicketState.OPEN.value), {str(ticket_id): ticket_id})
            pipe.sadd(self._key("tickets", "user", user_id), str(ticket_id))
            await pipe.execute()
        log.info("opened ticket %d for %s: %s", ticket_id, conversation, reason)
        return await self.get(ticket_id)

    async def get(self, ticket_id: int) -> Ticket:
        row = await self.redis.hgetall(self._key("ticket", ticket_id))
        if not row:
            raise HandoffError(f"ticket {ticket_id} not found")
        return _ticket(ticket_id, row)

    async def tickets(self, *, states: Sequence[TicketState] = (TicketState.OPEN, TicketState.TAKEN)) -> list[Ticket]:
        """Tickets in ``states``, oldest first."""
        ids: set[int] = set()
        for state in states:
            ids.update(int(member) for member in await self.redis.zrange(self._key("tickets", state.value), 0, -1))
        ordered = sorted(ids)
        async with self.redis.pipeline(transaction=False) as pipe:
            for ticket_id in ordered:
                pipe.hgetall(self._key("ticket", ticket_id))
            rows = await pipe.execute() if ordered else []
        return [_ticket(ticket_id, row) for ticket_id, row in zip(ordered, rows, strict=True) if row]

    async def messages(self, ticket_id: int) -> list[TicketMessage]:
        lines = await self.redis.lrange(self._key("ticket", ticket_id, "messages"), 0, -1)
        return [TicketMessage(*json.loads(line)) for line in lines]

    async def post(self, ticket_id: int, text: str, *, author: str = "shopper", key: str | None = None) -> None:
        if key is not None and not await self.redis.sadd(self._key("ticket", ticket_id, "keys"), key):
            return  # posted before (a turn run again after a crash)
        await self.redis.rpush(self._key("ticket", ticket_id, "messages"), _line(author, mask_pii(text), time.time()))

    async def _move(self, ticket_id: int, state: TicketState, operator: str) -> Ticket:
        ticket = await self.get(ticket_id)
        if ticket.state is TicketState.RESOLVED:
            raise HandoffError(f"ticket {ticket_id} is already resolved")
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                self._key("ticket", ticket_id),
                mapping={"state": state.value, "operator": operator, "updated_at": repr(time.time())},
            )
            for other in TicketState:
                pipe.zrem(self._key("tickets", other.value), str(ticket_id))
            pipe.zadd(self._key("tickets", state.value), {str(ticket_id): ticket_id})
            await pipe.execute()
        await self.sessions.set_handoff(str(ticket.conversation), state.handoff, ticket_id)
        log.info("ticket %d: %s by %s", ticket_id, state.value, operator)
        return await self.get(ticket_id)

    async def _queue(self, ticket: Ticket, text: str, *, author: str | None = None, key: str | None = None) -> None:
        """Queue ``text`` for the shopper: an operator's words (``author``) or the desk's notice (None)."""
        row_id = int(await self.redis.incr(self._key("desk", "outbox", "next")))
        row = {
            "ticket_id": str(ticket.id),
            "channel": ticket.conversation.channel,
            "conversation_id": ticket.conversation.conversation_id,
            "text": text,
            "language": ticket.language,
            "created_at": repr(time.time()),
            "claimed_at": "",
            "author": author or "",
            "key": key or "",
        }
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._key("desk", "outbox", row_id), mapping=row)
            pipe.zadd(self._key("desk", "outbox"), {str(row_id): row_id})
            await pipe.execute()
        if self.deliver is not None:
            await self.deliver_pending()

    async def deliver_pending(self) -> int:
        """Hand every queued operator message to ``deliver``, oldest first, each claimed first; how many."""
        if self.deliver is None:
            return 0
        now = time.time()
        claimed = await self._claim(
            keys=[self._key("desk", "outbox")],
            args=[repr(now), repr(now - self.stale_claim_s), self._key("desk", "outbox", "")],
        )
        for raw_id in claimed:
            row_id = int(raw_id)
            row = {
                text(k): text(v) or ""
                for k, v in (await self.redis.hgetall(self._key("desk", "outbox", row_id))).items()
            }
            if not row:
                continue
            reply = Reply(
                text=row["text"],
                language=row["language"],
                reason=f"operator message, ticket {row['ticket_id']}",
                author=row["author"] or None,
            )
            try:
                await self.deliver(
                    ConversationRef(row["channel"] or "", row["conversation_id"] or ""),
                    reply,
                    key=f"ticket-reply:{row['key']}" if row.get("key") else f"ticket-outbox:{row_id}",
                )
            except Exception:
                log.exception("could not queue an operator message of ticket %s", row["ticket_id"])
                continue
            await self._forget_rows([row_id])
        return len(claimed)

    async def forget_user(self, user_id: str) -> int:
        """Delete the tickets (messages and queued replies included) of ``user_id``; how many."""
        ids = [int(member) for member in await self.redis.smembers(self._key("tickets", "user", user_id))]
        deleted = await self._delete(ids)
        await self.redis.delete(self._key("tickets", "user", user_id))
        return deleted

    async def purge(self, *, older_than_days: float) -> int:
        """Delete resolved tickets last touched more than ``older_than_days`` ago."""
        cutoff = days_ago(older_than_days)
        old = [t for t in await self.tickets(states=(TicketState.RESOLVED,)) if t.updated_at < cutoff]
        for ticket in old:
            await self.redis.srem(self._key("tickets", "user", ticket.user_id), str(ticket.id))
        return await self._delete([ticket.id for ticket in old])

    async def _delete(self, ids: Sequence[int]) -> int:
        """Delete tickets ``ids`` with their messages and queued replies; how many existed."""
        if not ids:
            return 0
        async with self.redis.pipeline(transaction=True) as pipe:
            for ticket_id in ids:
                pipe.delete(self._key("ticket", ticket_id))
                pipe.delete(self._key("ticket", ticket_id, "messages"), self._key("ticket", ticket_id, "keys"))
                for state in TicketState:
                    pipe.zrem(self._key("tickets", state.value), str(ticket_id))
            answers = await pipe.execute()
        existed = sum(answers[0 :: 2 + len(TicketState)])
        await delete_links(self.connection, ids)
        doomed = {str(ticket_id) for ticket_id in ids}
        rows = [int(member) for member in await self.redis.zrange(self._key("desk", "outbox"), 0, -1)]
        async with self.redis.pipeline(transaction=False) as pipe:
            for row_id in rows:
                pipe.hget(self._key("desk", "outbox", row_id), "ticket_id")
            owners = await pipe.execute() if rows else []
        await self._forget_rows([row for row, owner in zip(rows, owners, strict=True) if text(owner) in doomed])
        return int(existed)

    async def _forget_rows(self, row_ids: Sequence[int]) -> None:
        if not row_ids:
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            for row_id in row_ids:
                pipe.delete(self._key("desk", "outbox", row_id))
                pipe.zrem(self._key("desk", "outbox"), str(row_id))
            await pipe.execute()


def _line(author: str, said: str, at: float) -> str:
    return json.dumps([author, said, at], ensure_ascii=False)


def _ticket(ticket_id: int, row: dict[bytes, bytes]) -> Ticket:
    fields = {text(key): text(value) or "" for key, value in row.items()}
    return Ticket(
        id=ticket_id,
        conversation=ConversationRef(fields["channel"], fields["conversation_id"]),
        user_id=fields["user_id"],
        state=TicketState(fields["state"]),
        reason=fields["reason"],
        language=fields["language"],
        opened_at=float(fields["opened_at"]),
        updated_at=float(fields["updated_at"]),
        operator=fields["operator"] or None,
    )
