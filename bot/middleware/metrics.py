"""``CountTurns``: the Prometheus counts of messages handled, replies by the policy's move, escalations by reason and
each turn's time."""

from __future__ import annotations

import time
from typing import Any

from bot.messages import Message, Reply
from bot.metrics import Metrics
from bot.middleware.base import TurnHandler
from bot.policy import escalation_kind


class CountTurns:
    """Counts each message by channel, its reply by move (``relayed to a human`` when the bot is silent) and
    escalations by reason, and times the turn."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    async def __call__(self, handler: TurnHandler, message: Message, data: dict[str, Any]) -> Reply | None:
        channel = message.conversation.channel
        self._metrics.messages.labels(channel=channel).inc()
        started = time.perf_counter()
        reply = await handler(message, data)
        self._metrics.turn_seconds.labels(channel=channel).observe(time.perf_counter() - started)
        if reply is not None and reply.escalated:
            self._metrics.escalations.labels(channel=channel, reason=escalation_kind(reply.reason or "")).inc()
        move = "relayed to a human" if reply is None else (reply.reason or "unknown").split(":", 1)[0]
        self._metrics.replies.labels(channel=channel, action=move).inc()
        return reply
