"""Harness for the Slack desk: the real SlackAdapter served on a loopback port against the fake Slack, the real
desk of record and its links on SQLite or Redis, and a recorder of what reaches shoppers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from adapters.slack import SlackAdapter
from adapters.slack.desk import SlackDeskFront
from adapters.testing.slack import FakeSlack, SentMessage
from bot.handoff.base import TicketLinks
from bot.handoff.links import SqliteTicketLinks
from bot.handoff.redis import RedisDesk
from bot.handoff.redis_links import RedisTicketLinks
from bot.handoff.sqlite import SqliteDesk
from bot.handoff.watched import WatchedDesk
from bot.messages import ConversationRef, Message, Reply, Source
from bot.sessions.base import Session, Turn
from bot.sessions.redis import RedisConnection, RedisSessionStore
from bot.sessions.sqlite import Database, SqliteSessionStore
from tests.slack.conftest import serve

HANDOFF = "C0HANDOFF"
SHOPPER = ConversationRef("telegram", "4242")


@dataclass
class Delivered:
    """What the desk handed to the runtime for shoppers (``Deliver``), keys included."""

    replies: list[tuple[ConversationRef, Reply, str | None]] = field(default_factory=list)

    async def __call__(self, conversation: ConversationRef, reply: Reply, *, key: str | None = None) -> None:
        self.replies.append((conversation, reply, key))

    def texts(self) -> list[str]:
        return [reply.text for _, reply, _ in self.replies]


async def suggest(text: str, *, language_hint: str | None = None) -> Reply:
    """A deterministic agent-assist writer (the real one, the pipeline's, runs in the end-to-end test)."""
    return Reply(
        text=f"Our returns window is 30 days ({text})",
        language=language_hint or "en",
        sources=(Source("returns", "Returns & refunds", 0.9, "https://shop.example/returns"),),
    )


@dataclass
class Desk:
    fake: FakeSlack
    adapter: SlackAdapter
    record: SqliteDesk | RedisDesk
    """The desk of record."""
    desk: WatchedDesk
    front: SlackDeskFront
    delivered: Delivered
    links: TicketLinks

    def card(self, ticket_id: int = 1) -> SentMessage:
        """The ticket's message in the hand-off channel."""
        return next(
            m
            for m in self.fake.messages_in(HANDOFF)
            if m.thread_ts is None and m.ephemeral_to is None and f"Ticket #{ticket_id} " in m.text
        )

    def thread(self, card: SentMessage) -> list[str]:
        return [m.body for m in self.fake.messages_in(HANDOFF, thread_ts=card.ts) if m.ephemeral_to is None]

    def ephemeral(self, user: str) -> list[SentMessage]:
        return [m for m in self.fake.messages if m.ephemeral_to == user]

    async def open_ticket(self, chat: str = "4242") -> int:
        """A ticket for the Telegram chat ``chat`` (``SHOPPER``'s by default), whose session exists (as after the
        escalating turn)."""
        shopper = ConversationRef("telegram", chat)
        await self.record.sessions.save(Session(conversation=str(shopper), user_id=chat))
        ticket = await self.desk.open(
            conversation=shopper,
            user_id=chat,
            reason="escalate: the shopper asked for a person",
            language="en",
            transcript=[
                Turn("user", "where is my parcel 100258?", "order_status"),
                Turn("bot", "Your order 100258 is on its way."),
                Turn("user", "I want to talk to a person", "human"),
            ],
        )
        return ticket.id


async def _dispatch(_: Message) -> bool:
    return True


async def open_desk(
    fake: FakeSlack, tmp_path: Path, *, operators: list[str], redis_url: str | None = None, follow_posts: bool = False
) -> AsyncIterator[Desk]:
    """The desk on the SQLite store in ``tmp_path``, or on the Redis server at ``redis_url``; ``follow_posts``: as
    worker mode's front runs it (it follows the posts other processes add, and suggests nothing)."""
    delivered = Delivered()
    connection: Database | RedisConnection
    record: SqliteDesk | RedisDesk
    links: SqliteTicketLinks | RedisTicketLinks
    if redis_url is None:
        connection = db = await Database.open(tmp_path / "store.sqlite3")
        store = SqliteSessionStore(db)
        await store.setup()
        record = sqlite = SqliteDesk(db, store, deliver=delivered)
        await sqlite.setup()
        links = SqliteTicketLinks(db, desk="slack")
    else:
        connection = await RedisConnection.open(redis_url)
        record = RedisDesk(connection, RedisSessionStore(connection), deliver=delivered)
        links = RedisTicketLinks(connection, desk="slack")
    await links.setup()
    adapter = SlackAdapter(
        bot_token=fake.bot_token, signing_secret=fake.signing_secret, api_base=fake.base_url, backoff_s=0.01
    )
    front = SlackDeskFront(
        adapter,
        desk=record,
        links=links,
        channel=HANDOFF,
        operators=operators,
        suggest=None if follow_posts else suggest,
        follow_posts=follow_posts,
    )
    runner, fake.events_url = await serve(adapter)
    await adapter.start(_dispatch)
    try:
        yield Desk(fake, adapter, record, WatchedDesk(record, watcher=front, follow_s=0.05), front, delivered, links)
    finally:
        await front.aclose()
        await adapter.stop()
        await runner.cleanup()
        await connection.close()
