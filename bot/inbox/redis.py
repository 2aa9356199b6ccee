"""``RedisInbox``: the durable inbox and reply outbox on Redis (``KEFU_STORE__URL=redis://…``).

Each step that must be atomic is one Lua script (Redis runs a script alone, and AOF logs it whole): ``accept``
(the identity mark, the record and its attachment bytes, the pending entry), ``complete`` (answered + the reply
queued), ``post`` (the idempotency mark + the reply), ``delivered``. Keys, under the connection's prefix:
``inbox:msg:<seq>``, ``inbox:pending``, ``inbox:key:<identity>``, ``inbox:done`` (identities by answer time, for
``prune``), ``outbox:<id>``, ``outbox:conv:<conversation>`` (ids in order), ``outbox:convs``, ``outbox:mark:<key>``.
"""

from __future__ import annotations

import math
import time
from typing import Any

from bot.inbox.base import Outgoing, message_key
from bot.inbox.base import member as _member
from bot.inbox.codec import Refetch, dump_message, dump_reply, load_message, load_reply, numbered
from bot.messages import ConversationRef, Message, Reply
from bot.sessions.redis import RedisConnection, text

_SEP = "\x1f"

_QUEUE = """
local function queue(counter, prefix, conversation, convs, member, channel, cid, reply, now)
  local id = redis.call('INCR', counter)
  redis.call('HSET', prefix .. id, 'channel', channel, 'conversation_id', cid, 'reply', reply,
             'attempts', 0, 'created_at', now, 'due_at', now)
  redis.call('ZADD', conversation, id, id)
  redis.call('SADD', convs, member)
  return id
end
"""

# KEYS: identity mark, sequence counter, pending set. ARGV: has identity, record prefix, record, identity, now, blobs…
_ACCEPT = """
if ARGV[1] == '1' and redis.call('EXISTS', KEYS[1]) == 1 then return false end
local seq = redis.call('INCR', KEYS[2])
local row = ARGV[2] .. seq
redis.call('HSET', row, 'record', ARGV[3], 'key', ARGV[4], 'at', ARGV[5])
for i = 6, #ARGV do redis.call('HSET', row, 'blob:' .. (i - 6), ARGV[i]) end
if ARGV[1] == '1' then redis.call('SET', KEYS[1], seq) end
redis.call('ZADD', KEYS[3], seq, seq)
return seq
"""

# KEYS: pending set, done set, turn mark, outbox counter, conversation's outbox, outbox conversations.
# ARGV: seq, record prefix, now, has reply, reply, channel, conversation id, member, outbox prefix, mark ttl.
_COMPLETE = (
    _QUEUE
    + """
local row = ARGV[2] .. ARGV[1]
local identity = redis.call('HGET', row, 'key')
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', row)
if identity and identity ~= '' then redis.call('ZADD', KEYS[2], ARGV[3], identity) end
if ARGV[4] == '1' and redis.call('SET', KEYS[3], '1', 'NX', 'EX', ARGV[10]) then
  queue(KEYS[4], ARGV[9], KEYS[5], KEYS[6], ARGV[8], ARGV[6], ARGV[7], ARGV[5], ARGV[3])
end
return 0
"""
)

# KEYS: post mark, outbox counter, conversation's outbox, outbox conversations.
# ARGV: has mark, mark ttl, outbox prefix, member, channel, conversation id, reply, now.
_POST = (
    _QUEUE
    + """
if ARGV[1] == '1' and not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[2]) then return 0 end
queue(KEYS[2], ARGV[3], KEYS[3], KEYS[4], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8])
return 1
"""
)

# KEYS: the reply's hash, outbox conversations. ARGV: id, conversation outbox prefix, separator.
_DELIVERED = """
local channel = redis.call('HGET', KEYS[1], 'channel')
if not channel then return 0 end
local member = channel .. ARGV[3] .. redis.call('HGET', KEYS[1], 'conversation_id')
local conversation = ARGV[2] .. member
redis.call('DEL', KEYS[1])
redis.call('ZREM', conversation, ARGV[1])
if redis.call('ZCARD', conversation) == 0 then redis.call('SREM', KEYS[2], member) end
return 1
"""

# KEYS: the reply's hash. ARGV: due at, failed (0/1).
_RETRY = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'due_at', ARGV[1])
redis.call('HINCRBY', KEYS[1], 'attempts', ARGV[2])
return 1
"""

# KEYS: outbox conversations. ARGV: now, conversation outbox prefix, outbox prefix.
_DUE = """
local due = {}
for _, member in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local head = redis.call('ZRANGE', ARGV[2] .. member, 0, 0)[1]
  if not head then
    redis.call('SREM', KEYS[1], member)
  elseif tonumber(redis.call('HGET', ARGV[3] .. head, 'due_at') or '0') <= tonumber(ARGV[1]) then
    table.insert(due, member)
  end
end
return due
"""

# KEYS: done set. ARGV: cut-off, identity mark prefix.
_PRUNE = """
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
for _, identity in ipairs(old) do redis.call('DEL', ARGV[2] .. identity) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
return #old
"""


class RedisInbox:
    """``Inbox`` on Redis: durable across crashes and restarts of kefu (and of Redis, with AOF on)."""

    def __init__(self, connection: RedisConnection, *, remember_s: float = 2 * 86400) -> None:
        self.connection = connection
        self.redis: Any = connection.client  # redis-py's async stubs type every answer as a union
        self.remember_s = remember_s
        """How long an answered message's identity (and a posted reply's key) is kept to recognise a repeat."""
        scripts = {
            "accept": _ACCEPT,
            "complete": _COMPLETE,
            "post": _POST,
            "delivered": _DELIVERED,
            "retry": _RETRY,
            "due": _DUE,
            "prune": _PRUNE,
        }
        self._scripts = {name: self.redis.register_script(body) for name, body in scripts.items()}

    def _key(self, *parts: str | int) -> str:
        return self.connection.key(*parts)

    def _outbox(self, member: str) -> list[str]:
        """The keys and arguments every queueing script shares (counter, conversation outbox, conversations)."""
        return [self._key("outbox", "next"), self._key("outbox", "conv", member), self._key("outbox", "convs")]

    async def accept(self, message: Message) -> int | None:
        record, blobs = dump_message(message)
        identity = message_key(message)
        seq = await self._scripts["accept"](
            keys=[self._key("inbox", "key", identity or ""), self._key("inbox", "seq"), self._key("inbox", "pending")],
            args=[
                "1" if identity else "0",
                self._key("inbox", "msg", ""),
                record,
                identity or "",
                repr(time.time()),
                *blobs,
            ],
        )
        return None if seq is None else int(seq)

    async def pending(self, *, refetch: Refetch) -> list[tuple[int, Message]]:
        seqs = [int(seq) for seq in await self.redis.zrange(self._key("inbox", "pending"), 0, -1)]
        restored = []
        for seq in seqs:
            row = await self.redis.hgetall(self._key("inbox", "msg", seq))
            if not row:
                continue
            blobs = [row[f"blob:{n}".encode()] for n in range(sum(1 for k in row if k.startswith(b"blob:")))]
            restored.append((seq, load_message(row[b"record"].decode("utf-8"), blobs, refetch=refetch)))
        return restored

    async def complete(self, seq: int, conversation: ConversationRef, reply: Reply | None) -> None:
        keys, args = self._completion(seq, conversation, reply)
        await self._scripts["complete"](keys=keys, args=args)

    def _completion(
        self, seq: int, conversation: ConversationRef, reply: Reply | None
    ) -> tuple[list[str], list[str | int]]:
        """The keys and arguments of the ``complete`` script, in its order (``StreamInbox`` appends its own)."""
        member = _member(conversation)
        keys = [
            self._key("inbox", "pending"),
            self._key("inbox", "done"),
            self._key("outbox", "mark", f"turn:{seq}"),
            *self._outbox(member),
        ]
        args: list[str | int] = [
            seq,
            self._key("inbox", "msg", ""),
            repr(time.time()),
            "1" if reply is not None else "0",
            dump_reply(numbered(reply)) if reply is not None else "",
            conversation.channel,
            conversation.conversation_id,
            member,
            self._key("outbox", ""),
            self._mark_ttl(),
        ]
        return keys, args

    async def post(self, conversation: ConversationRef, reply: Reply, *, key: str | None = None) -> bool:
        member = _member(conversation)
        queued = await self._scripts["post"](
            keys=[self._key("outbox", "mark", key or ""), *self._outbox(member)],
            args=[
                "1" if key is not None else "0",
                self._mark_ttl(),
                self._key("outbox", ""),
                member,
                conversation.channel,
                conversation.conversation_id,
                dump_reply(numbered(reply)),
                repr(time.time()),
            ],
        )
        return bool(queued)

    async def next_due(self, conversation: ConversationRef, *, now: float) -> Outgoing | None:
        head = await self.redis.zrange(self._key("outbox", "conv", _member(conversation)), 0, 0)
        if not head:
            return None
        outgoing_id = int(head[0])
        row = await self.redis.hgetall(self._key("outbox", outgoing_id))
        if not row or float(row[b"due_at"]) > now:
            return None
        return Outgoing(
            outgoing_id,
            conversation,
            load_reply(row[b"reply"].decode("utf-8")),
            int(row[b"attempts"]),
            float(row[b"created_at"]),
        )

    async def due_conversations(self, *, now: float) -> list[ConversationRef]:
        members = await self._scripts["due"](
            keys=[self._key("outbox", "convs")],
            args=[repr(now), self._key("outbox", "conv", ""), self._key("outbox", "")],
        )
        return [ConversationRef(*(text(member) or "").split(_SEP, 1)) for member in members]

    async def delivered(self, outgoing_id: int) -> None:
        await self._scripts["delivered"](
            keys=[self._key("outbox", outgoing_id), self._key("outbox", "convs")],
            args=[outgoing_id, self._key("outbox", "conv", ""), _SEP],
        )

    async def retry(self, outgoing_id: int, *, at: float, failed: bool) -> None:
        await self._scripts["retry"](keys=[self._key("outbox", outgoing_id)], args=[repr(at), 1 if failed else 0])

    async def give_up(self, outgoing_id: int) -> None:
        await self.delivered(outgoing_id)

    async def prune(self, *, now: float) -> int:
        return int(
            await self._scripts["prune"](
                keys=[self._key("inbox", "done")], args=[repr(now - self.remember_s), self._key("inbox", "key", "")]
            )
        )

    async def close(self) -> None:
        await self.connection.close()

    def _mark_ttl(self) -> int:
        return max(1, math.ceil(self.remember_s))
