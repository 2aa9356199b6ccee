"""``CountTurns``: the Prometheus counts of messages handled and replies by the policy's move."""

from __future__ import annotations

from typing import Any

from bot.messages import Message, Reply
from bot.metrics import Metrics
from bot.middleware.base import TurnHandler


class CountTurns:
    """Counts each message by channel, and its reply by move (``relayed to a human`` when the bot is silent)."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    async def __call__(self, handler: TurnHandler, message: Message, data: dict[str, Any]) -> Reply | None:
        channel = message.conversation.channel
        self._metrics.messages.labels(channel=channel).inc()
        reply = await handler(message, data)
        move = "relayed to a human" if reply is None else (reply.reason or "unknown").split(":", 1)[0]
        self._metrics.replies.labels(channel=channel, action=move).inc()
        return reply
