"""``StreamInbox``: the Redis inbox of worker mode, where the front appends each accepted message to a Redis Stream.

The front (``kefu run --role front``) calls ``accept``: one script keeps the record (as ``RedisInbox`` does), adds
it to its conversation's queue ``inbox:conv:<conversation>`` and appends a trigger ``{seq, conv}`` to the stream
``stream:in``, so an acknowledged message is always both kept and announced. ``kefu worker`` processes read the
stream in the consumer group ``workers`` (``read``, ``claim``), answer a conversation's queue in order under its
lease (``bot.workers``), and ``complete`` a turn in one fenced script: the record dropped, the stream entry
acknowledged and deleted, the reply queued in the outbox and announced on the ``replies`` channel, where the
front's courier hears it. Delivery stays with the front, which holds the channels' connections.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from redis.exceptions import RedisError, ResponseError

from bot.errors import BadInput
from bot.fencing import CHECK_FENCE, LeaseLost, fence_args, refused
from bot.inbox.base import message_key
from bot.inbox.codec import dump_message, load_message
from bot.inbox.redis import _QUEUE, RedisInbox, _member
from bot.messages import ConversationRef, Message, Reply
from bot.sessions.redis import RedisConnection, text

GROUP = "workers"
"""The consumer group every ``kefu worker`` joins."""

# KEYS: identity mark, sequence counter, pending set, conversation queue, stream.
# ARGV: has identity, record prefix, record, identity, now, member, blobs…
_ACCEPT = """
if ARGV[1] == '1' and redis.call('EXISTS', KEYS[1]) == 1 then return false end
local seq = redis.call('INCR', KEYS[2])
local row = ARGV[2] .. seq
redis.call('HSET', row, 'record', ARGV[3], 'key', ARGV[4], 'at', ARGV[5], 'member', ARGV[6])
for i = 7, #ARGV do redis.call('HSET', row, 'blob:' .. (i - 7), ARGV[i]) end
if ARGV[1] == '1' then redis.call('SET', KEYS[1], seq) end
redis.call('ZADD', KEYS[3], seq, seq)
redis.call('ZADD', KEYS[4], seq, seq)
local entry = redis.call('XADD', KEYS[5], '*', 'seq', seq, 'conv', ARGV[6])
redis.call('HSET', row, 'entry', entry)
return seq
"""

# KEYS: pending set, done set, turn mark, outbox counter, conversation's outbox, outbox conversations,
#       conversation queue, stream, fence ('' for none).
# ARGV: seq, record prefix, now, has reply, reply, channel, conversation id, member, outbox prefix, mark ttl,
#       token, group, replies channel.
_COMPLETE = (
    _QUEUE
    + CHECK_FENCE
    + """
local refused = check_fence(KEYS[9], ARGV[11])
if refused then return refused end
local row = ARGV[2] .. ARGV[1]
local identity = redis.call('HGET', row, 'key')
local entry = redis.call('HGET', row, 'entry')
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[7], ARGV[1])
redis.call('DEL', row)
if identity and identity ~= '' then redis.call('ZADD', KEYS[2], ARGV[3], identity) end
if entry then
  redis.call('XACK', KEYS[8], ARGV[12], entry)
  redis.call('XDEL', KEYS[8], entry)
end
if ARGV[4] == '1' and redis.call('SET', KEYS[3], '1', 'NX', 'EX', ARGV[10]) then
  queue(KEYS[4], ARGV[9], KEYS[5], KEYS[6], ARGV[8], ARGV[6], ARGV[7], ARGV[5], ARGV[3])
  redis.call('PUBLISH', ARGV[13], ARGV[8])
end
return 0
"""
)

# KEYS: stream. ARGV: group, record prefix, then entry id and seq pairs. Acknowledges and deletes the entries whose
# message is answered already (a trigger read twice, a hand-back); returns the ids of those still unanswered.
_FORGET_ANSWERED = """
local open = {}
for i = 3, #ARGV, 2 do
  if redis.call('EXISTS', ARGV[2] .. ARGV[i + 1]) == 0 then
    redis.call('XACK', KEYS[1], ARGV[1], ARGV[i])
    redis.call('XDEL', KEYS[1], ARGV[i])
  else
    table.insert(open, ARGV[i])
  end
end
return open
"""


@dataclass(frozen=True, slots=True)
class Entry:
    """One stream entry: the trigger for message ``seq`` of conversation ``member``."""

    id: str
    seq: int
    member: str


@dataclass(frozen=True, slots=True)
class StreamStats:
    """The group's view of the stream: entries not yet read by any worker, and read but not acknowledged."""

    lag: int
    pending: int


async def kept_only(channel: str, locator: str) -> bytes:
    """A worker's ``Refetch``: the front keeps attachment bytes at accept, so one without them cannot be read."""
    raise BadInput(f"this {channel} attachment was not kept when it arrived, so it cannot be read now")


class StreamInbox(RedisInbox):
    """``RedisInbox`` whose ``accept`` also announces the message on the stream, and whose ``complete`` is fenced."""

    def __init__(self, connection: RedisConnection, *, remember_s: float = 2 * 86400) -> None:
        super().__init__(connection, remember_s=remember_s)
        self.stream = self._key("stream", "in")
        self.replies = self._key("replies")
        """The Pub/Sub channel that names a conversation when one of its replies is queued."""
        self.working = self._key("working")
        """The Pub/Sub channel that names a conversation a worker has started to answer ("typing…" at the fronts)."""
        for name, body in (("accept", _ACCEPT), ("complete", _COMPLETE), ("forget", _FORGET_ANSWERED)):
            self._scripts[name] = self.redis.register_script(body)

    def queue_key(self, member: str) -> str:
        """The sorted set of conversation ``member``'s unanswered messages (by sequence number)."""
        return self._key("inbox", "conv", member)

    async def accept(self, message: Message) -> int | None:
        record, blobs = dump_message(message)
        identity = message_key(message)
        member = _member(message.conversation)
        seq = await self._scripts["accept"](
            keys=[
                self._key("inbox", "key", identity or ""),
                self._key("inbox", "seq"),
                self._key("inbox", "pending"),
                self.queue_key(member),
                self.stream,
            ],
            args=[
                "1" if identity else "0",
                self._key("inbox", "msg", ""),
                record,
                identity or "",
                now(),
                member,
                *blobs,
            ],
        )
        return None if seq is None else int(seq)

    async def complete(self, seq: int, conversation: ConversationRef, reply: Reply | None) -> None:
        keys, args = self._completion(seq, conversation, reply)
        fence, token = fence_args()
        try:
            await self._scripts["complete"](
                keys=[*keys, self.queue_key(_member(conversation)), self.stream, fence],
                args=[*args, token, GROUP, self.replies],
            )
        except RedisError as error:
            if refused(error):
                raise LeaseLost(f"the lease of {conversation} moved to another worker") from None
            raise

    async def announce_working(self, conversation: ConversationRef) -> None:
        """Name ``conversation`` on the working channel: the fronts show "typing…" there."""
        await self.redis.publish(self.working, _member(conversation))

    async def announce(self, conversation: ConversationRef) -> None:
        """Name ``conversation`` on the replies channel, so every front's courier looks at its outbox now."""
        await self.redis.publish(self.replies, _member(conversation))

    async def join_group(self, consumer: str | None = None) -> None:
        """Create the stream and the workers' group when they do not exist (at every start and reconnect), and list
        ``consumer`` in it (Redis adds a consumer only at its first entry otherwise, so an idle worker is seen)."""
        try:
            await self.redis.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise
        if consumer is not None:
            await self.redis.xgroup_createconsumer(self.stream, GROUP, consumer)

    async def consumers(self) -> list[str]:
        """The names of the workers in the group."""
        try:
            listed = await self.redis.xinfo_consumers(self.stream, GROUP)
        except ResponseError:  # no stream or group yet
            return []
        return [text(item["name"]) or "" for item in listed]

    async def read(self, consumer: str, *, count: int, block_ms: int) -> list[Entry]:
        """Up to ``count`` entries no worker has read yet, waiting at most ``block_ms`` for one."""
        try:
            answer = await self.redis.xreadgroup(GROUP, consumer, {self.stream: ">"}, count=count, block=block_ms)
        except ResponseError as error:
            if "NOGROUP" not in str(error):
                raise
            await self.join_group(consumer)  # the stream was emptied (a Redis server that lost its data): join again
            return []
        return [_entry(entry_id, fields) for _, entries in answer or [] for entry_id, fields in entries]

    async def claim(self, consumer: str, *, idle_ms: int, count: int = 100) -> list[Entry]:
        """Take over entries read by any worker and not acknowledged for ``idle_ms`` (a dead worker's among them)."""
        claimed: list[Entry] = []
        cursor = "0-0"
        while len(claimed) < count:
            cursor, entries, *_ = await self.redis.xautoclaim(
                self.stream, GROUP, consumer, idle_ms, start_id=cursor, count=count - len(claimed)
            )
            claimed += [_entry(entry_id, fields) for entry_id, fields in entries if fields]
            if text(cursor) == "0-0":
                break
        return claimed

    async def unanswered(self, entries: list[Entry]) -> list[Entry]:
        """The entries whose message is still unanswered; the others are acknowledged and deleted."""
        if not entries:
            return []
        pairs = [part for entry in entries for part in (entry.id, entry.seq)]
        still = await self._scripts["forget"](keys=[self.stream], args=[GROUP, self._key("inbox", "msg", ""), *pairs])
        kept = {text(entry_id) for entry_id in still}
        return [entry for entry in entries if entry.id in kept]

    async def head(self, member: str) -> tuple[int, Message] | None:
        """Conversation ``member``'s oldest unanswered message, or None when it has none."""
        while True:
            first = await self.redis.zrange(self.queue_key(member), 0, 0)
            if not first:
                return None
            seq = int(first[0])
            row = await self.redis.hgetall(self._key("inbox", "msg", seq))
            if row:
                blobs = [row[f"blob:{n}".encode()] for n in range(sum(1 for k in row if k.startswith(b"blob:")))]
                return seq, load_message(row[b"record"].decode("utf-8"), blobs, refetch=kept_only)
            await self.redis.zrem(self.queue_key(member), seq)  # answered in the meantime

    async def hand_back(self, consumer: str, *, idle_ms: int) -> int:
        """Make every entry ``consumer`` holds claimable at once (a worker stopping); how many."""
        held = await self.redis.xpending_range(
            self.stream, GROUP, min="-", max="+", count=10_000, consumername=consumer
        )
        ids = [item["message_id"] for item in held]
        if ids:
            await self.redis.xclaim(self.stream, GROUP, consumer, 0, ids, idle=idle_ms, justid=True)
        return len(ids)

    async def stats(self) -> StreamStats:
        """The group's lag and pending count. Answered entries are deleted, so the stream's length is what is
        unanswered: read and unacknowledged (pending) or not read yet (lag)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xlen(self.stream)
            pipe.xpending(self.stream, GROUP)
            try:
                length, pending = await pipe.execute()
            except ResponseError as error:
                if "NOGROUP" not in str(error):
                    raise
                return StreamStats(lag=int(await self.redis.xlen(self.stream)), pending=0)
        held = int(pending["pending"])
        return StreamStats(lag=max(0, int(length) - held), pending=held)


def _entry(entry_id: bytes | str, fields: dict[bytes, bytes]) -> Entry:
    return Entry(text(entry_id) or "", int(fields[b"seq"]), text(fields[b"conv"]) or "")


def now() -> str:
    return repr(time.time())
