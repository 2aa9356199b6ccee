"""Web API calls with Slack's rate limits honoured per method and bounded retries.

A 429 answer's ``Retry-After`` holds every later call of that method (Slack limits per method and workspace)
until it has passed; a wait longer than ``max_wait_s`` is handed back to the runtime as ``DeliveryDeferred``,
whose outbox tries again later. 5xx answers and network errors are retried with exponential backoff; an
``ok: false`` answer (``channel_not_found``, ``invalid_blocks``…) is not retried.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import aiohttp

from bot.errors import DeliveryDeferred, KefuError

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class DeliveryFailed(KefuError):
    """Slack refused a call, or it still failed after the retries."""


class WebApi:
    """``call(method, body)``: one Web API method through ``client``, rate limits and retries included."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        max_attempts: int = 5,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        max_wait_s: float = 30.0,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.client = client
        self._max_attempts = max_attempts
        self._backoff_s, self._max_backoff_s = backoff_s, max_backoff_s
        self._max_wait_s = max_wait_s
        self._sleep, self._clock = sleep, clock
        self._blocked_until: dict[str, float] = {}
        self.retries = 0
        """Calls retried so far (for tests and metrics)."""
        self.rate_limited = 0
        """429 answers received so far."""

    async def call(
        self, method: str, body: Mapping[str, Any] | None = None, *, query: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """POST ``body`` as JSON, or GET with ``query``; Slack's answer as a dict."""
        from slack_sdk.errors import SlackApiError

        for attempt in range(1, self._max_attempts + 1):
            await self._wait_turn(method)
            try:
                if query is not None:
                    response = await self.client.api_call(method, http_verb="GET", params=dict(query))
                else:
                    response = await self.client.api_call(method, json=dict(body or {}))
                return dict(response.data) if isinstance(response.data, dict) else {}
            except SlackApiError as error:
                status = error.response.status_code
                if status == 429:
                    self._hold(method, _retry_after(error.response.headers))
                    reason = "429 rate limited"
                    delay = 0.0
                elif status >= 500:
                    reason, delay = f"HTTP {status}", self._backoff(attempt)
                else:
                    code = error.response.get("error") if isinstance(error.response.data, dict) else status
                    log.error("slack: %s refused, not retried: %s", method, code)
                    raise DeliveryFailed(f"slack refused {method}: {code}") from error
            except (aiohttp.ClientError, TimeoutError) as error:
                reason, delay = f"{type(error).__name__}: {error}", self._backoff(attempt)
            if attempt == self._max_attempts:
                log.error("slack: %s FAILED after %d attempts (%s)", method, attempt, reason)
                raise DeliveryFailed(f"slack {method} failed after {attempt} attempts: {reason}")
            log.warning("slack: %s attempt %d failed (%s); retrying", method, attempt, reason)
            self.retries += 1
            if delay:
                await self._sleep(delay)
        raise AssertionError("unreachable")

    def _hold(self, method: str, seconds: float) -> None:
        self.rate_limited += 1
        until = self._clock() + seconds
        self._blocked_until[method] = max(until, self._blocked_until.get(method, 0.0))
        log.warning("slack: %s rate limited; holding it for %.1f s (Retry-After)", method, seconds)

    async def _wait_turn(self, method: str) -> None:
        """Wait out a ``Retry-After`` on ``method``; ``DeliveryDeferred`` when that is longer than ``max_wait_s``."""
        wait = self._blocked_until.get(method, 0.0) - self._clock()
        if wait <= 0:
            return
        if wait > self._max_wait_s:
            raise DeliveryDeferred(f"slack {method} is rate limited for {wait:.0f} s more")
        await self._sleep(wait)

    def _backoff(self, attempt: int) -> float:
        return min(self._backoff_s * 2 ** (attempt - 1), self._max_backoff_s) * random.uniform(0.8, 1.2)


def _retry_after(headers: Any) -> float:
    """Seconds from a ``Retry-After`` header (1 when absent or unreadable, as Slack's minimum)."""
    try:
        value = headers.get("Retry-After") or headers.get("retry-after")
        if isinstance(value, list):
            value = value[0]
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return 1.0
