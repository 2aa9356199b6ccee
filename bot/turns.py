"""One turn, start to record: the middlewares and the handler under a timeout, then the answer recorded in the inbox.

``Runtime`` (one process) and ``bot.workers.Worker`` (several processes on a Redis Stream) both run turns
through this, so a turn fails, times out, apologises and records its answer the same way in either.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from bot.errors import StageTimeout
from bot.fencing import LeaseLost
from bot.generation.templates import say
from bot.inbox.base import STORE_CALL_S, Inbox
from bot.language import detect_language
from bot.messages import Message, Reply
from bot.middleware import Middleware, chain
from bot.outbound import Outbound

COMPLETE_RETRIES_S = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0)
"""Pauses between tries to record a turn's answer when the store fails (about a minute in all)."""

log = logging.getLogger(__name__)

Handler = Callable[[Message], Awaitable[Reply | None]]
"""Answers a message; None means no bot reply (a human operator owns the conversation)."""


class Turns:
    """Answers a message through the middlewares and the handler, and records the answer; counts both outcomes."""

    def __init__(
        self,
        handler: Handler,
        *,
        inbox: Inbox,
        outbound: Outbound,
        middlewares: Sequence[Middleware] = (),
        timeout_s: float = 60.0,
        retries_s: Sequence[float] = COMPLETE_RETRIES_S,
        store_errors: tuple[type[Exception], ...] = (),
    ) -> None:
        self.inbox = inbox
        self.outbound = outbound
        self._turn = chain(lambda message, data: handler(message), middlewares)
        self.timeout_s = timeout_s
        self.retries_s = tuple(retries_s)
        self.store_errors = store_errors
        """Errors that mean the store is away for a moment (a Redis server restarting): ``answer`` lets them through,
        so the caller tries the message again instead of sending an apology."""
        self.done = 0
        self.failed = 0

    async def answer(self, message: Message) -> Reply | None:
        """The handler's reply; an apology when the turn fails or times out (logged and counted). ``LeaseLost`` and
        the ``store_errors`` are raised instead."""
        try:
            reply = await asyncio.wait_for(self._turn(message, {"outbound": self.outbound}), self.timeout_s)
        except (TimeoutError, StageTimeout) as error:
            log.error("turn in %s timed out: %s", message.conversation, error or "turn timeout")
            self.failed += 1
            return self.apology(message)
        except Exception as error:
            if isinstance(error, (LeaseLost, self.store_errors)):
                raise
            log.exception("turn in %s failed", message.conversation)
            self.failed += 1
            return self.apology(message)
        self.done += 1
        return reply

    async def record(self, seq: int, message: Message, reply: Reply | None) -> bool:
        """Record the answer (``complete``); a store that fails (a Redis server restarting) is tried again for about a
        minute (``complete`` is idempotent per message). False when it is not recorded: the message waits for the
        next start, or (``LeaseLost``) another worker answers it."""
        for pause in (*self.retries_s, None):
            try:
                async with asyncio.timeout(STORE_CALL_S):  # a hung call is tried again like a failed one
                    await self.inbox.complete(seq, message.conversation, reply)
                return True
            except LeaseLost as lost:
                log.warning("the answer to a message in %s is not recorded: %s", message.conversation, lost)
                return False
            except Exception:
                if pause is None:
                    log.exception(
                        "could not record the answer to a message in %s; it is answered again at the next start",
                        message.conversation,
                    )
                    return False
                log.warning(
                    "could not record the answer to a message in %s; trying again in %g s",
                    message.conversation,
                    pause,
                    exc_info=True,
                )
                await asyncio.sleep(pause)
        return False

    @staticmethod
    def apology(message: Message) -> Reply:
        language = detect_language(message.text, hint=message.language_hint)
        return Reply(text=say("internal_error", language), language=language, reason="internal error")
