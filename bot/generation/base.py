"""The generation extension point: retrieved passages and the question in, a grounded answer out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.catalogue import Catalogue
from bot.intents.roles import Role
from bot.protocols import Hit


@dataclass(frozen=True, slots=True)
class HistoryTurn:
    """One earlier exchange of the conversation, oldest first in a request."""

    user: str
    bot: str
    intent: str | None = None


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    question: str
    language: str
    """The shopper's language; the answer must be written in it."""
    passages: Sequence[Hit]
    """Retrieved passages, best first; the answer may only use these."""
    intent: str | None = None
    """The turn's intent as the shop names it; None when the turn was not classified (agent assist)."""
    role: Role | None = None
    """What the core does with ``intent`` (``bot.intents.roles``); the answer decides on it, never on the name."""
    history: Sequence[HistoryTurn] = field(default_factory=tuple)
    parts: Sequence[Sequence[Hit]] = field(default_factory=tuple)
    """For a message asking several things: each question's own passages, best first, in the message's order
    (every one of them is also in ``passages``). Empty for a single question."""
    catalogue: Catalogue = field(default_factory=Catalogue)
    """The colour vocabulary and size charts, for answers from the catalogue's structure; a size chart an answer
    cites is a source even when it is not among ``passages``."""
    product: Hit | None = None
    """The product the question names and asks about (its stock, price, sizes, colours): the answer is about it.
    It is the first of ``passages``."""


@dataclass(frozen=True, slots=True)
class Generation:
    text: str
    source_ids: tuple[str, ...]
    """Ids of the passages the answer relies on, each one of ``request.passages`` or a size chart of
    ``request.catalogue``."""
    backend: str


class Generator(Protocol):
    """Writes the answer. Implementations must not state anything the passages do not support."""

    async def generate(self, request: GenerationRequest) -> Generation: ...

    async def close(self) -> None:
        """Release what the generator holds (an HTTP session, a model); the bot calls it once, at stop."""
        ...
