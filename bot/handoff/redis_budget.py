"""``TicketBudget`` on Redis, shared by every worker: a sorted set per client, ``budget:<digest of the client>``,
of the digests of its counted conversations scored by when they asked. One script trims the entries that left the
window, checks the count and adds the conversation, so two workers can never both take the last place; the key
expires one window after its last addition."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError

from bot.handoff.budget import TicketLimits, digest, failed_open
from bot.sessions.redis import RedisConnection

_ALLOW = """
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - window))
if redis.call('ZSCORE', KEYS[1], ARGV[4]) then return 1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
"""


class RedisTicketBudget:
    """``TicketBudget`` on the store's Redis server (atomic across workers)."""

    def __init__(
        self, connection: RedisConnection, limits: TicketLimits, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.connection = connection
        self.limits = limits
        self.clock = clock
        """Wall-clock seconds of the asking worker (hosts a few seconds apart shift the window by as much)."""
        redis: Any = connection.client
        self._allow = redis.register_script(_ALLOW)

    async def allow(self, client: str, conversation: str) -> bool:
        key = self.connection.key("budget", digest(client))
        expire_ms = math.ceil(self.limits.window_s * 1000) + 1000
        arguments = [repr(self.clock()), repr(self.limits.window_s), self.limits.per_client, digest(conversation)]
        try:
            return bool(await self._allow(keys=[key], args=[*arguments, expire_ms]))
        except (RedisError, OSError) as error:
            return failed_open(client, error)
