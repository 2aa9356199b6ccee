"""Specific-term evidence: among the first stage's close neighbours, a passage holding the question's rarest word wins.

A question that names a carrier, a region, a payment method or a condition ("DHL", "新疆", "amex", "clearance") is
often answered by the one passage that mentions it, while the encoder ranks a more general neighbour first. Each of
the first ``DEPTH`` hits gains ``WEIGHT`` times the inverse document frequency of the rarest query word it contains,
divided by that of the rarest query word the corpus knows; the hits are reordered by the sum. Only the first ``DEPTH``
move, so recall@``DEPTH`` is unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

from kb.chunks import Chunk, Hit
from kb.lexical import LexicalIndex
from kb.tokenize import tokenize

DEPTH = 5
"""Hits reordered. Chosen on tests/data/retrieval_dev.jsonl: 3, 5 and 10 gave the same cross-validated recall@1, and
10 lost recall@5 (a passage sharing one rare word climbed past an answer at rank 4-5)."""
WEIGHT = 0.12
"""The bonus for holding the question's rarest known word, on the fused score's 0-1 scale: chosen by 5-fold
cross-validation on the dev questions (picked in 38 of 50 folds; 0.1 and 0.14 in the rest)."""
TOKEN_CACHE = 4096
"""Passages whose word sets are kept (tokenised on first use, so a large base pays only for what it returns)."""


class TermEvidence:
    """Reorders the first hits by how rare the rarest query word they contain is (IDF from the BM25 index)."""

    def __init__(
        self, chunks: Sequence[Chunk], lexical: LexicalIndex, *, depth: int = DEPTH, weight: float = WEIGHT
    ) -> None:
        self.depth = depth
        self.weight = weight
        self._idf = _idf_table(lexical)
        positions = {chunk.id: n for n, chunk in enumerate(chunks)}
        self._position = positions.get
        self._texts = [chunk.search_text for chunk in chunks]
        self._words = lru_cache(maxsize=TOKEN_CACHE)(self._chunk_words)

    def reorder(self, texts: Sequence[str], results: Sequence[Sequence[Hit]]) -> list[list[Hit]]:
        """``results`` (one hit list per text, best first) with each list's first ``depth`` hits reordered by fused
        score plus evidence; every hit's ``score`` becomes ``(score + bonus) / (1 + weight)`` (still in [0, 1] and
        still descending) and its metadata gains ``term_evidence`` (the bonus before weighting)."""
        return [self._reorder_one(text, hits) for text, hits in zip(texts, results, strict=True)]

    def evidence(self, query: str, chunk_id: str) -> float:
        """IDF of the rarest query word in the passage over that of the rarest known query word (0 to 1)."""
        weights = self._query_weights(query)
        return self._evidence(weights, chunk_id)

    def _reorder_one(self, query: str, hits: Sequence[Hit]) -> list[Hit]:
        if not hits:
            return []
        weights = self._query_weights(query)
        scale = 1.0 + self.weight
        top = [(hit, self._evidence(weights, hit.id)) for hit in hits[: self.depth]]
        ordered = sorted(enumerate(top), key=lambda item: (-(item[1][0].score + self.weight * item[1][1]), item[0]))
        reordered = [_rescored(hit, (hit.score + self.weight * bonus) / scale, bonus) for _, (hit, bonus) in ordered]
        return reordered + [_rescored(hit, hit.score / scale, 0.0) for hit in hits[self.depth :]]

    def _query_weights(self, query: str) -> dict[str, float]:
        """The query's words the corpus holds, each with its IDF as a share of the rarest one's."""
        idf = {word: self._idf[word] for word in set(tokenize(query)) if word in self._idf}
        rarest = max(idf.values(), default=0.0)
        return {word: value / rarest for word, value in idf.items()} if rarest > 0 else {}

    def _evidence(self, weights: dict[str, float], chunk_id: str) -> float:
        position = self._position(chunk_id)
        if not weights or position is None:
            return 0.0
        words = self._words(position)
        return max((share for word, share in weights.items() if word in words), default=0.0)

    def _chunk_words(self, position: int) -> frozenset[str]:
        return frozenset(tokenize(self._texts[position]))


def _idf_table(lexical: LexicalIndex) -> dict[str, float]:
    """Each indexed word's inverse document frequency, ``ln(1 + (N - df + 0.5) / (df + 0.5))``, from the BM25 index's
    postings (how many passages hold the word)."""
    model = lexical.model
    scores = getattr(model, "scores", None)
    if lexical.size == 0 or not isinstance(scores, dict) or "indptr" not in scores:
        return {}
    pointers = scores["indptr"]
    total = lexical.size
    table = {}
    for word, column in model.vocab_dict.items():
        if word and column + 1 < len(pointers):
            df = int(pointers[column + 1] - pointers[column])
            if df > 0:
                table[word] = math.log(1.0 + (total - df + 0.5) / (df + 0.5))
    return table


def _rescored(hit: Hit, score: float, bonus: float) -> Hit:
    metadata = dict(hit.metadata)
    metadata["term_evidence"] = float(bonus)
    return Hit(id=hit.id, title=hit.title, text=hit.text, score=float(score), metadata=metadata)
