"""The policy: given what was understood and retrieved, choose to answer, clarify, act or escalate.

Every decision carries its reason, which goes into the turn's trace and the log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.messages import HUMAN_PAYLOAD
from bot.protocols import Hit


class Action(StrEnum):
    ANSWER = "answer"
    CLARIFY = "clarify"
    ESCALATE = "escalate"
    GREET = "greet"
    GOODBYE = "goodbye"
    DECLINE = "decline"


@dataclass(frozen=True, slots=True)
class TurnFacts:
    """What the pipeline knows when it decides."""

    text: str
    language: str
    intent: str | None
    confidence: float
    out_of_scope: bool
    hits: Sequence[Hit]
    payload: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    reason: str


def passage_relevance(hit: Hit) -> float:
    """How well a passage matches, on the dense cosine scale when the retriever reports it."""
    return float(hit.metadata.get("dense_score", hit.score))


class Policy:
    """Rules in order: explicit human request, small talk, a good enough passage, out of scope, clarify.

    ``min_relevance`` is the passage relevance under which the bot would rather not answer than guess;
    ``min_confidence`` the intent confidence under which an intent does not drive the decision.
    """

    def __init__(self, *, min_relevance: float, min_confidence: float = 0.5) -> None:
        self.min_relevance = min_relevance
        self.min_confidence = min_confidence

    def decide(self, facts: TurnFacts) -> Decision:
        confident = facts.intent is not None and facts.confidence >= self.min_confidence and not facts.out_of_scope
        best = max((passage_relevance(hit) for hit in facts.hits), default=0.0)
        if facts.payload == HUMAN_PAYLOAD:
            return Decision(Action.ESCALATE, "the shopper pressed the talk-to-a-human button")
        if confident and facts.intent == "human_agent":
            return Decision(Action.ESCALATE, f"intent human_agent ({facts.confidence:.2f})")
        if confident and facts.intent in ("greeting", "goodbye") and best < self.min_relevance + 0.1:
            action = Action.GREET if facts.intent == "greeting" else Action.GOODBYE
            return Decision(action, f"intent {facts.intent} ({facts.confidence:.2f})")
        if best >= self.min_relevance and not (confident and facts.intent == "other"):
            return Decision(Action.ANSWER, f"passage relevance {best:.2f} >= {self.min_relevance:.2f}")
        if facts.out_of_scope or (confident and facts.intent == "other"):
            return Decision(Action.DECLINE, f"out of scope (intent {facts.intent}, relevance {best:.2f})")
        return Decision(Action.CLARIFY, f"nothing relevant enough (best {best:.2f} < {self.min_relevance:.2f})")
