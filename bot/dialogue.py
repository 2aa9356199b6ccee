"""Conversations: the pipeline with memory and hand-off, the one async handler the runtime calls.

    conversations = Conversations(pipeline=pipeline, store=store, desk=desk)
    runtime = Runtime(conversations.handle, outbound=channels, inbox=inbox,
                      middlewares=[ShowTyping(channels, quiet=conversations.operator_owns)])

(``bot.app.open_dialogue`` opens the SQLite store and desk and builds this.) ``handle`` loads the conversation's
session (the time spent loading and saving it is the ``session`` entry of ``Reply.timings_ms``), lets the
pipeline answer (or stays silent while an operator owns the conversation, relaying the shopper's message to the
desk), opens a ticket when the policy escalates, and saves the turn with personal data masked.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from bot.generation.templates import kind_name, say
from bot.handoff.base import HandoffDesk, HandoffError
from bot.handoff.budget import TicketBudget
from bot.insights.facts import fact_of
from bot.messages import Message, Reply
from bot.pipeline import Pipeline
from bot.sessions.base import HandoffState, Session, SessionStore, Turn

log = logging.getLogger(__name__)


class Conversations:
    """Stateful turn handling: sessions, the pipeline, and escalation to a ``HandoffDesk``.

    While the conversation's ticket is open the bot keeps answering and copies each exchange into the ticket;
    once an operator takes it the bot is silent (``handle`` returns None) and only relays the shopper.
    """

    def __init__(
        self,
        *,
        pipeline: Pipeline,
        store: SessionStore,
        desk: HandoffDesk | None = None,
        ticket_budget: TicketBudget | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.store = store
        self.desk = desk
        self.ticket_budget = ticket_budget
        """Tickets per client (``Message.client``); None: not counted."""

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
            log.info(
                "turn %s: message %s was handled before a restart; its answer is sent again",
                message.conversation,
                message.message_id,
            )
            return session.last_reply
        session.user_id = message.user_id or session.user_id
        session.last_message_id = message.message_id or None
        await self._follow_ticket(session)
        loaded = time.perf_counter()
        if session.handoff is HandoffState.HUMAN and self.desk is not None and session.ticket_id is not None:
            said = await self._relayed(message, session.language or "en")
            await self.desk.post(session.ticket_id, said, key=_key(message, "user"))
            session.last_reply = None
            fact = fact_of(message, None, None, said=said)
            await self.store.save(session, turns=[Turn("user", said)], fact=fact)
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
            await self.desk.post(session.ticket_id, user_turn.text, key=_key(message, "user"))
            await self.desk.post(session.ticket_id, reply.text, author="bot", key=_key(message, "bot"))
        session.language = reply.language
        saving = time.perf_counter()
        session.last_reply = reply
        loading = {"session": (loaded - started) * 1000}
        fact = fact_of(
            message, replace(reply, timings_ms={**reply.timings_ms, **loading}), outcome.decision, said=user_turn.text
        )
        await self.store.save(session, turns=[user_turn, Turn("bot", reply.text, reply.intent)], fact=fact)
        ms = ((loaded - started) + (time.perf_counter() - saving)) * 1000
        return replace(reply, timings_ms={**reply.timings_ms, "session": ms})

    async def _relayed(self, message: Message, language: str) -> str:
        """What the operator reads of ``message``: the typed text, then each voice note's transcript ("🎤 …") and
        photo's description ("📷 …"); an attachment that cannot be read is named ("[voice note]")."""
        if message.answer is not None or not message.attachments:
            return _in_words(message, language)
        seen = await self.pipeline.hear(message, language_hint=language)
        parts = [message.text.strip()] if message.text.strip() else []
        parts += seen.quote.splitlines() if seen.quote else []
        if not seen.quote:
            parts += [f"[{kind_name(a.kind, language)}]" for a in message.attachments]
        return "\n".join(parts)

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
            await self.desk.post(session.ticket_id, user_turn.text, key=_key(message, "user"))
            text = say("already_waiting", reply.language, hours=shop.hours_in(reply.language))
            return replace(reply, text=text, reason=f"{reply.reason}; ticket {session.ticket_id} already open")
        if self.desk is None:
            log.warning("escalation in %s but no handoff desk is configured", message.conversation)
            return reply
        budget = self.ticket_budget
        if message.client and budget is not None and not await budget.allow(message.client, str(message.conversation)):
            log.warning(
                "turn %s: no ticket opened: too many conversations from %s asked for a person lately",
                message.conversation,
                message.client,
            )
            text = say("tickets_spent", reply.language)
            reason = f"{reply.reason}; no ticket: client over its budget"
            return replace(reply, text=text, escalated=False, reason=reason)
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


def _key(message: Message, part: str) -> str | None:
    """The ticket-message key of ``message``'s ``part``: a turn handled again after a crash posts it once."""
    return f"{message.conversation}:{message.message_id}:{part}" if message.message_id else None


def _in_words(message: Message, language: str) -> str:
    """The message's text, with its attachments named ("[voice note]"), for a ticket or the history."""
    parts = [message.text.strip()] if message.text.strip() else []
    parts += [f"[{kind_name(a.kind, language)}]" for a in message.attachments]
    if message.payload and not parts:
        parts.append(f"[{message.payload}]")
    return " ".join(parts)
