"""Worker mode's two processes: ``KefuFront`` (``kefu run --role front``) and ``KefuWorker`` (``kefu worker``).

    front = KefuFront(settings)                       # no model: the channels, the HTTP server, delivery
    worker = KefuWorker(settings, components)         # the models and the stores; turns from the stream

Both need a Redis store (docs/scale.md). The front keeps each message on the stream before its platform is
acknowledged and delivers the replies the workers queue; it also hands the desk's operator replies (queued by
``kefu handoff reply``) to the courier, and shows the desk in the Slack hand-off channel when one is set. A front
and a worker serve ``/healthz``, ``/readyz`` and ``/metrics`` on ``KEFU_HTTP__PORT``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from functools import partial

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from adapters.base import Adapter, Dispatch
from bot.app.channels import build_adapters, configured_channels
from bot.app.components import Components
from bot.app.desk import desk_watcher, front_desk
from bot.app.pipeline import build_pipeline
from bot.app.stores import Connection, Dialogue, open_dialogue, open_store, ping
from bot.config import Settings, is_redis_url
from bot.delivery import Courier
from bot.errors import ConfigError
from bot.handoff.watched import WatchedDesk
from bot.inbox.stream import StreamInbox
from bot.metrics import Metrics
from bot.middleware import CountTurns, ShowTyping
from bot.outbound import Channels
from bot.server import http_server
from bot.sessions.redis import RedisConnection
from bot.turns import Turns
from bot.workers import Front, Leases, Worker
from bot.workers.alone import Alone
from bot.workers.typing import WorkingRelay

log = logging.getLogger(__name__)

POLLING_TAKEN = (
    "telegram: another front polls this bot already (long polling allows one process per token; Telegram answers "
    "409 Conflict to a second one), so this front does not poll; it stays not ready and takes over polling if that "
    "front stops. Several fronts need webhooks: KEFU_TELEGRAM__MODE=webhook (docs/scale.md)"
)

STORE_AWAY = (RedisConnectionError, RedisTimeoutError)
"""A turn that meets these (Redis restarting) is tried again by its worker, not answered with an apology."""


def need_redis(settings: Settings, role: str) -> None:
    """Worker mode shares the stream on Redis: a clear configuration error on any other store."""
    if not is_redis_url(settings.store_url):
        raise ConfigError(f"{role} needs a Redis store: set KEFU_STORE__URL=redis://host:port/db (docs/scale.md)")


async def open_stream(settings: Settings) -> StreamInbox:
    stream = StreamInbox(await RedisConnection.open(settings.store_url), remember_s=settings.store.dedupe_window_s)
    try:
        await stream.join_group()
        await stream.prune(now=time.time())
    except BaseException:
        await stream.close()
        raise
    return stream


def worker_name(settings: Settings) -> str:
    """The configured name, else ``<host>-<pid>`` (unique on a machine and across machines)."""
    return settings.workers.name or f"{socket.gethostname()}-{os.getpid()}"


class KefuFront:
    """The channels and the HTTP server over the stream: accept, acknowledge, deliver; no turn runs here."""

    def __init__(self, settings: Settings, *, serve_http: bool = True) -> None:
        need_redis(settings, "kefu run --role front")
        self.settings = settings
        self.metrics = Metrics()
        self.adapters = build_adapters(
            settings,
            configured_channels(settings),
            speech=True,  # the workers hear voice notes; the front only keeps them
            vision=settings.vision.backend != "off",
            metrics=self.metrics,
        )
        self.channels = Channels()
        for adapter in self.adapters:
            self.channels.add(adapter, live=False)
        self._shown = desk_watcher(settings, self.adapters)
        self._follower: WatchedDesk | None = None
        routes = [route for adapter in self.adapters for route in adapter.routes()]
        self.front: Front | None = None
        self._poller: Alone | None = None
        self._desk: tuple[Connection, asyncio.Task[None]] | None = None
        self.http = (
            http_server(routes, settings.http, metrics=self.metrics, health=self.health, ready=self.ready)
            if serve_http
            else None
        )

    async def health(self) -> dict[str, object]:
        front = self.front
        return {
            "ok": True,
            "role": "front",
            "channels": [adapter.name for adapter in self.adapters],
            "accepted": front.accepted if front else 0,
            "failed_deliveries": front.courier.failed if front else 0,
        }

    async def ready(self) -> dict[str, object]:
        """``/readyz``: ready once every channel is live while the Redis store answers."""
        if self._poller is not None and self._poller.waiting:
            return {"ready": False, "role": "front", "reason": self._poller.waiting}
        if self._desk is None or not all(self.channels.is_live(a.name) for a in self.adapters):
            return {"ready": False, "role": "front", "reason": "starting the channels"}
        problem = await ping(self._desk[0])
        return {"ready": problem is None, "role": "front", "store": problem or "answering"}

    async def start(self) -> None:
        stream = await open_stream(self.settings)
        deliveries = Leases(
            stream.connection, owner=worker_name(self.settings), lease_s=self.settings.workers.lease_s, kind="delivery"
        )
        courier = Courier(stream, self.channels, leases=deliveries, announce=stream.announce)
        largest = max(self.settings.speech.max_bytes, self.settings.vision.max_bytes)
        self.front = Front(stream, courier, outbound=self.channels, max_attachment_bytes=largest)
        db, _, desk = await open_store(self.settings, deliver=courier.deliver)
        if self._shown is not None:  # the Slack hand-off channel runs here, where Slack's events arrive
            desk = self._follower = await front_desk(
                self._shown,
                desk,
                db,
                owner=worker_name(self.settings),
                lease_s=self.settings.workers.lease_s,
                follow_s=self.settings.store.outbox_poll_s,
            )
        self._desk = (db, asyncio.create_task(desk.run_outbox()))
        await self.front.start()
        if self.http is not None:
            await self.http.start()
        for adapter in self.adapters:
            if adapter.name == "telegram" and self.settings.telegram.mode == "polling":
                pollers = Leases(
                    stream.connection,
                    owner=worker_name(self.settings),
                    lease_s=self.settings.workers.lease_s,
                    kind="poller",
                )
                start = partial(self._start_channel, adapter, self.front.dispatch)
                stop = partial(self._stop_channel, adapter)
                self._poller = Alone(pollers, "telegram", start=start, stop=stop, waiting=POLLING_TAKEN)
                await self._poller.begin()
            else:
                await self._start_channel(adapter, self.front.dispatch)
        where = f" on {self.http.url}" if self.http else ""
        log.info(
            "kefu front is serving %s%s (turns run in `kefu worker`)", ", ".join(a.name for a in self.adapters), where
        )

    async def _start_channel(self, adapter: Adapter, dispatch: Dispatch) -> None:
        await adapter.start(dispatch)
        self.channels.go_live(adapter.name)

    async def _stop_channel(self, adapter: Adapter) -> None:
        self.channels.go_down(adapter.name)
        await adapter.stop()

    async def stop(self) -> None:
        if self._poller is not None:
            await self._poller.end()
        for adapter in self.adapters:
            await adapter.stop()
        if self.front is not None:
            await self.front.stop()
            await self.front.stream.close()
        if self._desk is not None:
            db, outbox = self._desk
            outbox.cancel()
            await asyncio.wait({outbox}, timeout=5.0)
            if self._follower is not None:
                await self._follower.aclose()
            await db.close()
        if self.http is not None:
            await self.http.stop()
        log.info("kefu front stopped after accepting %d messages", self.front.accepted if self.front else 0)


class KefuWorker:
    """One worker: the pipeline, the stores, and the loop over the stream's consumer group."""

    @staticmethod
    def check(settings: Settings) -> None:
        """``ConfigError`` unless the settings can run a worker (before any model loads)."""
        need_redis(settings, "kefu worker")

    def __init__(self, settings: Settings, components: Components, *, serve_http: bool = True) -> None:
        need_redis(settings, "kefu worker")
        self.settings = settings
        self.components = components
        self.name = worker_name(settings)
        self.metrics = Metrics()
        self.worker: Worker | None = None
        self.dialogue: Dialogue | None = None
        self._stream: StreamInbox | None = None
        self._task: asyncio.Task[None] | None = None
        self.http = (
            http_server([], settings.http, metrics=self.metrics, health=self.health, ready=self.ready)
            if serve_http
            else None
        )

    async def health(self) -> dict[str, object]:
        worker = self.worker
        running = self._task is not None and not self._task.done()
        return {
            "ok": running,
            "role": "worker",
            "worker": self.name,
            "turns": worker.stats.turns if worker else 0,
            "failed_turns": worker.turns.failed if worker else 0,
            "claimed": worker.stats.claimed if worker else 0,
        }

    async def ready(self) -> dict[str, object]:
        """``/readyz``: ready while the worker's loop runs (models loaded) and the Redis store answers."""
        if self._task is None or self._task.done() or self.dialogue is None:
            return {"ready": False, "role": "worker", "reason": "not consuming the stream"}
        problem = await self.dialogue.store_problem()
        return {"ready": problem is None, "role": "worker", "store": problem or "answering"}

    async def start(self) -> None:
        stream = self._stream = await open_stream(self.settings)
        try:
            dialogue = self.dialogue = await open_dialogue(
                self.settings,
                pipeline=lambda orders: build_pipeline(
                    self.settings, self.components, orders=orders, metrics=self.metrics
                ),
            )
        except BaseException:
            await stream.close()
            raise
        options, workers = self.settings.pipeline, self.settings.workers
        turns = Turns(
            dialogue.conversations.handle,
            inbox=stream,
            outbound=Channels(),  # a worker sends nothing itself: the front delivers
            middlewares=[
                CountTurns(self.metrics),
                ShowTyping(WorkingRelay(stream), quiet=dialogue.conversations.operator_owns),
            ],
            timeout_s=options.turn_timeout_s,
            store_errors=STORE_AWAY,
        )
        self.worker = Worker(
            stream,
            turns,
            Leases(stream.connection, owner=self.name, lease_s=workers.lease_s),
            name=self.name,
            metrics=self.metrics,
            lanes=workers.lanes,
            concurrency=options.concurrency,
            claim_after_s=workers.claim_after_s,
        )
        self._task = asyncio.create_task(self.worker.run())
        if self.http is not None:
            await self.http.start()
        log.info("kefu worker %s is answering the stream", self.name)

    async def stop(self) -> None:
        """Finish the running turns (``workers.drain_timeout_s``), hand the rest back, close everything."""
        if self.worker is not None and self._task is not None:
            await self.worker.stop(drain_timeout_s=self.settings.workers.drain_timeout_s)
            await asyncio.wait({self._task}, timeout=5.0)
        if self.dialogue is not None:
            await self.dialogue.aclose()
            await self.dialogue.pipeline.engines.aclose()
        if self._stream is not None:
            await self._stream.close()
        await self.components.generator.close()
        if self.http is not None:
            await self.http.stop()
        log.info("kefu worker %s stopped after %d turns", self.name, self.worker.stats.turns if self.worker else 0)
