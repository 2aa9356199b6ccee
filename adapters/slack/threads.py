"""``JoinedThreads``: which channel threads the bot takes part in, so that a follow-up there without a mention is
answered and chatter in other threads is left alone.

A thread counts once the bot was mentioned in it or posted in it. That is remembered (bounded, newest kept); a
thread not remembered (after a restart, say) is looked up once with ``conversations.replies`` (the
``channels:history`` / ``groups:history`` scopes) and the answer kept, so each thread costs at most one call.
The look-up is bounded (1.5 s: the event is acknowledged after it); one that fails or times out leaves that
message unanswered and is tried again for the next.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bot.errors import KefuError

log = logging.getLogger(__name__)

Replies = Callable[[Mapping[str, str]], Awaitable[dict[str, Any]]]
"""``conversations.replies`` with these query parameters."""

DEFAULT_CAPACITY = 20_000
LOOKUP_TIMEOUT_S = 1.5
"""The look-up runs before the event is acknowledged, and Slack wants the ack within 3 s."""


class JoinedThreads:
    """``joined(channel, ts)`` notes a thread; ``await includes_bot(channel, ts)`` says whether the bot is in it."""

    def __init__(
        self,
        *,
        bot_user_id: str,
        bot_id: str | None,
        replies: Replies,
        capacity: int = DEFAULT_CAPACITY,
        timeout_s: float = LOOKUP_TIMEOUT_S,
    ):
        self._bot_user_id, self._bot_id = bot_user_id, bot_id
        self._timeout_s = timeout_s
        self._mention = f"<@{bot_user_id}"
        self._replies = replies
        self._capacity = capacity
        self._known: OrderedDict[tuple[str, str], bool] = OrderedDict()

    def joined(self, channel: str, thread_ts: str) -> None:
        """The bot was mentioned or posted in this thread."""
        self._remember((channel, thread_ts), True)

    async def includes_bot(self, channel: str, thread_ts: str) -> bool:
        """Whether the bot takes part in the thread; a thread not known is read once (False when that fails)."""
        key = (channel, thread_ts)
        known = self._known.get(key)
        if known is not None:
            self._known.move_to_end(key)
            return known
        try:
            async with asyncio.timeout(self._timeout_s):
                answer = await self._replies({"channel": channel, "ts": thread_ts, "limit": "200"})
        except (KefuError, TimeoutError) as error:
            log.warning(
                "slack: could not read thread %s in %s, so its message is not answered: %s", thread_ts, channel, error
            )
            return False
        found = any(self._is_bot_or_mention(m) for m in answer.get("messages") or [] if isinstance(m, dict))
        if key not in self._known:  # a mention handled meanwhile has the last word
            self._remember(key, found)
        return self._known.get(key, found)

    def _is_bot_or_mention(self, message: Mapping[str, Any]) -> bool:
        if message.get("user") == self._bot_user_id or (self._bot_id and message.get("bot_id") == self._bot_id):
            return True
        return self._mention in str(message.get("text") or "")

    def _remember(self, key: tuple[str, str], value: bool) -> None:
        self._known[key] = value
        self._known.move_to_end(key)
        while len(self._known) > self._capacity:
            self._known.popitem(last=False)
