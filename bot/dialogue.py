"""Conversations: the pipeline with memory and hand-off, the one async handler the runtime calls.

    dialogue = await open_dialogue(settings, pipeline=pipeline)
    runtime = Runtime(dialogue.conversations.handle, outbound=channels, inbox=dialogue.inbox,
                      middlewares=[ShowTyping(channels, quiet=dialogue.conversations.operator_owns)])
    dialogue.start_outbox(runtime.deliver)                     # operator replies reach shoppers
    ...
    await dialogue.aclose()

``handle`` loads the conversation's session (the time spent loading and saving it is the ``session`` entry of
``Reply.timings_ms``), lets the pipeline answer (or stays silent while an operator owns
the conversation, relaying the shopper's message to the desk), opens a ticket when the policy escalates, and
saves the turn with personal data masked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field, replace

from bot.actions.backends import HttpOrderBackend, SqliteOrderBackend, demo_orders_file
from bot.actions.base import Action, OrderBackend
from bot.actions.orders import OrderStatusAction, StartReturnAction
from bot.config import Settings
from bot.errors import ConfigError
from bot.generation.templates import kind_name, say
from bot.handoff.base import Deliver, HandoffDesk, HandoffError
from bot.handoff.sqlite import SqliteDesk
from bot.inbox.sqlite import SqliteInbox
from bot.messages import Message, Reply
from bot.pipeline import Pipeline
from bot.sessions.base import HandoffState, Session, SessionStore, Turn
from bot.sessions.sqlite import Database, SqliteSessionStore

log = logging.getLogger(__name__)

class Conversations:
    """Stateful turn handling: sessions, the pipeline, and escalation to a ``HandoffDesk``.

    While the conversation's ticket is open the bot keeps answering and copies each exchange into the ticket;
    once an operator takes it the bot is silent (``handle`` returns None) and only relays the shopper.
    """

    def __init__(self, *, pipeline: Pipeline, store: SessionStore, desk: HandoffDesk | None = None) -> None:
        self.pipeline = pipeline
        self.store = store
        self.desk = desk

    async def operator_owns(self, message: Message) -> bool:
        """Whether an operator owns ``message``'s conversation now (so the bot stays silent: no "typing…")."""
        session = await self.store.load(str(message.conversation))
        await self._follow_ticket(session)
        return session.handoff is HandoffState.HUMAN
    async def handle(self, message: Message) -> Reply | None:
        log.debug("message in %s from %s: %r", message.conversation, message.user_id, message.text)
        started = time.perf_counter()
        session = await self.store.load(str(message.conversation))
        if message.message_id and message.message_id == session.last_message_id:
            log.info("turn %s: message %s was handled before a restart; its answer is sent again",
                     message.conversation, message.message_id)
            return session.last_reply
        session.user_id = message.user_id or session.user_id
        session.last_message_id = message.message_id or None
        await self._follow_ticket(session)
        loaded = time.perf_counter()
        if session.handoff is HandoffState.HUMAN and self.desk is not None and session.ticket_id is not None:
            said = _in_words(message, session.language or "en")
            await self.desk.post(session.ticket_id, said)
            session.last_reply = None
            await self.store.save(session, turns=[Turn("user", said)])
            log.info(
                "turn %s: relayed to ticket %d (an operator owns the conversation)",
                message.conversation,
                session.ticket_id,
            )
            return None
        outcome = await self.pipeline.run(message, session)
        reply = outcome.reply
        user_turn = Turn("user", _with_seen(outcome.text or _in_words(message, reply.language), reply), reply.intent)
        if reply.escalated:
            reply = await self._escalate(message, session, reply, user_turn)
        elif session.handoff is HandoffState.WAITING and self.desk is not None and session.ticket_id is not None:
            await self.desk.post(session.ticket_id, user_turn.text)
            await self.desk.post(session.ticket_id, reply.text, author="bot")
        session.language = reply.language
        saving = time.perf_counter()
        session.last_reply = reply
        await self.store.save(session, turns=[user_turn, Turn("bot", reply.text, reply.intent)])
        ms = ((loaded - started) + (time.perf_counter() - saving)) * 1000
        return replace(reply, timings_ms={**reply.timings_ms, "session": ms})

    async def _follow_ticket(self, session: Session) -> None:
        """Bring the session's hand-off state in line with its ticket (operators act from elsewhere)."""
        if session.ticket_id is None or self.desk is None:
            return
        try:
            ticket = await self.desk.get(session.ticket_id)
        except HandoffError:
            session.handoff, session.ticket_id = HandoffState.BOT, None
            return
        session.handoff = ticket.state.handoff
        if session.handoff is HandoffState.RESOLVED:
            session.handoff, session.ticket_id = HandoffState.BOT, None

    async def _escalate(self, message: Message, session: Session, reply: Reply, user_turn: Turn) -> Reply:
        shop = self.pipeline.shop
        if session.handoff is HandoffState.WAITING and session.ticket_id is not None and self.desk is not None:
            await self.desk.post(session.ticket_id, user_turn.text)
            text = say("already_waiting", reply.language, hours=shop.hours)
            return replace(reply, text=text, reason=f"{reply.reason}; ticket {session.ticket_id} already open")
        if self.desk is None:
            log.warning("escalation in %s but no handoff desk is configured", message.conversation)
            return reply
        ticket = await self.desk.open(
            conversation=message.conversation,
            user_id=message.user_id,
            reason=reply.reason or "escalated",
            language=reply.language,
            transcript=[*session.history, user_turn],
        )
        session.handoff, session.ticket_id = HandoffState.WAITING, ticket.id
        return replace(reply, reason=f"{reply.reason}; ticket {ticket.id} opened")


def _with_seen(text: str, reply: Reply) -> str:
    """The shopper's turn with what the bot saw in their photos ("📷 I can see: …"), so the desk shows it too."""
    seen = [line for line in (reply.quote or "").splitlines() if line.startswith("📷")]
    return "\n".join([text, *seen]) if seen else text


def _in_words(message: Message, language: str) -> str:
    """The message's text, with its attachments named ("[voice note]"), for a ticket or the history."""
    parts = [message.text.strip()] if message.text.strip() else []
    parts += [f"[{kind_name(a.kind, language)}]" for a in message.attachments]
    if message.payload and not parts:
        parts.append(f"[{message.payload}]")
    return " ".join(parts)


def build_actions(backend: OrderBackend) -> dict[str, Action]:
    """The built-in actions over one order backend, by name (what the policy's ``Decision.task`` names)."""
    actions: list[Action] = [OrderStatusAction(backend), StartReturnAction(backend)]
    return {action.name: action for action in actions}


@dataclass
class Dialogue:
    """The opened stateful parts: the handler, the store, the desk and the order backend, with their lifetime."""

    conversations: Conversations
    store: SqliteSessionStore
    desk: SqliteDesk
    orders: OrderBackend
    db: Database
    inbox: SqliteInbox
    """The runtime's durable inbox and reply outbox: the same file, its own connection (a delivered reply is
    recorded without queueing behind the sessions' reads, which keeps the window for a repeat short)."""
    outbox_poll_s: float = 2.0
    _outbox: asyncio.Task[None] | None = field(default=None, repr=False)

    def start_outbox(self, deliver: Deliver) -> None:
        """Send operator replies through ``deliver`` from now on, those queued by ``kefu handoff reply`` included."""
        self.desk.deliver = deliver
        if self._outbox is None:
            self._outbox = asyncio.create_task(self.desk.run_outbox(interval_s=self.outbox_poll_s))

    async def aclose(self) -> None:
        if self._outbox is not None:
            self._outbox.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._outbox
        if isinstance(self.orders, HttpOrderBackend | SqliteOrderBackend):
            await self.orders.close()
        await self.db.close()
        await self.inbox.db.close()


async def open_store(
    settings: Settings, *, deliver: Deliver | None = None
) -> tuple[Database, SqliteSessionStore, SqliteDesk]:
    """The store's database (``settings.store_url``), its session store and the built-in desk, tables created."""
    db = await Database.open(settings.store_url)
    store = SqliteSessionStore(db, history_turns=settings.store.history_turns)
    await store.setup()
    desk = SqliteDesk(db, store, deliver=deliver)
    await desk.setup()
    return db, store, desk


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


async def open_dialogue(settings: Settings, *, pipeline: Pipeline) -> Dialogue:
    """Open the store, desk and order backend from ``settings`` and install the order actions on ``pipeline``.

    The caller owns the returned ``Dialogue``: it calls ``start_outbox(runtime.deliver)`` once the runtime
    exists, and ``aclose`` at the end.
    """
    db, store, desk = await open_store(settings)
    try:
        orders = await open_orders(settings)
    except BaseException:
        await db.close()
        raise
    pipeline.actions.update(build_actions(orders))
    conversations = Conversations(pipeline=pipeline, store=store, desk=desk)
    inbox = SqliteInbox(await Database.open(settings.store_url), remember_s=settings.store.dedupe_window_s)
    try:
        await inbox.setup()
        await inbox.prune(now=time.time())
    except BaseException:
        await inbox.db.close()
        await db.close()
        raise
    return Dialogue(conversations, store, desk, orders, db, inbox, outbox_poll_s=settings.store.outbox_poll_s)
