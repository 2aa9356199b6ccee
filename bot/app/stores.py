"""The stateful parts of a bot from ``Settings``: the SQLite store and its desk, the durable inbox, the orders.

    inbox = await open_inbox(settings)
    courier = Courier(inbox, channels)
    dialogue = await open_dialogue(settings, pipeline=lambda orders: build_pipeline(..., orders=orders),
                                   deliver=courier.deliver)     # operator replies reach shoppers
    runtime = Runtime(dialogue.conversations.handle, outbound=channels, inbox=inbox, courier=courier)
    dialogue.start()                                            # replies queued by `kefu handoff reply`
    ...
    await dialogue.aclose()
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.actions.backends import HttpOrderBackend, SqliteOrderBackend, demo_orders_file
from bot.actions.base import OrderBackend
from bot.app.desk import WatcherFactory
from bot.config import Settings
from bot.dialogue import Conversations
from bot.errors import ConfigError
from bot.handoff.base import Deliver, HandoffDesk
from bot.handoff.sqlite import SqliteDesk
from bot.handoff.watched import WatchedDesk
from bot.inbox.sqlite import SqliteInbox
from bot.pipeline import Pipeline
from bot.sessions.base import SessionStore
from bot.sessions.sqlite import Database, SqliteSessionStore


@dataclass
class Dialogue:
    """The opened stateful parts: the handler, the store, the desk and the order backend, with their lifetime."""

    conversations: Conversations
    store: SessionStore
    desk: HandoffDesk
    orders: OrderBackend
    db: Database
    _outbox: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def pipeline(self) -> Pipeline:
        return self.conversations.pipeline

    def start(self) -> None:
        """Deliver, from now on, the operator replies queued elsewhere (``kefu handoff reply``, a crash)."""
        if self._outbox is None:
            self._outbox = asyncio.create_task(self.desk.run_outbox())

    async def aclose(self) -> None:
        if self._outbox is not None:
            self._outbox.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._outbox
        if isinstance(self.desk, WatchedDesk):
            await self.desk.aclose()
        await self.orders.close()
        await self.db.close()


async def open_store(
    settings: Settings, *, deliver: Deliver | None = None
) -> tuple[Database, SqliteSessionStore, SqliteDesk]:
    """The store's database (``settings.store_url``), its session store and the built-in desk, tables created;
    the desk hands operator replies to ``deliver`` (None: it only queues them, as ``kefu handoff reply`` does)."""
    db = await Database.open(settings.store_url)
    store = SqliteSessionStore(db, history_turns=settings.store.history_turns)
    await store.setup()
    desk = SqliteDesk(db, store, deliver=deliver, poll_s=settings.store.outbox_poll_s)
    await desk.setup()
    return db, store, desk


async def open_inbox(settings: Settings) -> SqliteInbox:
    """The runtime's durable inbox and reply outbox: the store's file on its own connection (a delivered reply is
    recorded without queueing behind the sessions' reads, which keeps the window for a repeat short)."""
    inbox = SqliteInbox(await Database.open(settings.store_url), remember_s=settings.store.dedupe_window_s)
    try:
        await inbox.setup()
        await inbox.prune(now=time.time())
    except BaseException:
        await inbox.close()
        raise
    return inbox


DEMO_ORDERS_DB = "demo-orders.sqlite3"
"""The demo order backend's own file under the data dir: the shop's order data, apart from kefu's conversation store."""


async def open_orders(settings: Settings) -> OrderBackend:
    """The configured order backend: the demo SQLite orders (seeded from ``store.orders_file``) or the HTTP API."""
    options = settings.store
    if options.order_backend == "http":
        if not options.orders_url:
            raise ConfigError("store.order_backend = 'http' needs KEFU_STORE__ORDERS_URL")
        return HttpOrderBackend(options.orders_url)
    backend = SqliteOrderBackend(await Database.open(settings.data_dir / DEMO_ORDERS_DB))
    try:
        await backend.setup(seed=options.orders_file or demo_orders_file())
    except BaseException:
        await backend.close()
        raise
    return backend


async def open_dialogue(
    settings: Settings,
    *,
    pipeline: Callable[[OrderBackend], Pipeline],
    deliver: Deliver | None = None,
    watcher: WatcherFactory | None = None,
) -> Dialogue:
    """Open the order backend, then build the pipeline with its actions over it (``pipeline(orders)``), then the
    store and the desk (operator replies go to ``deliver``; shown elsewhere by ``watcher``'s watcher, the Slack
    hand-off channel) and the conversations over them.

    The caller owns the returned ``Dialogue``: it calls ``start`` once the runtime delivers, and ``aclose`` at the
    end (the pipeline's engines are the caller's to close).
    """
    orders = await open_orders(settings)
    try:
        db, store, desk = await open_store(settings, deliver=deliver)
    except BaseException:
        await orders.close()
        raise
    built = pipeline(orders)
    shown: HandoffDesk = desk
    if watcher is not None:
        try:
            shown = WatchedDesk(desk, watcher=await watcher(desk, db, built))
        except BaseException:
            await orders.close()
            await db.close()
            raise
    conversations = Conversations(pipeline=built, store=store, desk=shown)
    return Dialogue(conversations, store, shown, orders, db)
