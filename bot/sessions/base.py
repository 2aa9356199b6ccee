"""Conversation state: the ``Session`` record and the small async ``SessionStore`` protocol that keeps it."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Literal, Protocol

from bot.messages import Reply

if TYPE_CHECKING:
    from bot.insights.facts import TurnFact


class HandoffState(StrEnum):
    """Who answers the conversation: bot → waiting → human → resolved → bot."""

    BOT = "bot"
    WAITING = "waiting"
    """A ticket is open; the bot keeps answering until an operator takes over."""
    HUMAN = "human"
    """An operator owns the conversation; the bot stays silent and relays every shopper message."""
    RESOLVED = "resolved"
    """The operator closed the ticket; the next shopper message goes to the bot again."""


@dataclass(frozen=True, slots=True)
class Turn:
    """One line of the conversation as it is kept (personal data already masked)."""

    role: Literal["user", "bot", "operator"]
    text: str
    intent: str | None = None
    at: float = field(default_factory=time.time)


@dataclass(slots=True)
class Session:
    """What kefu remembers about one conversation between turns."""

    conversation: str
    """``str(ConversationRef)``: ``channel:conversation_id``."""
    user_id: str = ""
    language: str | None = None
    handoff: HandoffState = HandoffState.BOT
    ticket_id: int | None = None
    slots: dict[str, str] = field(default_factory=dict)
    """Values collected for a pending action, plus ``pending`` (the action waiting for them)."""
    counters: dict[str, int] = field(default_factory=dict)
    """E.g. ``low_confidence`` (the current streak of turns the bot was unsure about)."""
    history: list[Turn] = field(default_factory=list)
    """The last turns, oldest first (at most the store's ``history_turns``)."""
    updated_at: float = 0.0
    last_message_id: str | None = None
    """The platform id of the last message this session's state includes: a message handled again after a crash
    (saved, but its answer not yet recorded in the inbox) is recognised and answered with ``last_reply``."""
    last_reply: Reply | None = None
    """What the bot answered to ``last_message_id`` (None: an operator owned the conversation)."""

    def last_user_text(self) -> str | None:
        """The shopper's previous message, if any."""
        return next((turn.text for turn in reversed(self.history) if turn.role == "user"), None)


class SessionStore(Protocol):
    """Keeps sessions between turns. Implementations mask personal data in what they write."""

    async def load(self, conversation: str) -> Session:
        """The session of ``conversation``, or a fresh one when there is none."""
        ...

    async def save(self, session: Session, *, turns: Sequence[Turn] = (), fact: TurnFact | None = None) -> None:
        """Store ``session``'s state, append ``turns`` to its history and keep the turn's ``fact`` (for insights),
        in one transaction."""
        ...

    async def forget_user(self, user_id: str) -> int:
        """Delete everything kept about ``user_id`` (on the shopper's request); the number of sessions deleted."""
        ...

    async def purge(self, *, older_than_days: float) -> int:
        """Delete sessions idle for longer than ``older_than_days``; the number deleted."""
        ...

    async def close(self) -> None: ...
