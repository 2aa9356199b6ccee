"""What one turn leaves for the dashboard: channel, intent, the policy's move and why, media, stage timings.

A ``TurnFact`` holds no user id: the conversation is kept only as a digest (to count conversations and to find the
turn a 👍/👎 rates) and the shopper's words only masked (``bot.pii``), by the store that writes it.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.messages import Message, Reply
from bot.policy import Decision, Move

RELAY = "relay"
"""The move of a turn an operator owned: the message went to the ticket, the bot said nothing."""
NOTICE = "notice"
"""The move of a turn the channel answered itself, or that had nothing to answer (an empty message)."""

_UNANSWERED_WHY = ("no passage good enough", "low confidence")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def digest(text: str) -> str:
    """A short stable digest (conversation ids, reply texts): lets facts be matched without keeping the value."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def why_of(reason: str) -> str:
    """The rule behind a decision's reason, without its numbers: "passage relevance # >= #", "out of scope"."""
    head = re.split(r"[:;]", reason, maxsplit=1)[0].strip()
    return _NUMBER.sub("#", head)[:80] or "unknown"


def unanswered(move: str, why: str) -> bool:
    """Whether the shopper asked something the bot could not answer (the knowledge base's to-do list)."""
    if move in (Move.CLARIFY.value, Move.DECLINE.value):
        return True
    return move == Move.ESCALATE.value and why.startswith(_UNANSWERED_WHY)


@dataclass(frozen=True, slots=True)
class TurnFact:
    """One turn as the dashboard counts it."""

    channel: str
    conversation: str
    """A digest of the conversation id (``digest``), never the id itself."""
    move: str
    """The policy's move (answer, clarify, act, escalate, greet, goodbye, decline), or relay / notice."""
    why: str = ""
    """The rule that chose the move (``why_of``)."""
    reason: str = ""
    intent: str = ""
    language: str = ""
    voice: bool = False
    photo: bool = False
    question: str = ""
    """What the shopper said, in words (masked by the store before it is written)."""
    reply_digest: str = ""
    """A digest of the reply's text: a 👍/👎 under that reply finds its turn."""
    timings_ms: Mapping[str, float] = field(default_factory=dict)
    at: float = field(default_factory=time.time)

    @property
    def unanswered(self) -> bool:
        return unanswered(self.move, self.why)


def fact_of(message: Message, reply: Reply | None, decision: Decision | None, *, said: str) -> TurnFact:
    """The fact of one handled turn: ``reply`` None when an operator owned it; ``decision`` None when the policy
    did not run (the channel's own answer, nothing to answer)."""
    kinds = {attachment.kind for attachment in message.attachments}
    if reply is None:
        move, why = RELAY, "an operator owns the conversation"
    elif decision is None:
        move, why = NOTICE, why_of(reply.reason or "the channel answered")
    else:
        move, why = decision.action.value, why_of(decision.reason)
    return TurnFact(
        channel=message.conversation.channel,
        conversation=digest(str(message.conversation)),
        move=move,
        why=why,
        reason=(reply.reason or "") if reply is not None else why,
        intent=(reply.intent or "") if reply is not None else "",
        language=reply.language if reply is not None else "",
        voice=bool(kinds & {"voice", "audio"}),
        photo="photo" in kinds,
        question=said,
        reply_digest=digest(reply.text) if reply is not None else "",
        timings_ms=dict(reply.timings_ms) if reply is not None else {},
        at=message.timestamp if message.timestamp > 0 else time.time(),
    )
