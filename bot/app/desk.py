"""Which hand-off desk: the built-in desk (``kefu handoff``) on the SQLite or Redis store, shown in a Slack channel
when ``KEFU_SLACK__HANDOFF_CHANNEL`` is set and the Slack channel runs (by ``kefu run``, or in worker mode by the
front, which receives Slack's events)."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from adapters.base import Adapter
from bot.config import Settings
from bot.errors import ConfigError
from bot.fencing import Fence
from bot.handoff.base import HandoffDesk, Ticket, TicketLinks, TicketMessage
from bot.handoff.links import SqliteTicketLinks
from bot.handoff.watched import DeskWatcher, WatchedDesk
from bot.pipeline import Pipeline
from bot.sessions.base import Turn
from bot.sessions.sqlite import Database

if TYPE_CHECKING:
    from bot.sessions.redis import RedisConnection
    from bot.workers.leases import Leases

log = logging.getLogger(__name__)

WatcherFactory = Callable[[HandoffDesk, "Database | RedisConnection", Pipeline | None], Awaitable[DeskWatcher]]
"""Builds the watcher of the desk of record, over the store's connection and with the pipeline (agent assist);
without one (worker mode's front) the watcher suggests nothing and follows the messages the workers add."""

_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
_OPERATOR_ID = re.compile(r"^[UWS][A-Z0-9]{2,}$")


def desk_watcher(settings: Settings, adapters: Sequence[Adapter]) -> WatcherFactory | None:
    """The Slack desk's factory when ``slack.handoff_channel`` is set (checked: a channel id and operators), None
    for the built-in desk alone; a hand-off channel without the Slack channel running is logged and ignored."""
    options = settings.slack
    channel = options.handoff_channel
    if not channel:
        return None
    if not _CHANNEL_ID.match(channel):
        raise ConfigError(
            f"KEFU_SLACK__HANDOFF_CHANNEL must be a channel id such as C0123ABCD, not {channel!r} "
            "(channel details → About → Channel ID)"
        )
    bad = [o for o in options.operators if not _OPERATOR_ID.match(o)]
    if not options.operators or bad:
        raise ConfigError(
            "KEFU_SLACK__OPERATORS must list the user ids (U…) or user-group ids (S…) who may take "
            f"over tickets, comma-separated; got {options.operators or 'nothing'}"
        )
    slack = next((a for a in adapters if a.name == "slack"), None)
    if slack is None:
        log.warning(
            "KEFU_SLACK__HANDOFF_CHANNEL is set but the slack channel is not running; tickets stay on "
            "the built-in desk (kefu handoff)"
        )
        return None

    async def build(
        desk: HandoffDesk, connection: Database | RedisConnection, pipeline: Pipeline | None
    ) -> DeskWatcher:
        from adapters.slack import SlackAdapter
        from adapters.slack.desk import SlackDeskFront

        assert isinstance(slack, SlackAdapter)
        links = await ticket_links(connection, desk="slack")
        return SlackDeskFront(
            slack,
            desk=desk,
            links=links,
            channel=channel,
            operators=options.operators,
            suggest=None if pipeline is None else pipeline.suggest,
            follow_posts=pipeline is None,
        )

    return build


async def ticket_links(connection: Database | RedisConnection, *, desk: str) -> TicketLinks:
    """Where ``desk`` shows its tickets, kept in the store beside them: SQLite tables or Redis keys."""
    if isinstance(connection, Database):
        links = SqliteTicketLinks(connection, desk=desk)
        await links.setup()
        return links
    from bot.handoff.redis_links import RedisTicketLinks

    return RedisTicketLinks(connection, desk=desk)


FOLLOWER = "slack-desk"
"""The lease held by the one front that catches the Slack desk up (``OneFollower``)."""


class OneFollower:
    """A ``DeskWatcher`` whose ``resync`` runs in one process of several (worker mode's fronts on one database) while
    it holds the lease ``FOLLOWER``, so no two post one ticket's message or thread post; the holder renews it at each
    look and gives it up when it stops (one that dies lets it run out), and another front follows. The other calls
    (operators' moves made through this process) go to ``inner`` in every process."""

    def __init__(self, inner: DeskWatcher, leases: Leases) -> None:
        self.inner = inner
        self.leases = leases
        self._fence: Fence | None = None

    async def opened(self, ticket: Ticket, transcript: Sequence[Turn]) -> None:
        await self.inner.opened(ticket, transcript)

    async def posted(self, ticket: Ticket, message: TicketMessage, *, key: str | None = None) -> None:
        await self.inner.posted(ticket, message, key=key)

    async def changed(self, ticket: Ticket) -> None:
        await self.inner.changed(ticket)

    async def resync(self, desk: HandoffDesk) -> None:
        if await self._holding():
            await self.inner.resync(desk)

    async def aclose(self) -> None:
        """Close ``inner`` and give the lease up, so another front follows at once."""
        await self.inner.aclose()
        fence, self._fence = self._fence, None
        if fence is not None:
            try:
                await self.leases.release(fence)
            except Exception as error:  # noqa: BLE001 - Redis gone: the lease runs out instead
                log.warning("slack desk: the follower's lease was not given up (%s); it runs out", error)

    async def _holding(self) -> bool:
        """Whether this process holds the lease now: renewed if it held it, else taken if it is free."""
        if self._fence is not None and not await self.leases.renew([self._fence]):
            return True
        self._fence = await self.leases.acquire(FOLLOWER)
        if self._fence is not None:
            log.info("slack desk: this front now follows the desk (lease %s)", FOLLOWER)
        return self._fence is not None


async def front_desk(
    build: WatcherFactory,
    desk: HandoffDesk,
    db: Database | RedisConnection,
    *,
    owner: str,
    lease_s: float,
    follow_s: float,
) -> WatchedDesk:
    """Worker mode's front: ``desk`` shown by ``build``'s watcher, without agent assist (no pipeline there), caught
    up every ``follow_s`` by one front at a time (``OneFollower``, lease ``follower:slack-desk`` of ``lease_s``,
    at least three looks)."""
    from bot.sessions.redis import RedisConnection
    from bot.workers.leases import Leases

    if not isinstance(db, RedisConnection):
        raise ConfigError("worker mode's front needs a Redis store (docs/scale.md)")
    leases = Leases(db, owner=owner, lease_s=max(lease_s, 3 * follow_s), kind="follower")
    return WatchedDesk(desk, watcher=OneFollower(await build(desk, db, None), leases), follow_s=follow_s)
