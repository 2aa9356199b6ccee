"""Word error rate, the measure behind the speech tests, the window-margin table and ``kefu bench speech``."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_HAN = re.compile(r"[\u3400-\u9fff]")


def normalize(text: str) -> list[str]:
    """Comparable tokens: lower case, no punctuation or apostrophes, hyphens split; Han text one character each."""
    text = unicodedata.normalize("NFKC", text).lower().replace("-", " ").replace("'", "").replace("’", "")
    text = "".join(ch if ch.isalnum() or ch.isspace() else " " for ch in text)
    tokens: list[str] = []
    for word in text.split():
        tokens.extend(list(word) if _HAN.search(word) else [word])
    return tokens


def edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    """Levenshtein distance between token lists (substitutions, insertions and deletions each cost one)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i]
        for j, hyp in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1]


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Edits needed to turn the hypothesis into the reference, per reference word."""
    ref = normalize(reference)
    return edit_distance(ref, normalize(hypothesis)) / max(1, len(ref))


def corpus_wer(pairs: Iterable[tuple[str, str]]) -> float:
    """WER over many (reference, hypothesis) pairs: total edits over total reference words."""
    edits = words = 0
    for reference, hypothesis in pairs:
        ref = normalize(reference)
        edits += edit_distance(ref, normalize(hypothesis))
        words += len(ref)
    return edits / max(1, words)
