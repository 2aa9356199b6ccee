"""Escalation to a person: the ``HandoffDesk`` protocol and the built-in SQLite desk (``kefu handoff``)."""

from bot.handoff.base import Deliver, HandoffDesk, HandoffError, Ticket, TicketMessage, TicketState

__all__ = ["Deliver", "HandoffDesk", "HandoffError", "Ticket", "TicketMessage", "TicketState"]
