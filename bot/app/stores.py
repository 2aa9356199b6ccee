"""The stateful parts of a bot from ``Settings``: the store (an SQLite file, or a Redis server: nothing on the bot's
own disk) and its desk, the durable inbox, the orders.

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
import importlib.util
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Union

from bot.actions.backends import HttpOrderBackend, SqliteOrderBackend, demo_orders_file
from bot.actions.base import OrderBackend
from bot.app.desk import WatcherFactory
from bot.config import Settings, is_redis_url
from bot.dialogue import Conversations
from bot.errors import ConfigError
from bot.handoff.base import Deliver, HandoffDesk
from bot.handoff.budget import SqliteTicketBudget, TicketBudget, TicketLimits
from bot.handoff.sqlite import SqliteDesk
from bot.handoff.watched import WatchedDesk
from bot.inbox.base import Inbox
from bot.inbox.sqlite import SqliteInbox
from bot.pipeline import Pipeline
from bot.sessions.base import SessionStore
from bot.sessions.sqlite import Database, SqliteSessionStore

if TYPE_CHECKING:
    from bot.inbox.redis import RedisInbox
    from bot.sessions.redis import RedisConnection

Connection = Union[Database, "RedisConnection"]
"""What a store runs on: an SQLite file or a Redis server; ``close`` releases it."""


log = logging.getLogger(__name__)

OUTBOX_STOP_S = 5.0
"""How long closing waits for the desk's outbox loop to stop."""


@dataclass
class Dialogue:
    """The opened stateful parts: the handler, the store, the desk and the order backend, with their lifetime."""

    conversations: Conversations
    store: SessionStore
    desk: HandoffDesk
    orders: OrderBackend
    db: Connection
    _outbox: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def pipeline(self) -> Pipeline:
        return self.conversations.pipeline

    async def store_problem(self, *, timeout_s: float = 2.0) -> str | None:
        """None when the store answers a trivial query within ``timeout_s``, else what went wrong (for ``/readyz``)."""
        return await ping(self.db, timeout_s=timeout_s)

    def start(self) -> None:
        """Deliver, from now on, the operator replies queued elsewhere (``kefu handoff reply``, a crash)."""
        if self._outbox is None:
            self._outbox = asyncio.create_task(self.desk.run_outbox())

    async def aclose(self) -> None:
        if self._outbox is not None:
            self._outbox.cancel()
            done, _ = await asyncio.wait({self._outbox}, timeout=OUTBOX_STOP_S)
            if not done:
                log.warning("the desk's outbox loop did not stop within %g s; leaving it", OUTBOX_STOP_S)
            elif not self._outbox.cancelled() and self._outbox.exception() is not None:
                log.warning("the desk's outbox loop ended with %r", self._outbox.exception())
        if isinstance(self.desk, WatchedDesk):
            await self.desk.aclose()
        await self.orders.close()
        await self.db.close()


async def open_store(
    settings: Settings, *, deliver: Deliver | None = None
) -> tuple[Connection, SessionStore, HandoffDesk]:
    """The store's connection (``settings.store_url``: SQLite or Redis), its session store and the built-in desk,
    ready; the desk hands operator replies to ``deliver`` (None: it only queues them, as ``kefu handoff reply``
    does). An unreachable Redis raises ``StoreUnavailable``, a malformed URL ``ConfigError``."""
    url = settings.store_url
    if is_redis_url(url):
        _need_redis()
        from bot.handoff.redis import RedisDesk
        from bot.sessions.redis import RedisConnection, RedisSessionStore

        connection = await RedisConnection.open(url)
        shared = RedisSessionStore(connection, history_turns=settings.store.history_turns)
        return connection, shared, RedisDesk(connection, shared, deliver=deliver, poll_s=settings.store.outbox_poll_s)
    db = await Database.open(url)
    store = SqliteSessionStore(db, history_turns=settings.store.history_turns)
    await store.setup()
    desk = SqliteDesk(db, store, deliver=deliver, poll_s=settings.store.outbox_poll_s)
    await desk.setup()
    return db, store, desk


async def open_inbox(settings: Settings) -> Inbox:
    """The runtime's durable inbox and reply outbox, on its own connection to the store (a delivered reply is
    recorded without queueing behind the sessions' reads, which keeps the window for a repeat short)."""
    url = settings.store_url
    inbox: RedisInbox | SqliteInbox
    if is_redis_url(url):
        _need_redis()
        from bot.inbox.redis import RedisInbox
        from bot.sessions.redis import RedisConnection

        inbox = RedisInbox(await RedisConnection.open(url), remember_s=settings.store.dedupe_window_s)
    else:
        inbox = SqliteInbox(await Database.open(url), remember_s=settings.store.dedupe_window_s)
    try:
        if isinstance(inbox, SqliteInbox):
            await inbox.setup()
        await inbox.prune(now=time.time())
    except BaseException:
        await inbox.close()
        raise
    return inbox


async def probe_store(settings: Settings) -> str:
    """Check that the configured store can be opened (before any model loads); what it is, for a log line.
    ``StoreUnavailable`` when a Redis server does not answer, ``ConfigError`` for a bad URL or path."""
    url = settings.store_url
    if is_redis_url(url):
        _need_redis()
        from bot.sessions.redis import RedisConnection

        connection = await RedisConnection.open(url)
        try:
            info = await connection.client.info("server")
        finally:
            await connection.close()
        return f"Redis {info.get('redis_version', '?')} at {connection.safe_url}"
    db = await Database.open(url)
    await db.close()
    return f"SQLite {db.path}"


async def ping(db: Connection, *, timeout_s: float = 2.0) -> str | None:
    """None when ``db`` (SQLite or Redis) answers a trivial query within ``timeout_s``, else the problem in words."""
    try:
        async with asyncio.timeout(timeout_s):
            if isinstance(db, Database):
                await db.fetch("SELECT 1")
            else:
                await db.client.ping()
    except TimeoutError:
        return f"the store did not answer within {timeout_s:g} s"
    except Exception as error:  # noqa: BLE001 - any client error means "not answering"; the words go to /readyz
        return f"the store does not answer: {error}"
    return None


async def open_budget(db: Connection, *, limits: TicketLimits) -> TicketBudget:
    """The web chat's ticket budget in the store (an SQLite table, or keys every worker shares on Redis)."""
    if isinstance(db, Database):
        budget = SqliteTicketBudget(db, limits)
        await budget.setup()
        return budget
    from bot.handoff.redis_budget import RedisTicketBudget

    return RedisTicketBudget(db, limits)


def _need_redis() -> None:
    """A Redis store URL needs redis-py: a clear configuration error where the extra is not installed."""
    if importlib.util.find_spec("redis") is None:
        raise ConfigError("KEFU_STORE__URL is a Redis URL but redis-py is not installed: pip install 'kefu[redis]'")


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
    shop = settings.shop
    shown: HandoffDesk = desk
    try:
        limits = TicketLimits(per_client=shop.tickets_per_client, window_s=shop.ticket_window_s)
        budget = await open_budget(db, limits=limits)
        if watcher is not None:
            shown = WatchedDesk(desk, watcher=await watcher(desk, db, built), follow_s=settings.store.outbox_poll_s)
    except BaseException:
        await orders.close()
        await db.close()
        raise
    conversations = Conversations(pipeline=built, store=store, desk=shown, ticket_budget=budget)
    return Dialogue(conversations, store, shown, orders, db)
