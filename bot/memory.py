"""Conversation memory for one turn: follow-up questions rewritten with the previous one, history for generators."""

from __future__ import annotations

import re

from bot.generation.base import HistoryTurn
from bot.sessions.base import Session

_EN_FOLLOW_UP = re.compile(
    r"^\s*(?:and|also|or|plus|same for|what about|how about|and what about|what if|and if|and for|and with)\b"
    r"|\b(?:too|as well|either)\s*[?.!]*\s*$",
    re.IGNORECASE,
)
_ZH_FOLLOW_UP = re.compile(r"^\s*(?:那|还有|那么|另外|同样|如果是)|呢\s*[?？。]*\s*$")
MAX_FOLLOW_UP_WORDS = 6
MAX_FOLLOW_UP_CHARS = 14


def is_follow_up(text: str, language: str) -> bool:
    """True for a short elliptical message that continues the previous one ("and for shoes?", "那鞋子呢？")."""
    if language == "zh":
        return len(text.strip()) <= MAX_FOLLOW_UP_CHARS and bool(_ZH_FOLLOW_UP.search(text))
    return len(text.split()) <= MAX_FOLLOW_UP_WORDS and bool(_EN_FOLLOW_UP.search(text))


def follow_up_query(text: str, language: str, session: Session) -> str | None:
    """The query to embed and search for a follow-up: the previous user message joined with this one; else None."""
    previous = session.last_user_text()
    if not previous or not is_follow_up(text, language):
        return None
    return f"{previous} {text.strip()}"


def generation_history(session: Session, *, turns: int = 3) -> tuple[HistoryTurn, ...]:
    """The last ``turns`` user→bot exchanges of ``session``, oldest first."""
    pairs: list[HistoryTurn] = []
    pending_user: str | None = None
    for turn in session.history:
        if turn.role == "user":
            pending_user = turn.text
        elif pending_user is not None:
            pairs.append(HistoryTurn(user=pending_user, bot=turn.text, intent=turn.intent))
            pending_user = None
    return tuple(pairs[-turns:])
