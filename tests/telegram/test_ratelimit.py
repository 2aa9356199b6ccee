"""The outbound limiter holds Telegram's limits; a virtual clock stands in for real seconds."""

from __future__ import annotations

import asyncio

import pytest

from adapters.telegram.ratelimit import RateLimiter


class VirtualClock:
    """Time that moves only when someone sleeps (one sleeper at a time in these tests)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


async def _times(limiter: RateLimiter, clock: VirtualClock, chats: list[int]) -> list[float]:
    out = []
    for chat in chats:
        await limiter.acquire(chat)
        out.append(round(clock.now, 6))
    return out


async def test_one_message_per_second_per_chat() -> None:
    clock = VirtualClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    assert await _times(limiter, clock, [7] * 5) == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert await _times(limiter, clock, [8]) == [4.0], "another chat is not held back by chat 7"


async def test_thirty_messages_per_second_overall() -> None:
    clock = VirtualClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    times = await _times(limiter, clock, list(range(1, 66)))
    assert times.count(0.0) == 30 and times.count(1.0) == 30 and times.count(2.0) == 5


async def test_twenty_messages_per_minute_in_a_group() -> None:
    clock = VirtualClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    times = await _times(limiter, clock, [-100123] * 22)
    assert times[:20] == [float(i) for i in range(20)]
    assert times[20] == 60.0 and times[21] == 61.0


async def test_idle_chats_are_forgotten() -> None:
    clock = VirtualClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep, max_tracked_chats=10, global_per_second=1000)
    await _times(limiter, clock, list(range(1, 12)))
    clock.now += 120
    await limiter.acquire(99)
    assert len(limiter._last_sent) == 1


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        RateLimiter(global_per_second=0)
