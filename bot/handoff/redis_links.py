"""``TicketLinks`` on Redis: where each ticket is shown on another desk (the Slack message of a ticket), shared by
every worker, so that a thread reply reaching any of them finds its ticket and the ticket message is updated in place.

Keys, under the connection's prefix: ``ticket:<id>:link:<desk>`` (a hash: place, ref, intent, turns, face),
``ticket:<id>:link:<desk>:posts`` (a hash: message key → 0 begun / 1 shown), ``links:<desk>:<place>:<ref>`` (the
ticket id, to find a ticket from its message), ``ticket:<id>:links`` (the desks showing it) and
``links:<desk>:following`` (the tickets whose message does not show them resolved). The Redis desk deletes them with
their ticket (``delete_links``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.handoff.base import FINAL_FACE, ShowState, TicketLink
from bot.sessions.redis import RedisConnection, text

_SHOWN = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'face', ARGV[1])
if ARGV[2] == '1' then redis.call('SREM', KEYS[2], ARGV[3]) else redis.call('SADD', KEYS[2], ARGV[3]) end
return 1
"""


class RedisTicketLinks:
    """``TicketLinks`` of one desk (``desk``: e.g. ``slack``) on the store's Redis server."""

    def __init__(self, connection: RedisConnection, *, desk: str) -> None:
        self.connection = connection
        self.redis: Any = connection.client
        self.desk = desk
        self._shown = self.redis.register_script(_SHOWN)

    async def setup(self) -> None:
        """Nothing to create on Redis (the same call as the SQLite links')."""

    def _link(self, ticket_id: int) -> str:
        return self.connection.key("ticket", ticket_id, "link", self.desk)

    def _posts(self, ticket_id: int) -> str:
        return self.connection.key("ticket", ticket_id, "link", self.desk, "posts")

    def _at(self, place: str, ref: str) -> str:
        return self.connection.key("links", self.desk, place, ref)

    def _following(self) -> str:
        return self.connection.key("links", self.desk, "following")

    async def add(self, link: TicketLink) -> None:
        row = {"place": link.place, "ref": link.ref, "intent": link.intent or "", "turns": str(link.turns)}
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._link(link.ticket_id), mapping=row | {"face": link.face or ""})
            pipe.set(self._at(link.place, link.ref), str(link.ticket_id))
            pipe.sadd(self.connection.key("ticket", link.ticket_id, "links"), self.desk)
            self._follow(pipe, link.ticket_id, link.face)
            await pipe.execute()

    async def of_ticket(self, ticket_id: int) -> TicketLink | None:
        row = await self.redis.hgetall(self._link(ticket_id))
        return _link(ticket_id, row) if row else None

    async def at(self, place: str, ref: str) -> TicketLink | None:
        """The link shown at ``place``/``ref``; None when none is, or the ticket has since been shown elsewhere."""
        ticket_id = text(await self.redis.get(self._at(place, ref)))
        if not ticket_id or not ticket_id.isdigit():
            return None
        link = await self.of_ticket(int(ticket_id))
        return link if link is not None and (link.place, link.ref) == (place, ref) else None

    async def showing(self, ticket_id: int, key: str) -> ShowState:
        state = text(await self.redis.hget(self._posts(ticket_id), key))
        return "new" if state is None else "shown" if state == "1" else "begun"

    async def mark(self, ticket_id: int, key: str, state: ShowState) -> None:
        await self.redis.hset(self._posts(ticket_id), key, "1" if state == "shown" else "0")

    async def shown(self, ticket_id: int, face: str | None) -> None:
        """Note the face on the ticket's link, in one script; a ticket without a link (deleted meanwhile) is left."""
        final = "1" if face is not None and face.startswith(FINAL_FACE) else "0"
        await self._shown(keys=[self._link(ticket_id), self._following()], args=[face or "", final, str(ticket_id)])

    async def following(self) -> list[TicketLink]:
        ids = sorted(
            int(i) for i in (text(m) or "" for m in await self.redis.smembers(self._following())) if i.isdigit()
        )
        async with self.redis.pipeline(transaction=False) as pipe:
            for ticket_id in ids:
                pipe.hgetall(self._link(ticket_id))
            rows = await pipe.execute()
        return [_link(ticket_id, row) for ticket_id, row in zip(ids, rows, strict=True) if row]

    def _follow(self, pipe: Any, ticket_id: int, face: str | None) -> None:
        """Queue on ``pipe`` keeping ``ticket_id`` in the followed set while its face is not final."""
        if face is not None and face.startswith(FINAL_FACE):
            pipe.srem(self._following(), str(ticket_id))
        else:
            pipe.sadd(self._following(), str(ticket_id))


async def delete_links(connection: RedisConnection, ticket_ids: Sequence[int]) -> None:
    """Delete every desk's links of tickets ``ticket_ids`` (their ticket was deleted)."""
    redis: Any = connection.client
    for ticket_id in ticket_ids:
        desks = [text(d) or "" for d in await redis.smembers(connection.key("ticket", ticket_id, "links"))]
        doomed = [connection.key("ticket", ticket_id, "links")]
        for desk in desks:
            links = RedisTicketLinks(connection, desk=desk)
            row = await redis.hgetall(links._link(ticket_id))
            if row:
                link = _link(ticket_id, row)
                if await links.at(link.place, link.ref) is not None:
                    doomed.append(links._at(link.place, link.ref))
            doomed += [links._link(ticket_id), links._posts(ticket_id)]
            await redis.srem(links._following(), str(ticket_id))
        await redis.delete(*doomed)


def _link(ticket_id: int, row: dict[bytes, bytes]) -> TicketLink:
    fields = {text(key): text(value) or "" for key, value in row.items()}
    return TicketLink(
        ticket_id,
        fields["place"],
        fields["ref"],
        fields["intent"] or None,
        int(fields["turns"] or 0),
        fields.get("face") or None,
    )
