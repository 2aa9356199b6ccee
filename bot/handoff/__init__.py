"""Escalation to a person: the ``HandoffDesk`` protocol, the built-in SQLite desk (``kefu handoff``), and the
``WatchedDesk`` that shows its tickets on another desk (the Slack hand-off channel)."""

from bot.handoff.base import (
    Deliver,
    HandoffDesk,
    HandoffError,
    ShowState,
    Ticket,
    TicketLink,
    TicketLinks,
    TicketMessage,
    TicketState,
)

__all__ = [
    "Deliver",
    "HandoffDesk",
    "HandoffError",
    "ShowState",
    "Ticket",
    "TicketLink",
    "TicketLinks",
    "TicketMessage",
    "TicketState",
]
