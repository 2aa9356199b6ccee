"""Unanswered questions grouped by similarity: by the sentence encoder when one is at hand (cosine of its
normalised vectors), else by a cheap lexical overlap (words, and character pairs for Chinese)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.protocols import Encoder

_WORD = re.compile(r"[a-z0-9]+|[\u3400-\u9fff]+")
_MASKED = re.compile(r"\[[^\]]*\]|\S+@\S+")
"""What ``bot.pii`` left in place of personal data (``[phone …8000]``, ``l***@example.com``): not the question."""
_STOP = frozenset(
    re.findall(
        r"\w+",
        "a an the i me my you your we our us it is are am do does did can could will would to of on in at for with"
        " and or be have has please hi hello there this that what how when where why which",
    )
)
LEXICAL_THRESHOLD = 0.5
ENCODER_THRESHOLD = 0.75


@dataclass(slots=True)
class QuestionGroup:
    """Similar questions: the most asked wording, how many times the group was asked, a few other wordings."""

    question: str
    count: int
    examples: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {"question": self.question, "count": self.count, "examples": self.examples}


def _features(text: str) -> frozenset[str]:
    """Lower-cased words, and overlapping character pairs of Chinese runs (which have no spaces)."""
    features: set[str] = set()
    for token in _WORD.findall(_MASKED.sub(" ", text.lower())):
        if token in _STOP:
            continue
        if token[0] >= "\u3400":
            features.update(token[i : i + 2] for i in range(max(1, len(token) - 1)))
        else:
            features.add(token)
    return frozenset(features)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def group_questions(
    texts: Sequence[str], *, encoder: Encoder | None = None, threshold: float | None = None, examples: int = 3
) -> list[QuestionGroup]:
    """Group ``texts`` greedily, most asked wording first: each joins the first group whose leading wording is at
    least ``threshold`` similar. Groups come most asked first. ``encoder`` is called once, on the distinct wordings."""
    wordings = Counter(" ".join(text.split()) for text in texts if text.strip())
    ranked = [text for text, _ in wordings.most_common()]
    if not ranked:
        return []
    leaders: list[int] = []
    members: dict[int, list[int]] = {}
    if encoder is not None:
        vectors = np.asarray(encoder.encode(ranked), dtype=np.float32)
        limit = ENCODER_THRESHOLD if threshold is None else threshold
        for i in range(len(ranked)):
            scores = vectors[leaders] @ vectors[i] if leaders else np.empty(0)
            best = int(np.argmax(scores)) if len(scores) else -1
            _join(leaders, members, i, leaders[best] if best >= 0 and scores[best] >= limit else None)
    else:
        features = [_features(text) for text in ranked]
        limit = LEXICAL_THRESHOLD if threshold is None else threshold
        for i in range(len(ranked)):
            near = next((lead for lead in leaders if _jaccard(features[lead], features[i]) >= limit), None)
            _join(leaders, members, i, near)
    groups = [
        QuestionGroup(
            question=ranked[lead],
            count=sum(wordings[ranked[m]] for m in members[lead]),
            examples=[ranked[m] for m in members[lead][1 : examples + 1]],
        )
        for lead in leaders
    ]
    return sorted(groups, key=lambda group: -group.count)


def _join(leaders: list[int], members: dict[int, list[int]], item: int, leader: int | None) -> None:
    if leader is None:
        leaders.append(item)
        members[item] = [item]
    else:
        members[leader].append(item)


class RememberingEncoder:
    """An ``Encoder`` that keeps the vectors of the last ``size`` texts it encoded: the dashboard groups mostly the
    same unanswered questions on every refresh, so only new ones reach the model."""

    def __init__(self, encoder: Encoder, *, size: int = 20_000) -> None:
        self.encoder = encoder
        self.name, self.dim = encoder.name, encoder.dim
        self.size = size
        self._kept: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        new = list(dict.fromkeys(text for text in texts if text not in self._kept))
        if new:
            for text, vector in zip(new, np.asarray(self.encoder.encode(new), dtype=np.float32), strict=True):
                self._kept[text] = vector
            for old in list(self._kept)[: max(0, len(self._kept) - self.size)]:
                del self._kept[old]
        return np.stack([self._kept[text] for text in texts]) if texts else np.empty((0, self.dim), np.float32)
