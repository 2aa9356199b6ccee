"""Escalation to a person: tickets, the ``HandoffDesk`` protocol, and how operator replies reach the shopper."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, Protocol

from bot.errors import KefuError
from bot.messages import ConversationRef, Reply
from bot.sessions.base import HandoffState, Turn


class Deliver(Protocol):
    """Queues a reply for a conversation outside a turn (``Runtime.deliver``); the same ``key`` is queued once."""

    async def __call__(self, conversation: ConversationRef, reply: Reply, *, key: str | None = None) -> None: ...


class HandoffError(KefuError):
    """An operator action that cannot be done (unknown ticket, ticket already resolved); the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.user_message = message


class TicketState(StrEnum):
    OPEN = "open"
    """Waiting for an operator; the bot keeps answering."""
    TAKEN = "taken"
    """An operator owns the conversation; the bot is silent."""
    RESOLVED = "resolved"

    @property
    def handoff(self) -> HandoffState:
        """The conversation's hand-off state while its ticket is in this state."""
        return {
            TicketState.OPEN: HandoffState.WAITING,
            TicketState.TAKEN: HandoffState.HUMAN,
            TicketState.RESOLVED: HandoffState.RESOLVED,
        }[self]


@dataclass(frozen=True, slots=True)
class Ticket:
    id: int
    conversation: ConversationRef
    user_id: str
    state: TicketState
    reason: str
    language: str
    opened_at: float
    updated_at: float
    operator: str | None = None


@dataclass(frozen=True, slots=True)
class TicketMessage:
    author: str
    """``shopper``, ``bot``, ``operator`` or ``system``."""
    text: str
    at: float


class HandoffDesk(Protocol):
    """Where escalated conversations go (the built-in SQLite desk, mirrored to a Slack channel by
    ``bot.handoff.watched.WatchedDesk`` and ``adapters.slack.desk``).

    ``open`` creates a ticket carrying the recent transcript (a conversation has at most one open ticket: ``open``
    returns that one, so a turn run again after a crash never opens a second); ``post`` adds a shopper message
    to it; ``take``, ``reply`` and ``resolve`` are the operator's moves. ``reply`` must reach the shopper
    (through ``Deliver``).
    """

    async def open(
        self, *, conversation: ConversationRef, user_id: str, reason: str, language: str, transcript: Sequence[Turn]
    ) -> Ticket: ...

    async def get(self, ticket_id: int) -> Ticket: ...

    async def post(self, ticket_id: int, text: str, *, author: str = "shopper", key: str | None = None) -> None:
        """Add a message to the ticket; a message with a ``key`` already added (a turn handled again after a
        crash) is added once."""
        ...

    async def take(self, ticket_id: int, *, operator: str) -> Ticket: ...

    async def reply(self, ticket_id: int, text: str, *, operator: str, key: str | None = None) -> Ticket:
        """Relay ``text`` to the shopper; a reply with a ``key`` already relayed (a redelivered Slack event) is
        sent once."""
        ...

    async def resolve(self, ticket_id: int, *, operator: str) -> Ticket: ...

    async def tickets(self, *, states: Sequence[TicketState] = (TicketState.OPEN, TicketState.TAKEN)) -> list[Ticket]:
        """The tickets in ``states``, oldest first."""
        ...

    async def messages(self, ticket_id: int) -> list[TicketMessage]:
        """A ticket's messages, oldest first (texts masked)."""
        ...

    async def run_outbox(self) -> None:
        """Deliver, until cancelled, the operator replies queued where ``reply`` could not deliver them at once
        (another process, a crash); the running bot starts it as a task."""
        ...

    async def forget_user(self, user_id: str) -> int:
        """Delete the tickets of ``user_id``; how many."""
        ...

    async def purge(self, *, older_than_days: float) -> int:
        """Delete resolved tickets idle for longer than ``older_than_days``; how many."""
        ...


def face_of(ticket: Ticket) -> str:
    """What a ticket's message on another desk shows that can change: its state and owner (``TicketLink.face``)."""
    return f"{ticket.state.value}:{ticket.operator or ''}"


FINAL_FACE = f"{TicketState.RESOLVED.value}:"
"""How every face of a resolved ticket begins: such a message needs no more updates."""


ShowState = Literal["new", "begun", "shown"]
"""How far showing one ticket message on another desk went (``TicketLinks.showing``)."""


@dataclass(frozen=True, slots=True)
class TicketLink:
    """Ticket ``ticket_id`` is shown at ``place`` (a Slack channel) as ``ref`` (the message ts)."""

    ticket_id: int
    place: str
    ref: str
    intent: str | None = None
    """The intent the bot saw when it escalated (shown on the ticket)."""
    turns: int = 0
    """How many of the ticket's messages the ticket message shows as its opening transcript."""
    face: str | None = None
    """What the ticket message shows that can change (its state and owner, ``open:``, ``taken:U0ANA``,
    ``resolved:U0ANA``), so that another process or a restart updates it only when the ticket differs; None: unknown."""


class TicketLinks(Protocol):
    """Links of one desk (``desk``: e.g. ``slack``) between tickets and where they are shown."""

    async def add(self, link: TicketLink) -> None: ...

    async def of_ticket(self, ticket_id: int) -> TicketLink | None: ...

    async def at(self, place: str, ref: str) -> TicketLink | None: ...

    async def showing(self, ticket_id: int, key: str) -> ShowState:
        """How far showing the ticket's message ``key`` went: not begun, begun (kefu may have stopped before it
        knew whether the other desk took it), or done."""
        ...

    async def mark(self, ticket_id: int, key: str, state: ShowState) -> None: ...

    async def shown(self, ticket_id: int, face: str | None) -> None:
        """Note what the ticket's message shows now (None: unknown, e.g. an update the other desk may have missed)."""
        ...

    async def following(self) -> list[TicketLink]:
        """The links whose message does not show a resolved ticket: the ones to keep up to date."""
        ...
