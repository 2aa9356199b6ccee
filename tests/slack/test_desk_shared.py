"""What the Slack desk's ticket messages show is kept with their links in the store, so two desks on one store
(two kefu processes on one Redis) and a desk after a restart send no update another already made, and a ticket
resolved while no desk ran is still shown resolved."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.testing.slack import FakeSlack
from bot.handoff.base import TicketState, face_of
from bot.handoff.links import SqliteTicketLinks
from bot.sessions.sqlite import Database
from tests.slack.desk_harness import HANDOFF, Desk, open_desk

ANA = "U0ANA"


class Desks:
    """Desks opened over one store and one fake Slack, as separate kefu processes would run them."""

    def __init__(self, fake: FakeSlack, tmp_path: Path, redis_url: str | None) -> None:
        self.fake, self.tmp_path, self.redis_url = fake, tmp_path, redis_url
        self._running: list[AsyncIterator[Desk]] = []

    async def open(self) -> Desk:
        """A desk; the fake Slack sends its events (presses, thread replies) to the desk opened last."""
        running = open_desk(self.fake, self.tmp_path, operators=[ANA], redis_url=self.redis_url)
        self._running.append(running)
        return await anext(running)

    async def close_all(self) -> None:
        while self._running:
            await self._running.pop().aclose()  # type: ignore[attr-defined]


@pytest.fixture(params=["sqlite", "redis"])
async def desks(request: pytest.FixtureRequest, fake_slack: FakeSlack, tmp_path: Path) -> AsyncIterator[Desks]:
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    opened = Desks(fake_slack, tmp_path, redis_url)
    yield opened
    await opened.close_all()


async def test_a_move_shown_by_one_desk_is_not_shown_again_by_another(desks: Desks) -> None:
    first = await desks.open()
    second = await desks.open()
    ticket_id = await first.open_ticket()
    card = first.card(ticket_id)
    for desk in (first, second):
        await desk.front.resync(desk.record)
    assert card.edits == 0 and len(desks.fake.calls_to("chat.postMessage")) == 1, "an unchanged ticket is left alone"

    assert (await desks.fake.user(ANA).presses(card, "🙋 Take over")).status == 200  # reaches the second desk
    assert card.edits == 1 and "Taken" in card.context[-1]
    for desk in (first, second, first):
        await desk.front.resync(desk.record)
    assert card.edits == 1 and len(desks.fake.calls_to("chat.update")) == 1, "no duplicate chat.update"

    await first.record.resolve(ticket_id, operator="ana@terminal")  # `kefu handoff resolve` from a terminal
    await second.front.resync(second.record)
    assert card.edits == 2 and "Resolved" in card.context[-1]
    for desk in (first, second):
        await desk.front.resync(desk.record)
        assert await desk.links.following() == [], "a message showing its ticket resolved is followed no further"
    assert card.edits == 2


async def test_after_a_restart_only_the_tickets_that_changed_are_updated(desks: Desks) -> None:
    before = await desks.open()
    kept, resolved, taken = [await before.open_ticket(f"42{n}") for n in range(3)]
    await desks.close_all()  # kefu stops; operators work from a terminal meanwhile
    after = await desks.open()
    await after.record.resolve(resolved, operator="ana@terminal")
    await after.record.take(taken, operator="ben@terminal")
    await after.front.resync(after.record)
    assert after.card(kept).edits == 0, "a ticket that did not change is not updated at start"
    assert after.card(resolved).edits == 1 and "Resolved" in after.card(resolved).context[-1]
    assert after.card(taken).edits == 1 and "ben@terminal" in after.card(taken).context[-1]
    followed = {link.ticket_id: link.face for link in await after.links.following()}
    assert followed == {kept: "open:", taken: "taken:ben@terminal"}


async def test_an_update_slack_refused_is_sent_again_by_any_desk(desks: Desks) -> None:
    first = await desks.open()
    second = await desks.open()
    ticket_id = await first.open_ticket()
    await first.record.take(ticket_id, operator=ANA)
    desks.fake.fail_next("chat.update", status=500, times=5)
    await first.front.resync(first.record)
    link = await first.links.of_ticket(ticket_id)
    assert link is not None and link.face is None, "Slack may or may not have taken it: unknown"
    await second.front.resync(second.record)
    ticket = await second.record.get(ticket_id)
    assert ticket.state is TicketState.TAKEN and first.card(ticket_id).edits == 1
    assert (await second.links.of_ticket(ticket_id)).face == face_of(ticket)  # type: ignore[union-attr]


async def test_a_store_from_before_the_shown_face_gets_the_column(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "store.sqlite3")
    try:
        await db.script(
            "CREATE TABLE ticket_links (desk TEXT NOT NULL, ticket_id INTEGER NOT NULL, place TEXT NOT NULL,"
            " ref TEXT NOT NULL, intent TEXT, turns INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (desk, ticket_id));"
            f" INSERT INTO ticket_links VALUES ('slack', 7, '{HANDOFF}', '1700000000.000100', NULL, 3);"
        )
        links = SqliteTicketLinks(db, desk="slack")
        await links.setup()
        [old] = await links.following()
        assert (old.ticket_id, old.ref, old.face) == (7, "1700000000.000100", None), "shown state unknown: followed"
        await links.shown(7, "resolved:U0ANA")
        assert await links.following() == []
    finally:
        await db.close()
