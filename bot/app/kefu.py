"""A running bot: the channels, the runtime over the durable inbox, the conversations and the one HTTP server."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from adapters.feedback import Feedback
from bot.app.channels import build_adapters, configured_channels
from bot.app.components import Components
from bot.app.desk import desk_watcher
from bot.app.pipeline import build_pipeline
from bot.app.stores import Dialogue, open_dialogue, open_inbox
from bot.config import Settings
from bot.delivery import Courier
from bot.insights.aggregate import SqliteInsights
from bot.insights.grouping import RememberingEncoder
from bot.insights.ops import OpsPage
from bot.metrics import Metrics
from bot.middleware import CountTurns, ShowTyping
from bot.outbound import Channels
from bot.pipeline import Pipeline
from bot.runtime import Runtime
from bot.server import HttpServer, http_server
from bot.sessions.sqlite import Database, SqliteSessionStore

log = logging.getLogger(__name__)


class Kefu:
    """A running bot: the runtime, the pipeline, the channels and the one HTTP server.

    Built in order, nothing joined afterwards: the channels (checked) and the server at construction; at ``start``
    the inbox, the courier over it and the channels, the conversations (their desk delivers through the courier,
    and is shown in the Slack hand-off channel when one is configured), then the runtime over all of them.
    """

    def __init__(
        self,
        settings: Settings,
        components: Components,
        *,
        channels: Sequence[str] | None = None,
        serve_http: bool = True,
    ) -> None:
        self.settings = settings
        self.components = components
        self.metrics = Metrics()
        self.dialogue: Dialogue | None = None
        self._runtime: Runtime | None = None
        self._serving = False
        """Every channel started: ``/readyz`` may say ready (the server starts before the channels)."""
        self._stopping = False
        self.adapters = build_adapters(
            settings,
            channels or configured_channels(settings),
            speech=components.transcriber is not None,
            vision=components.describer is not None,
            metrics=self.metrics,
            on_feedback=self.record_feedback,
        )
        self._desk_watcher = desk_watcher(settings, self.adapters)
        self.channels = Channels()
        for adapter in self.adapters:
            self.channels.add(adapter, live=False)
        routes = [route for adapter in self.adapters for route in adapter.routes()]
        if settings.ops.token is not None:
            encoder = RememberingEncoder(components.encoder)
            routes += OpsPage(
                token=settings.ops.token.get_secret_value(),
                insights=lambda: (
                    SqliteInsights(self.dialogue.db, encoder=encoder)
                    if self.dialogue and isinstance(self.dialogue.db, Database)
                    else None
                ),
                default_period=settings.ops.default_period,
            ).routes()
        self.http: HttpServer | None = None
        if serve_http:
            self.http = http_server(routes, settings.http, metrics=self.metrics, health=self.health, ready=self.ready)

    @property
    def runtime(self) -> Runtime:
        """The runtime, built by ``start`` over the store's durable inbox."""
        if self._runtime is None:
            raise RuntimeError("the bot is not started")
        return self._runtime

    @property
    def pipeline(self) -> Pipeline:
        """The pipeline, built by ``start`` with the order backend's actions."""
        if self.dialogue is None:
            raise RuntimeError("the bot is not started")
        return self.dialogue.pipeline

    async def record_feedback(self, feedback: Feedback) -> None:
        """Count a shopper's 👍/👎 (metrics) and keep it with the turn it rates (insights)."""
        await self.metrics.record_feedback(feedback)
        if self.dialogue is not None and isinstance(self.dialogue.store, SqliteSessionStore):
            kept = await self.dialogue.store.rate(
                str(feedback.conversation), feedback.reply_text, helpful=feedback.helpful
            )
            if not kept:
                log.info("feedback in %s: no turn on record to rate", feedback.conversation)

    async def health(self) -> dict[str, object]:
        runtime = self._runtime
        return {
            "ok": True,
            "channels": [adapter.name for adapter in self.adapters],
            "turns": runtime.turns_done if runtime else 0,
            "failed_turns": runtime.turns_failed if runtime else 0,
            "failed_deliveries": runtime.deliveries_failed if runtime else 0,
        }

    async def ready(self) -> dict[str, object]:
        """``/readyz``: ready once started (models loaded, channels live) while the store answers, until ``stop``."""
        if self._stopping:
            return {"ready": False, "models": "loaded", "store": "closing", "reason": "stopping"}
        if not self._serving or self.dialogue is None:
            store = "opened" if self.dialogue is not None else "not opened"
            return {"ready": False, "models": "loaded", "store": store, "reason": "starting the channels"}
        problem = await self.dialogue.store_problem()
        status: dict[str, object] = {"ready": problem is None, "models": "loaded", "store": problem or "answering"}
        if problem is not None:
            status["reason"] = problem
        return status

    async def start(self) -> None:
        """Open the inbox, store, desk and order backend, take up what the last run left unanswered, then the server
        and every channel."""
        inbox = await open_inbox(self.settings)
        courier = Courier(inbox, self.channels, observer=self.metrics.observe_stage)
        try:
            dialogue = self.dialogue = await open_dialogue(
                self.settings,
                pipeline=lambda orders: build_pipeline(
                    self.settings, self.components, orders=orders, metrics=self.metrics
                ),
                deliver=courier.deliver,
                watcher=self._desk_watcher,
            )
        except BaseException:
            await inbox.close()
            raise
        options = self.settings.pipeline
        self._runtime = Runtime(
            dialogue.conversations.handle,
            outbound=self.channels,
            inbox=inbox,
            courier=courier,
            middlewares=[
                CountTurns(self.metrics),
                ShowTyping(self.channels, quiet=dialogue.conversations.operator_owns),
            ],
            concurrency=options.concurrency,
            queue_size=options.queue_size,
            turn_timeout_s=options.turn_timeout_s,
        )
        await self._runtime.resume()
        dialogue.start()
        if self.http is not None:
            await self.http.start()
        for adapter in self.adapters:
            await adapter.start(self._runtime.dispatch)
            self.channels.go_live(adapter.name)
        self._serving = True
        where = f" on {self.http.url}" if self.http else ""
        log.info("kefu is serving %s%s", ", ".join(a.name for a in self.adapters), where)

    async def stop(self) -> None:
        """Answer what is queued, then close the channels, the stores, the engines' threads and the server."""
        runtime, dialogue = self._runtime, self.dialogue
        self._stopping = True
        if runtime is not None:
            await runtime.stop()
        for adapter in self.adapters:
            await adapter.stop()
        if dialogue is not None:
            await dialogue.aclose()
            await dialogue.pipeline.engines.aclose()
        if runtime is not None:
            await runtime.inbox.close()
        await self.components.generator.close()
        if self.http is not None:
            await self.http.stop()
        log.info("kefu stopped after %d turns", runtime.turns_done if runtime else 0)
