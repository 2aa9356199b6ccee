"""Outbound rate limits of the Bot API: about 1 message/s per chat, 30/s overall, 20/min per group chat.

``acquire(chat_id)`` waits until one more message may go to ``chat_id`` and books it. The clock and the
sleep are injectable so that tests can check the limits without waiting real seconds:

    limiter = RateLimiter(clock=fake.now, sleep=fake.sleep)
    await limiter.acquire(42)
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

_GROUP_WINDOW_S = 60.0
_GLOBAL_WINDOW_S = 1.0


class RateLimiter:
    """Books message slots per chat, per group chat and overall; waits (never drops) when a limit is reached."""

    def __init__(
        self,
        *,
        per_chat_interval_s: float = 1.0,
        global_per_second: int = 30,
        group_per_minute: int = 20,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        max_tracked_chats: int = 10_000,
    ) -> None:
        if per_chat_interval_s < 0 or global_per_second < 1 or group_per_minute < 1:
            raise ValueError("rate limits must be positive")
        self.per_chat_interval_s = per_chat_interval_s
        self.global_per_second = global_per_second
        self.group_per_minute = group_per_minute
        self._clock = clock
        self._sleep = sleep
        self._max_tracked = max_tracked_chats
        self._last_sent: dict[int, float] = {}
        self._group_sent: dict[int, deque[float]] = {}
        self._global_sent: deque[float] = deque()

    async def acquire(self, chat_id: int) -> float:
        """Wait until a message may go to ``chat_id``, book the slot, and return the seconds waited."""
        started = self._clock()
        while True:
            now = self._clock()
            delay = self._delay(chat_id, now)
            if delay <= 0:
                self._book(chat_id, now)
                return now - started
            await self._sleep(delay)

    def _delay(self, chat_id: int, now: float) -> float:
        """Seconds until every limit that applies to ``chat_id`` allows one more message."""
        delays = [0.0]
        last = self._last_sent.get(chat_id)
        if last is not None:
            delays.append(last + self.per_chat_interval_s - now)
        _expire(self._global_sent, now - _GLOBAL_WINDOW_S)
        if len(self._global_sent) >= self.global_per_second:
            delays.append(self._global_sent[0] + _GLOBAL_WINDOW_S - now)
        if chat_id < 0:
            sent = self._group_sent.get(chat_id)
            if sent is not None:
                _expire(sent, now - _GROUP_WINDOW_S)
                if len(sent) >= self.group_per_minute:
                    delays.append(sent[0] + _GROUP_WINDOW_S - now)
        return max(delays)

    def _book(self, chat_id: int, now: float) -> None:
        self._last_sent[chat_id] = now
        self._global_sent.append(now)
        if chat_id < 0:
            self._group_sent.setdefault(chat_id, deque()).append(now)
        if len(self._last_sent) > self._max_tracked:
            self._forget_idle(now)

    def _forget_idle(self, now: float) -> None:
        """Drop chats whose limits no longer constrain anything, so memory stays bounded."""
        horizon = max(self.per_chat_interval_s, _GROUP_WINDOW_S)
        for chat_id in [c for c, t in self._last_sent.items() if now - t > horizon]:
            del self._last_sent[chat_id]
            self._group_sent.pop(chat_id, None)


def _expire(times: deque[float], before: float) -> None:
    while times and times[0] <= before:
        times.popleft()
