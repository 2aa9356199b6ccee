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
from bot.handoff.base import HandoffDesk, TicketLinks
from bot.handoff.links import SqliteTicketLinks
from bot.handoff.watched import DeskWatcher
from bot.pipeline import Pipeline
from bot.sessions.sqlite import Database

if TYPE_CHECKING:
    from bot.sessions.redis import RedisConnection

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
