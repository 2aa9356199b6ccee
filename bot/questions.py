"""Two questions in one message: "how much is shipping and how long does a refund take?", "能开发票吗？多久能收到？"."""

from __future__ import annotations

import itertools
import re

from bot.language import script_words

_MARK = re.compile(r"(?<=[?？])\s*")
_QUESTION_WORD = r"(?:how|what|when|where|who|which|why|can|could|do|does|is|are|will|would|should)\b"
_EN_JOIN = re.compile(r",?\s+(?:and|also|plus)\s+(?=" + _QUESTION_WORD + ")", re.IGNORECASE)
"""Only "and/also/plus" joins two English questions: after a bare comma a question word usually follows a condition
("I paid yesterday, when will it ship?", "we used the pot, can we still return it?")."""
_EN_ASKS = re.compile(r"\s*(?:(?:and|also|plus)\s+)?" + _QUESTION_WORD, re.IGNORECASE)
_ZH_CLAUSE = re.compile(r"[，,；;]")
_ZH_ASKS = re.compile(r"吗|嘛|么|多少|怎么|几|什么|哪|谁|多久|多长|能不能|可不可以|是否|有没有")
MIN_PART_CHARS = 4
MIN_PART_WORDS = 2
"""A part of fewer words ("hello?", "why?") is not a question of its own."""
SHORT_WORDS = 4
"""A question of fewer words (Chinese words counted as in ``bot.language``) is searched with the one before it."""


def split_question(text: str, *, limit: int = 3) -> list[str]:
    """The questions in ``text``, in order: split at question marks, then at "and how…" (English) or at a comma
    between two clauses that each ask something (Chinese); every part must ask something and have two words or
    more. One part when it asks one thing."""
    parts = [p.strip() for p in _MARK.split(text.strip()) if p.strip()]
    if len(parts) == 1:
        parts = [p.strip() for p in _EN_JOIN.split(parts[0]) if p.strip()]
    if len(parts) == 1:
        clauses = [c.strip() for c in _ZH_CLAUSE.split(parts[0]) if c.strip()]
        if len(clauses) > 1 and all(_ZH_ASKS.search(c) for c in clauses):
            parts = clauses
    parts = [p for p in parts if len(p) >= MIN_PART_CHARS and sum(script_words(p)) >= MIN_PART_WORDS and _asks(p)]
    if len(parts) < 2:
        return [text.strip()]
    parts = parts[:limit]
    # "…to beijing and how long": a short follow-on question is about the previous one's subject
    return [parts[0], *(f"{before} {part}" if _short(part) else part for before, part in itertools.pairwise(parts))]


def _asks(part: str) -> bool:
    """Whether ``part`` is a question ("placed it on monday" after "can you check my order?" is not)."""
    return part.rstrip().endswith(("?", "？")) or bool(_EN_ASKS.match(part) or _ZH_ASKS.search(part))


def _short(part: str) -> bool:
    han, latin = script_words(part)
    return han + latin < SHORT_WORDS
