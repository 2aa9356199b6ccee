"""The shared store on Redis (``KEFU_STORE__URL=redis://host:port/db``): the connection and the ``SessionStore``.

Keys, under the connection's prefix (``kefu:``): ``session:<conversation>`` (a hash of the state),
``turns:<conversation>`` (a list of JSON turns, trimmed to the history), ``sessions`` (a sorted set of
conversations by last update, for ``purge``) and ``user:<user_id>`` (the user's conversations, for ``forget_user``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.config import is_redis_url
from bot.errors import ConfigError, StoreUnavailable
from bot.fencing import CHECK_FENCE, LeaseLost, fence_args, refused
from bot.inbox.codec import dump_reply, load_reply
from bot.insights.facts import TurnFact
from bot.pii import mask_pii
from bot.sessions.base import HandoffState, Session, Turn
from bot.sessions.sqlite import days_ago


def text(value: bytes | str | None) -> str | None:
    """A value read from Redis (bytes) as text."""
    return value.decode("utf-8") if isinstance(value, bytes) else value


POOL_SIZE = 100
"""Connections one process opens to Redis at most. Past it a call waits for a free one (back-pressure): redis-py's
plain pool raises instead, which under a burst (200 shoppers at once on one front) failed deliveries mid-way."""

POOL_WAIT_S = 30.0
"""How long a call waits for a free connection before it fails like any other Redis error."""


class RedisConnection:
    """One ``redis.asyncio`` client (a connection pool) and the key prefix; the creator must ``close`` it.

    Values are bytes (attachments are kept as they are), so readers decode text with ``text``.
    """

    def __init__(self, client: aioredis.Redis, *, prefix: str = "kefu:", url: str = "") -> None:
        self.client = client
        self.prefix = prefix
        self.url = url

    @classmethod
    async def open(cls, url: str, *, prefix: str = "kefu:", timeout_s: float = 5.0) -> RedisConnection:
        """Connect to ``url`` and check that the server answers; ``StoreUnavailable`` when it does not."""
        if not is_redis_url(url):
            raise ConfigError(f"store URL {url!r} is not redis://host:port/db (KEFU_STORE__URL)")
        try:
            pool = aioredis.BlockingConnectionPool.from_url(
                url,
                max_connections=POOL_SIZE,
                timeout=POOL_WAIT_S,
                socket_timeout=timeout_s,
                socket_connect_timeout=timeout_s,
                health_check_interval=30,
                retry_on_timeout=True,
            )
        except ValueError as error:
            raise ConfigError(f"store URL {url!r}: {error} (KEFU_STORE__URL)") from None
        client = aioredis.Redis.from_pool(pool)
        connection = cls(client, prefix=prefix, url=url)
        try:
            await client.ping()
        except RedisError as error:
            await client.aclose()
            raise StoreUnavailable(f"cannot reach the Redis store at {connection.safe_url}: {error}") from None
        return connection

    @property
    def safe_url(self) -> str:
        """The URL without its password (for messages and logs)."""
        scheme, _, rest = self.url.partition("://")
        return f"{scheme}://{rest.rpartition('@')[2]}" if "@" in rest else self.url

    def key(self, *parts: str | int) -> str:
        return self.prefix + ":".join(str(part) for part in parts)

    async def close(self) -> None:
        await self.client.aclose()


_SET_HANDOFF = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'handoff', ARGV[1], 'ticket_id', ARGV[2], 'updated_at', ARGV[3])
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
end
return 0
"""


# KEYS: session hash, turns list, sessions index, user's set ('' for none), fence ('' for none).
# ARGV: token, history lines, updated at, conversation, turn count, turns…, state fields and values…
_SAVE = (
    CHECK_FENCE
    + """
local refused = check_fence(KEYS[5], ARGV[1])
if refused then return refused end
local n = tonumber(ARGV[5])
redis.call('HSET', KEYS[1], unpack(ARGV, 6 + n, #ARGV))
if n > 0 then
  redis.call('RPUSH', KEYS[2], unpack(ARGV, 6, 5 + n))
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
end
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])
if KEYS[4] ~= '' then redis.call('SADD', KEYS[4], ARGV[4]) end
return 0
"""
)


class RedisSessionStore:
    """``SessionStore`` on Redis, shared by every worker: history (last ``history_turns`` exchanges), state, slots.

    Text is masked with ``bot.pii.mask_pii`` before it is written, slots included; the last reply is kept as sent
    (the same rules as ``SqliteSessionStore``). A save is one script: the state and the new turns together, refused
    (``LeaseLost``) when a worker's turn runs under a conversation lease it no longer holds (``bot.fencing``).
    """

    def __init__(self, connection: RedisConnection, *, history_turns: int = 10) -> None:
        self.connection = connection
        self.redis: Any = connection.client  # redis-py's async stubs type every answer as a union
        self.history_lines = max(1, history_turns) * 2
        self._set_handoff = self.redis.register_script(_SET_HANDOFF)
        self._save = self.redis.register_script(_SAVE)

    def _session(self, conversation: str) -> str:
        return self.connection.key("session", conversation)

    def _turns(self, conversation: str) -> str:
        return self.connection.key("turns", conversation)

    def _user(self, user_id: str) -> str:
        return self.connection.key("user", user_id)

    async def load(self, conversation: str) -> Session:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(self._session(conversation))
            pipe.lrange(self._turns(conversation), -self.history_lines, -1)
            row, turns = await pipe.execute()
        if not row:
            return Session(conversation=conversation)
        fields = {text(key): text(value) for key, value in row.items()}
        ticket = fields.get("ticket_id")
        last_reply = fields.get("last_reply")
        return Session(
            conversation=conversation,
            user_id=fields.get("user_id") or "",
            language=fields.get("language") or None,
            handoff=HandoffState(fields.get("handoff") or "bot"),
            ticket_id=int(ticket) if ticket else None,
            slots=json.loads(fields.get("slots") or "{}"),
            counters=json.loads(fields.get("counters") or "{}"),
            history=[_turn(json.loads(line)) for line in turns],
            updated_at=float(fields.get("updated_at") or 0.0),
            last_message_id=fields.get("last_message") or None,
            last_reply=load_reply(last_reply) if last_reply else None,
        )

    async def save(self, session: Session, *, turns: Sequence[Turn] = (), fact: TurnFact | None = None) -> None:
        """Store the session and its new turns in one script. ``fact`` (the insights' record of the turn) is not
        kept: ``/ops`` and ``kefu report`` read the SQLite store only, for now (docs/scale.md)."""
        session.updated_at = time.time()
        slots = {key: mask_pii(value) for key, value in session.slots.items()}
        kept = [Turn(t.role, mask_pii(t.text), t.intent, t.at) for t in turns]
        conversation = session.conversation
        state = {
            "user_id": session.user_id,
            "language": session.language or "",
            "handoff": session.handoff.value,
            "ticket_id": "" if session.ticket_id is None else str(session.ticket_id),
            "slots": json.dumps(slots, ensure_ascii=False),
            "counters": json.dumps(session.counters),
            "updated_at": repr(session.updated_at),
            "last_message": session.last_message_id or "",
            "last_reply": dump_reply(session.last_reply) if session.last_reply else "",  # as sent, for a replay
        }
        fence, token = fence_args()
        lines = [_dump_turn(t) for t in kept]
        try:
            await self._save(
                keys=[
                    self._session(conversation),
                    self._turns(conversation),
                    self.connection.key("sessions"),
                    self._user(session.user_id) if session.user_id else "",
                    fence,
                ],
                args=[
                    token,
                    self.history_lines,
                    repr(session.updated_at),
                    conversation,
                    len(lines),
                    *lines,
                    *(item for pair in state.items() for item in pair),
                ],
            )
        except RedisError as error:
            if refused(error):
                raise LeaseLost(f"the lease of {conversation} moved to another worker; this save is refused") from None
            raise
        session.history = [*session.history, *kept][-self.history_lines :]

    async def set_handoff(self, conversation: str, state: HandoffState, ticket_id: int | None) -> None:
        """Change only the hand-off state of an existing session (what the desk does when an operator acts)."""
        await self._set_handoff(
            keys=[self._session(conversation), self.connection.key("sessions")],
            args=[state.value, "" if ticket_id is None else str(ticket_id), repr(time.time()), conversation],
        )

    async def forget_user(self, user_id: str) -> int:
        """Delete the sessions (history included) of ``user_id``; how many."""
        members = [text(m) or "" for m in await self.redis.smembers(self._user(user_id))]
        owners = await self._owners(members)
        gone = [conversation for conversation, owner in zip(members, owners, strict=True) if owner == user_id]
        await self._delete(gone, users=[user_id] * len(gone))
        await self.redis.delete(self._user(user_id))
        return len(gone)

    async def purge(self, *, older_than_days: float) -> int:
        """Delete sessions idle for more than ``older_than_days``; how many."""
        cutoff = days_ago(older_than_days)
        old = [
            text(m) or ""
            for m in await self.redis.zrangebyscore(self.connection.key("sessions"), "-inf", f"({cutoff!r}")
        ]
        await self._delete(old, users=await self._owners(old))
        return len(old)

    async def _owners(self, conversations: Sequence[str]) -> list[str]:
        if not conversations:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for conversation in conversations:
                pipe.hget(self._session(conversation), "user_id")
            return [text(owner) or "" for owner in await pipe.execute()]

    async def _delete(self, conversations: Sequence[str], *, users: Sequence[str]) -> None:
        if not conversations:
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            for conversation, user in zip(conversations, users, strict=True):
                pipe.delete(self._session(conversation), self._turns(conversation))
                pipe.zrem(self.connection.key("sessions"), conversation)
                if user:
                    pipe.srem(self._user(user), conversation)
            await pipe.execute()

    async def stats(self) -> dict[str, Any]:
        """Counts of sessions by hand-off state and of kept turns (for ``kefu sessions stats``)."""
        conversations = [text(m) or "" for m in await self.redis.zrange(self.connection.key("sessions"), 0, -1)]
        async with self.redis.pipeline(transaction=False) as pipe:
            for conversation in conversations:
                pipe.hget(self._session(conversation), "handoff")
                pipe.llen(self._turns(conversation))
            answers = await pipe.execute() if conversations else []
        states: dict[str, int] = {}
        for handoff in answers[0::2]:
            name = text(handoff) or "bot"
            states[name] = states.get(name, 0) + 1
        return {"sessions": states, "turns": sum(answers[1::2])}

    async def close(self) -> None:
        await self.connection.close()


def _dump_turn(turn: Turn) -> str:
    return json.dumps([turn.role, turn.text, turn.intent, turn.at], ensure_ascii=False)


def _turn(kept: list[Any]) -> Turn:
    role, said, intent, at = kept
    return Turn(role, said, intent, at)
