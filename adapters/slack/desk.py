"""The hand-off desk in a Slack channel: ``SlackDeskFront`` shows the desk of record's tickets in
``KEFU_SLACK__HANDOFF_CHANNEL`` and lets operators work them from Slack.

    front = SlackDeskFront(adapter, desk=sqlite_desk, links=links, channel="C0HANDOFF",
                           operators=["U0ANA", "S0SUPPORT"], suggest=pipeline.suggest)
    desk = WatchedDesk(sqlite_desk, watcher=front)     # what the conversations escalate to

A ticket opened → a message with the shopper, channel, language, intent, reason, a summary and the last turns,
with "Take over" / "Resolve"; it is updated in place (``chat.update``) as its state changes. Every shopper message
of the ticket goes into its thread; an operator's thread reply goes to the shopper (``desk.reply``). While a ticket
is taken, each shopper message brings the owner an ephemeral suggested reply (agent assist) with "Send" and "Edit".
Only operators (user or user-group ids) may act; anyone else gets an ephemeral refusal.

In worker mode the front runs it with ``follow_posts=True`` over the Redis desk: the workers open tickets and add
the shoppers' messages, and each ``resync`` shows what they added since (no agent assist: the front has no models).
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from adapters.slack.actions import Press, ThreadMessage, ViewSubmission
from adapters.slack.adapter import SlackAdapter
from adapters.slack.desk_render import (
    DESK,
    EDIT,
    EDIT_INPUT,
    EDIT_VIEW,
    RESOLVE,
    SEND,
    TAKE,
    edit_view,
    sent_line,
    suggestion_message,
    thread_line,
    ticket_message,
)
from adapters.slack.operators import Operators
from adapters.slack.render import SlackMessage
from adapters.slack.webapi import DeliveryFailed
from bot.errors import DeliveryDeferred
from bot.handoff.base import (
    HandoffDesk,
    HandoffError,
    Ticket,
    TicketLink,
    TicketLinks,
    TicketMessage,
    TicketState,
    face_of,
)
from bot.messages import Reply
from bot.sessions.base import Turn

log = logging.getLogger(__name__)


class Suggest(Protocol):
    """A suggested reply to a shopper's message, in the shopper's language, with its sources (agent assist)."""

    async def __call__(self, text: str, *, language_hint: str | None = None) -> Reply | None:
        """None: the knowledge base has nothing relevant to suggest."""
        ...


MESSAGE_EVENT = "kefu_ticket_message"
"""Metadata ``event_type`` of a shopper's message posted in a ticket's thread (its payload: the message's key)."""
REFUSED = "Only kefu's operators (KEFU_SLACK__OPERATORS) can do that; ask one of them to add you."


class SlackDeskFront:
    """A ``bot.handoff.watched.DeskWatcher`` that shows tickets in a Slack channel, and the operators' moves in
    that channel (buttons, thread replies, the "Edit" modal) made on ``desk``."""

    def __init__(
        self,
        adapter: SlackAdapter,
        *,
        desk: HandoffDesk,
        links: TicketLinks,
        channel: str,
        operators: Iterable[str],
        suggest: Suggest | None = None,
        follow_posts: bool = False,
    ) -> None:
        if not channel:
            raise ValueError("the hand-off desk needs a channel id (KEFU_SLACK__HANDOFF_CHANNEL)")
        self.adapter, self.desk, self.links, self.channel = adapter, desk, links, channel
        self.operators = Operators(operators, call=adapter.call)
        if not self.operators.users and not self.operators.groups:
            raise ValueError("the hand-off desk needs at least one operator (KEFU_SLACK__OPERATORS)")
        self.suggest = suggest
        self.follow_posts = follow_posts
        """Whether ``resync`` posts in the threads the messages other processes added to tickets (worker mode's
        front, where the workers add them and ``posted`` is never called)."""
        self._followed: set[tuple[int, int]] = set()
        """(ticket, message index) known shown in its thread, so ``resync`` asks the store only about new ones."""
        self._assisting: set[asyncio.Task[None]] = set()
        self._changing: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        """One update of a ticket's message at a time in this process."""
        adapter.on_action(DESK, self.on_press)
        adapter.on_thread_message(channel, self.on_thread_reply)
        adapter.on_view(EDIT_VIEW, self.on_edit)

    # DeskWatcher ----------------------------------------------------------------------------------

    async def opened(self, ticket: Ticket, transcript: Sequence[Turn]) -> None:
        intent = next((t.intent for t in reversed(transcript) if t.intent), None)
        await self._show(ticket, intent=intent)

    async def posted(self, ticket: Ticket, message: TicketMessage, *, key: str | None = None) -> None:
        """Post the message in the ticket's thread, once per ``key`` (a turn handled again after a crash): a post
        begun before the crash is looked for in the thread (by its metadata) before it is made again."""
        link = await self.links.of_ticket(ticket.id) or await self._show(ticket, intent=None)
        if not await self._in_thread_once(ticket.id, link, message, key=key):
            return
        if (
            ticket.state is TicketState.TAKEN
            and message.author == "shopper"
            and ticket.operator
            and self.suggest is not None
        ):
            task = asyncio.create_task(self._assist(ticket, message.text, link))
            self._assisting.add(task)
            task.add_done_callback(self._assisting.discard)

    async def changed(self, ticket: Ticket) -> None:
        """Bring ``ticket``'s message up to date, once: an operator's move here and a look at the store that sees
        the same move take turns per ticket, and the second finds the message showing it already."""
        async with self._lock_for(ticket.id):
            link = await self.links.of_ticket(ticket.id)
            if link is None:
                await self._show(ticket, intent=None)
                return
            await self._follow_posts(ticket, link)  # what the shopper said before the move comes first in the thread
            if link.face == face_of(ticket):
                return
            transcript = (await self.desk.messages(ticket.id))[: link.turns]
            content = ticket_message(ticket, transcript=transcript, intent=link.intent)
            try:
                await self.adapter.call(
                    "chat.update",
                    {"channel": link.place, "ts": link.ref, "text": content.text, "blocks": content.blocks},
                )
            except (DeliveryFailed, DeliveryDeferred):
                await self.links.shown(ticket.id, None)  # Slack may or may not have taken it: the next look resends
                raise
            await self.links.shown(ticket.id, face_of(ticket))

    def _lock_for(self, ticket_id: int) -> asyncio.Lock:
        return self._changing.setdefault(ticket_id, asyncio.Lock())

    async def resync(self, desk: HandoffDesk) -> None:
        """Post the open tickets that have no message yet (opened while Slack was unreachable) and update the
        messages that show another state or owner than their ticket's (moved with ``kefu handoff`` from a
        terminal, while kefu was down, or by another kefu process on the same store, which noted it); the others
        are left alone. What each message shows is kept with its link, so a restart or a second process sends no
        update already made. A message showing its ticket resolved is followed no further. With ``follow_posts``, the
        messages added to each ticket since are posted in its thread (before its message changes)."""
        current = {ticket.id: ticket for ticket in await desk.tickets()}
        shown = {link.ticket_id: link.face for link in await self.links.following()}
        for ticket_id in [i for i in shown if i not in current]:  # resolved since (or deleted, with its link)
            try:
                current[ticket_id] = await desk.get(ticket_id)
            except HandoffError:
                continue
        for ticket in current.values():
            face = shown.get(ticket.id)
            if face == face_of(ticket):
                await self._follow_posts(ticket)
                continue
            try:
                await self.changed(ticket)
            except (DeliveryFailed, DeliveryDeferred) as error:
                log.warning("slack desk: ticket %d could not be brought up to date (%s)", ticket.id, error)
                continue
            if face is not None:
                log.info(
                    "slack desk: ticket %d was moved outside this process (%s); its message is updated",
                    ticket.id,
                    ticket.state.value,
                )
        self._followed = {pair for pair in self._followed if pair[0] in current}

    async def _follow_posts(self, ticket: Ticket, link: TicketLink | None = None) -> None:
        """With ``follow_posts``: post in ``ticket``'s thread the shopper's (and the waiting bot's) messages added
        after its message was posted, each once (keyed by its place in the ticket); operators' replies are in the
        thread already or were sent from a terminal, and are not repeated."""
        if not self.follow_posts:
            return
        link = link or await self.links.of_ticket(ticket.id)
        if link is None:  # not shown yet: its message will carry every message so far
            return
        messages = await self.desk.messages(ticket.id)
        for index in range(link.turns, len(messages)):
            message = messages[index]
            if (ticket.id, index) in self._followed or message.author not in ("shopper", "bot"):
                continue
            try:
                await self._in_thread_once(ticket.id, link, message, key=f"message:{index}")
            except (DeliveryFailed, DeliveryDeferred) as error:
                log.warning("slack desk: ticket %d's thread is behind for now (%s)", ticket.id, error)
                return  # in order: the next look starts from this message again
            self._followed.add((ticket.id, index))

    async def aclose(self) -> None:
        """Cancel the suggestions still being written."""
        for task in list(self._assisting):
            task.cancel()
        await asyncio.gather(*self._assisting, return_exceptions=True)

    # operators' moves -----------------------------------------------------------------------------

    async def on_press(self, press: Press) -> None:
        """ "Take over", "Resolve", "Send" or "Edit" pressed."""
        if not await self.operators.allow(press.user_id):
            log.warning("slack desk: %s pressed %s but is not an operator; refused", press.user_id, press.action_id)
            await self._tell(press.user_id, REFUSED, place=press.place.channel)
            return
        try:
            if press.action_id in (TAKE, RESOLVE):
                await self._move(press.action_id, _ticket_id(press.value), press.user_id)
            elif press.action_id in (SEND, EDIT):
                ticket_id, text = _suggestion(press.value)
                if press.action_id == EDIT:
                    await self._edit(ticket_id, text, press)
                else:
                    action_ts = (press.body.get("actions") or [{}])[0].get("action_ts") or press.trigger_id
                    await self._reply(ticket_id, text, press.user_id, key=f"slack-press:{action_ts}", suggested=True)
            else:
                raise HandoffError(f"unknown desk button {press.action_id!r}")
        except HandoffError as error:
            log.warning("slack desk: %s's %s refused: %s", press.user_id, press.action_id, error)
            await self._tell(press.user_id, f"⚠️ {error.user_message}", place=press.place.channel)
        except (DeliveryFailed, DeliveryDeferred) as error:
            log.warning("slack desk: %s's %s failed in Slack: %s", press.user_id, press.action_id, error)
            await self._tell(
                press.user_id, "⚠️ Slack did not take that just now; please try again.", place=press.place.channel
            )

    async def on_thread_reply(self, reply: ThreadMessage) -> None:
        """A reply in a ticket's thread: an operator's goes to the shopper; anyone else is told it did not."""
        link = await self.links.at(reply.channel, reply.thread_ts)
        if link is None:
            log.debug("slack desk: a reply in thread %s, which is no ticket's, was ignored", reply.thread_ts)
            return
        if not await self.operators.allow(reply.user_id):
            log.warning(
                "slack desk: %s replied in ticket %d's thread but is not an operator; not relayed",
                reply.user_id,
                link.ticket_id,
            )
            await self._tell(
                reply.user_id, f"{REFUSED} Your message did not reach the shopper.", thread_ts=reply.thread_ts
            )
            return
        if not reply.text.strip():
            await self._tell(
                reply.user_id, "⚠️ Only text reaches the shopper; nothing was sent.", thread_ts=reply.thread_ts
            )
            return
        try:
            await self._reply(
                link.ticket_id, reply.text, reply.user_id, key=f"slack:{reply.channel}:{reply.ts}", suggested=None
            )
        except HandoffError as error:
            log.warning("slack desk: %s's reply to ticket %d refused: %s", reply.user_id, link.ticket_id, error)
            await self._tell(
                reply.user_id,
                f"⚠️ {error.user_message} Your message did not reach the shopper.",
                thread_ts=reply.thread_ts,
            )

    async def on_edit(self, submission: ViewSubmission) -> Mapping[str, str] | None:
        """The "Edit" modal submitted: its text goes to the shopper; errors keep the modal open."""
        text = submission.values.get(EDIT_INPUT, "").strip()
        if not await self.operators.allow(submission.user_id):
            return {EDIT_INPUT: REFUSED}
        if not text:
            return {EDIT_INPUT: "Write the reply first."}
        try:
            await self._reply(
                _ticket_id(submission.private_metadata),
                text,
                submission.user_id,
                key=f"slack-view:{submission.view_id}" if submission.view_id else None,
                suggested=False,
            )
        except HandoffError as error:
            log.warning("slack desk: %s's edited reply refused: %s", submission.user_id, error)
            return {EDIT_INPUT: error.user_message}
        return None

    # the work -------------------------------------------------------------------------------------

    async def _move(self, action_id: str, ticket_id: int, operator: str) -> None:
        ticket = await self.desk.get(ticket_id)
        if ticket.state is TicketState.RESOLVED:
            raise HandoffError(f"ticket {ticket_id} is already resolved")
        if action_id == TAKE:
            if ticket.state is TicketState.TAKEN:
                if ticket.operator == operator:
                    return
                raise HandoffError(f"ticket {ticket_id} is already taken by <@{ticket.operator}>")
            ticket = await self.desk.take(ticket_id, operator=operator)
        else:
            ticket = await self.desk.resolve(ticket_id, operator=operator)
        await self._refresh(ticket)

    async def _reply(
        self, ticket_id: int, text: str, operator: str, *, key: str | None, suggested: bool | None
    ) -> None:
        """Relay an operator's reply; one sent from a button or a modal (``suggested`` not None) is recorded in
        the thread, where a typed one already is."""
        before = await self.desk.get(ticket_id)
        ticket = await self.desk.reply(ticket_id, text, operator=operator, key=key)
        log.info("slack desk: %s replied to ticket %d", operator, ticket_id)
        link = await self.links.of_ticket(ticket_id)
        if suggested is not None and link is not None:
            try:
                await self._post(sent_line(operator, text, suggested=suggested), thread_ts=link.ref)
            except (DeliveryFailed, DeliveryDeferred) as error:  # the shopper has the reply; only the note is lost
                log.warning("slack desk: ticket %d's thread did not take the sent reply's note (%s)", ticket_id, error)
        if ticket.state is not before.state:
            await self._refresh(ticket)

    async def _refresh(self, ticket: Ticket) -> None:
        """Update the ticket's message after an operator's move; the move stands when Slack does not take the
        update (the message catches up at the next change or start)."""
        try:
            await self.changed(ticket)
        except (DeliveryFailed, DeliveryDeferred) as error:
            log.warning("slack desk: ticket %d's message shows an old state for now (%s)", ticket.id, error)

    async def _edit(self, ticket_id: int, text: str, press: Press) -> None:
        ticket = await self.desk.get(ticket_id)
        if ticket.state is TicketState.RESOLVED:
            raise HandoffError(f"ticket {ticket_id} is resolved; the shopper is talking to the bot again")
        if not press.trigger_id:
            raise HandoffError("Slack sent no trigger to open the editor with; press Edit again")
        await self.adapter.call("views.open", {"trigger_id": press.trigger_id, "view": edit_view(ticket_id, text)})

    async def _assist(self, ticket: Ticket, said: str, link: TicketLink) -> None:
        """Write a suggested reply to ``said`` and show it to the ticket's operator only."""
        assert self.suggest is not None and ticket.operator is not None
        try:
            suggestion = await self.suggest(said, language_hint=ticket.language)
            if suggestion is None or not suggestion.text.strip():
                log.info("slack desk: nothing to suggest for ticket %d", ticket.id)
                return
            content = suggestion_message(ticket.id, suggestion)
            await self.adapter.call(
                "chat.postEphemeral",
                {
                    "channel": link.place,
                    "user": ticket.operator,
                    "thread_ts": link.ref,
                    "text": content.text,
                    "blocks": content.blocks,
                },
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("slack desk: no suggested reply for ticket %d", ticket.id)

    async def _show(self, ticket: Ticket, *, intent: str | None) -> TicketLink:
        """Post ``ticket``'s message and remember where (a ticket already shown keeps its message)."""
        known = await self.links.of_ticket(ticket.id)
        if known is not None:
            return known
        transcript = await self.desk.messages(ticket.id)
        content = ticket_message(ticket, transcript=transcript, intent=intent)
        answer = await self.adapter.call(
            "chat.postMessage", {"channel": self.channel, "text": content.text, "blocks": content.blocks}
        )
        link = TicketLink(
            ticket.id,
            str(answer.get("channel") or self.channel),
            str(answer["ts"]),
            intent,
            len(transcript),
            face_of(ticket),
        )
        await self.links.add(link)
        log.info("slack desk: ticket %d posted in %s (ts %s)", ticket.id, link.place, link.ref)
        return link

    async def _in_thread_once(
        self, ticket_id: int, link: TicketLink, message: TicketMessage, *, key: str | None
    ) -> bool:
        """Post ``message`` in the ticket's thread, once per ``key``: a post begun before a crash is looked for in
        the thread (by its metadata) before it is made again. False when it was there already."""
        if key is not None:
            state = await self.links.showing(ticket_id, key)
            if state == "shown" or (state == "begun" and await self._in_thread(link, key)):
                log.info("slack desk: message %s of ticket %d is in its thread already", key, ticket_id)
                await self.links.mark(ticket_id, key, "shown")
                return False
            await self.links.mark(ticket_id, key, "begun")
        await self._post(thread_line(message), thread_ts=link.ref, key=key)
        if key is not None:
            await self.links.mark(ticket_id, key, "shown")
        return True

    async def _post(self, message: SlackMessage, *, thread_ts: str, key: str | None = None) -> None:
        body: dict[str, Any] = {
            "channel": self.channel,
            "thread_ts": thread_ts,
            "text": message.text,
            "blocks": message.blocks,
        }
        if key is not None:
            body["metadata"] = {"event_type": MESSAGE_EVENT, "event_payload": {"key": key}}
        await self.adapter.call("chat.postMessage", body)

    async def _in_thread(self, link: TicketLink, key: str) -> bool:
        """Whether the ticket's thread holds kefu's post of message ``key`` (read with its metadata)."""
        cursor: str | None = None
        while True:
            query = {"channel": link.place, "ts": link.ref, "include_all_metadata": "true", "limit": "200"}
            answer = await self.adapter.call(
                "conversations.replies", query=query | ({"cursor": cursor} if cursor else {})
            )
            for message in answer.get("messages") or []:
                metadata = message.get("metadata") or {}
                if (
                    metadata.get("event_type") == MESSAGE_EVENT
                    and (metadata.get("event_payload") or {}).get("key") == key
                ):
                    return True
            cursor = (answer.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return False

    async def _tell(self, user_id: str, text: str, *, place: str | None = None, thread_ts: str | None = None) -> None:
        """An ephemeral note to ``user_id`` (a refusal, an error); a note that cannot be posted is only logged."""
        body: dict[str, Any] = {"channel": place or self.channel, "user": user_id, "text": text}
        if thread_ts:
            body["thread_ts"] = thread_ts
        try:
            await self.adapter.call("chat.postEphemeral", body)
        except (DeliveryFailed, DeliveryDeferred) as error:
            log.warning("slack desk: could not tell %s %r (%s)", user_id, text, error)


def _ticket_id(value: str) -> int:
    """A ticket id from a button value or a modal's metadata; ``HandoffError`` for anything else."""
    if not value.strip().isdigit() or len(value) > 18:
        raise HandoffError(f"{value[:40]!r} is not a ticket")
    return int(value)


def _suggestion(value: str) -> tuple[int, str]:
    """The ticket id and text a "Send" / "Edit" button carries; ``HandoffError`` for a malformed value."""
    try:
        data = json.loads(value)
        ticket, text = data["ticket"], data["text"]
    except (ValueError, TypeError, KeyError):
        raise HandoffError("that button carries no suggestion") from None
    if not isinstance(ticket, int) or isinstance(ticket, bool) or not isinstance(text, str) or not text.strip():
        raise HandoffError("that button carries no suggestion")
    return ticket, text
