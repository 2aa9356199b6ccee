"""Conversation leases: one worker at a time answers a conversation, and its token fences what it writes.

A lease is the key ``lease:<conversation>`` holding ``<worker>:<n>`` (``n`` from the counter ``lease:next``, so a
token is never reused) with an expiry; the holder renews it while it works. The fenced scripts (the session save,
the stream inbox's ``complete``) compare the token before they write (``bot.fencing``). The fronts take the same
leases under ``delivery:<conversation>``, so one front at a time sends a conversation's replies
(``bot.delivery.Courier``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from bot.fencing import Fence
from bot.sessions.redis import RedisConnection, text

# KEYS: lease, counter. ARGV: worker, ms.
_ACQUIRE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local token = ARGV[1] .. ':' .. redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token, 'PX', ARGV[2])
return token
"""

# KEYS: leases… ARGV: ms, tokens… (in the keys' order). Returns the keys no longer held with their token.
_RENEW = """
local lost = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[i + 1] then redis.call('PEXPIRE', key, ARGV[1]) else table.insert(lost, key) end
end
return lost
"""

# KEYS: lease, the conversation's queue ('' when released unconditionally). ARGV: token.
_RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
if KEYS[2] ~= '' and redis.call('ZCARD', KEYS[2]) > 0 then return 0 end
redis.call('DEL', KEYS[1])
return 1
"""


class Released(StrEnum):
    """What ``release`` found."""

    RELEASED = "released"
    BUSY = "busy"
    """The conversation has unanswered messages again: keep working under the lease."""
    LOST = "lost"
    """The lease had expired and may be another worker's now."""


class Leases:
    """Acquire, renew and release conversation leases on the store's Redis connection for worker ``owner``; ``kind``
    names what they lease (``lease``: answering, ``delivery``: sending the replies)."""

    def __init__(self, connection: RedisConnection, *, owner: str, lease_s: float = 15.0, kind: str = "lease") -> None:
        self.connection = connection
        self.kind = kind
        self.redis: Any = connection.client
        self.owner = owner
        self.lease_ms = max(1, round(lease_s * 1000))
        self._acquire = self.redis.register_script(_ACQUIRE)
        self._renew = self.redis.register_script(_RENEW)
        self._release = self.redis.register_script(_RELEASE)

    def key(self, member: str) -> str:
        return self.connection.key(self.kind, member)

    async def acquire(self, member: str) -> Fence | None:
        """The lease of conversation ``member``, or None while another worker holds it."""
        key = self.key(member)
        token = await self._acquire(keys=[key, self.connection.key("lease", "next")], args=[self.owner, self.lease_ms])
        return None if token is None else Fence(key, text(token) or "")

    async def renew(self, fences: list[Fence]) -> list[Fence]:
        """Extend every lease in ``fences``; the ones that were lost (expired, taken by another worker)."""
        if not fences:
            return []
        lost = {
            text(key)
            for key in await self._renew(keys=[f.key for f in fences], args=[self.lease_ms, *(f.token for f in fences)])
        }
        return [fence for fence in fences if fence.key in lost]

    async def release(self, fence: Fence, *, unless_queued: str | None = None) -> Released:
        """Give the lease up; with ``unless_queued`` (a conversation's queue key) only when that queue is empty, in
        the same script, so a message accepted meanwhile is never left without a worker."""
        outcome = int(await self._release(keys=[fence.key, unless_queued or ""], args=[fence.token]))
        return {1: Released.RELEASED, 0: Released.BUSY}.get(outcome, Released.LOST)
