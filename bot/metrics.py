"""Prometheus metrics of one running bot, in their own registry (so several bots can live in one process)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

if TYPE_CHECKING:
    from bot.batching import MicroBatcher

log = logging.getLogger(__name__)

STAGE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """Counters and histograms the pipeline and runtime update; ``render`` serves ``/metrics``."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.stage_seconds = Histogram(
            "kefu_stage_seconds", "Time per pipeline stage.", ["stage"], registry=self.registry, buckets=STAGE_BUCKETS
        )
        self.messages = Counter(
            "kefu_messages",
            "Inbound messages handled (a redelivery is not counted).",
            ["channel"],
            registry=self.registry,
        )
        self.replies = Counter(
            "kefu_replies", "Replies sent, by policy action.", ["channel", "action"], registry=self.registry
        )
        self.escalations = Counter(
            "kefu_escalations",
            "Turns handed to a person, by the policy's reason (bot.policy.ESCALATION_KINDS).",
            ["channel", "reason"],
            registry=self.registry,
        )
        self.turn_seconds = Histogram(
            "kefu_turn_seconds",
            "Time from a turn's start to its reply (every stage and the store), by channel.",
            ["channel"],
            registry=self.registry,
            buckets=STAGE_BUCKETS,
        )
        self.feedback = Counter(
            "kefu_feedback", 'Shoppers\' answers to "was this helpful?".', ["channel", "vote"], registry=self.registry
        )
        # worker mode (docs/scale.md): the inbound stream as a worker sees it, and what each worker did
        self.stream_lag = Gauge(
            "kefu_stream_lag", "Inbound stream entries no worker has read yet.", registry=self.registry
        )
        self.stream_pending = Gauge(
            "kefu_stream_pending",
            "Inbound stream entries read by a worker and not yet answered.",
            registry=self.registry,
        )
        self.stream_claims = Counter(
            "kefu_stream_claims", "Idle stream entries this worker took over (XAUTOCLAIM).", registry=self.registry
        )
        self.worker_turns = Counter(
            "kefu_worker_turns", "Turns answered and recorded, per worker.", ["worker"], registry=self.registry
        )

        self._batches: _BatchCollector | None = None

    def watch_batches(self, batchers: Iterable[MicroBatcher[Any, Any]]) -> None:
        """Export each micro-batcher's engine calls and the items they carried (``kefu_batch_items_total`` over
        ``kefu_batch_calls_total`` is the mean batch: what batching buys, and how it changes with more workers)."""
        if self._batches is None:
            self._batches = _BatchCollector()
            self.registry.register(self._batches)
        self._batches.batchers.extend(batchers)

    async def record_feedback(self, feedback: Any) -> None:
        """Count a shopper's 👍/👎 under a reply (anything with ``conversation`` and ``helpful``)."""
        vote = "helpful" if feedback.helpful else "unhelpful"
        self.feedback.labels(channel=feedback.conversation.channel, vote=vote).inc()
        log.info("feedback in %s: %s", feedback.conversation, vote)

    def observe_stage(self, stage: str, seconds: float) -> None:
        """One stage's time: the pipeline's (understand, embed, intent, retrieve, decide, …), ``speech``, ``vision``
        (inside understand) and the courier's ``delivery``."""
        self.stage_seconds.labels(stage=stage).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _BatchCollector:
    """Reads the batchers' counters at each scrape, so the hot path pays nothing."""

    def __init__(self) -> None:
        self.batchers: list[MicroBatcher[Any, Any]] = []

    def collect(self) -> Iterator[CounterMetricFamily]:
        calls: dict[str, int] = {}
        items: dict[str, int] = {}
        for batcher in self.batchers:  # two pipelines in one process add up under one engine name
            calls[batcher.name] = calls.get(batcher.name, 0) + batcher.stats.batches
            items[batcher.name] = items.get(batcher.name, 0) + batcher.stats.items
        call_family = CounterMetricFamily(
            "kefu_batch_calls", "Engine calls made by each micro-batcher.", labels=["engine"]
        )
        item_family = CounterMetricFamily(
            "kefu_batch_items", "Items those calls carried (over calls: the mean batch).", labels=["engine"]
        )
        for name in calls:
            call_family.add_metric([name], calls[name])
            item_family.add_metric([name], items[name])
        yield call_family
        yield item_family
