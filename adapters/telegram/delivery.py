"""Outbound delivery: per-chat order, rate limits, and retries (429 ``retry_after``, 5xx, network errors).

Each job is a list of Bot API calls for one chat (the chunks of one reply). Jobs for one chat run one
after another in submission order; chats run concurrently. A call that still fails after the bounded
retries is logged as an error and raised to whoever awaits the job; nothing is dropped silently.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from adapters.telegram.ratelimit import RateLimiter, Sleep
from bot.errors import KefuError

log = logging.getLogger(__name__)

Call = Callable[[], Awaitable[Any]]


class DeliveryFailed(KefuError):
    """A message could not be delivered to Telegram after the adapter's retries."""


class Outbox:
    """Sends calls chat by chat, in order, within the rate limits, retrying what Telegram asks to retry."""

    def __init__(
        self,
        *,
        limiter: RateLimiter,
        max_attempts: int = 5,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._limiter = limiter
        self._max_attempts = max_attempts
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._sleep = sleep
        self._tails: dict[int, asyncio.Task[list[Any]]] = {}
        self.retries = 0
        """Calls retried so far (for tests and metrics)."""

    async def deliver(self, chat_id: int, calls: Sequence[Call], *, limited: bool = True) -> list[Any]:
        """Queue ``calls`` behind earlier jobs for ``chat_id`` and wait for them; raises ``DeliveryFailed``.

        Cancelling the caller does not cancel the job: it is delivered (or logged as failed) anyway.
        """
        return await asyncio.shield(self.submit(chat_id, calls, limited=limited))

    def submit(self, chat_id: int, calls: Sequence[Call], *, limited: bool = True) -> asyncio.Task[list[Any]]:
        """Queue ``calls`` for ``chat_id`` and return the job; a failure is logged even if nobody awaits it."""
        previous = self._tails.get(chat_id)
        job = asyncio.create_task(self._run(chat_id, list(calls), previous, limited))
        self._tails[chat_id] = job
        job.add_done_callback(lambda done: self._finished(chat_id, done))
        return job

    async def drain(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for queued jobs; log what is still pending after that."""
        pending = [job for job in self._tails.values() if not job.done()]
        if not pending:
            return
        _, still = await asyncio.wait(pending, timeout=timeout)
        if still:
            log.error("telegram: %d chats still had undelivered replies at shutdown", len(still))
            for job in still:
                job.cancel()

    def _finished(self, chat_id: int, job: asyncio.Task[list[Any]]) -> None:
        if self._tails.get(chat_id) is job:
            del self._tails[chat_id]
        if not job.cancelled():
            job.exception()  # mark as retrieved: every failure was already logged by _with_retries

    async def _run(
        self, chat_id: int, calls: list[Call], previous: asyncio.Task[Any] | None, limited: bool
    ) -> list[Any]:
        if previous is not None:
            await asyncio.wait([previous])
        results = []
        for call in calls:
            if limited:
                await self._limiter.acquire(chat_id)
            results.append(await self._with_retries(chat_id, call))
        return results

    async def _with_retries(self, chat_id: int, call: Call) -> Any:
        from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError

        for attempt in range(1, self._max_attempts + 1):
            try:
                return await call()
            except TelegramRetryAfter as error:
                delay = float(error.retry_after)
                reason = f"429 retry_after={error.retry_after}"
            except (TelegramServerError, TelegramNetworkError) as error:
                delay = min(self._backoff_s * 2 ** (attempt - 1), self._max_backoff_s) * random.uniform(0.8, 1.2)
                reason = f"{type(error).__name__}: {error.message}"
            except Exception as error:
                log.error("telegram: delivery to chat %s refused, not retried: %s", chat_id, error)
                raise DeliveryFailed(f"telegram refused a message to chat {chat_id}: {error}") from error
            if attempt == self._max_attempts:
                log.error("telegram: delivery to chat %s FAILED after %d attempts (%s)", chat_id, attempt, reason)
                raise DeliveryFailed(f"telegram delivery to chat {chat_id} failed after {attempt} attempts: {reason}")
            log.warning("telegram: chat %s attempt %d failed (%s); retrying in %.2f s", chat_id, attempt, reason, delay)
            self.retries += 1
            await self._sleep(delay)
        raise AssertionError("unreachable")
