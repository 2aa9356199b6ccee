"""Per-connection flood control: a token bucket, plus a hard cap that ends a connection abusing it grossly."""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FloodLimit:
    """How fast one browser connection may send frames."""

    rate_per_s: float = 2.0
    """Frames per second a connection may keep up indefinitely."""
    burst: int = 10
    """Frames a connection may send at once after a quiet spell."""
    hard_cap: int = 50
    """Refused frames (decaying at ``rate_per_s``) after which the connection is closed."""


DEFAULT_FLOOD_LIMIT = FloodLimit()


class Verdict(enum.Enum):
    ACCEPT = "accept"
    REFUSE = "refuse"
    """Over the limit: answer "slow down" and drop the frame; the connection stays open."""
    CLOSE = "close"
    """Grossly over the limit: close the connection."""


class FloodGuard:
    """Decides, frame by frame, whether one connection is within its ``FloodLimit``."""

    def __init__(self, limit: FloodLimit, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = limit
        self._clock = clock
        self._tokens = float(limit.burst)
        self._strikes = 0.0
        self._last = clock()

    def admit(self) -> Verdict:
        """Account for one incoming frame and say what to do with it."""
        now = self._clock()
        refill = (now - self._last) * self._limit.rate_per_s
        self._last = now
        self._tokens = min(float(self._limit.burst), self._tokens + refill)
        self._strikes = max(0.0, self._strikes - refill)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return Verdict.ACCEPT
        self._strikes += 1.0
        return Verdict.CLOSE if self._strikes > self._limit.hard_cap else Verdict.REFUSE

    def wait_s(self) -> float:
        """Seconds until the next frame would be accepted (what a refused sender is told to wait)."""
        return round(max(0.0, 1.0 - self._tokens) / self._limit.rate_per_s, 2)
