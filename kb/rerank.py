"""A second stage: the first stage's top candidates reordered by a second encoder's similarity (rank fusion).

The passages' second-encoder vectors are computed once, at build time, and stored beside the index; a search
only encodes its questions (one batch), and only those whose first two candidates are close. The fused order is
``1 / (RRF_K + first-stage rank) + 1 / (RRF_K + second encoder's rank)`` over the first ``DEPTH`` candidates; the
rest keep their order after them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kb.chunks import Hit
from kb.encoders import Encoder

DEPTH = 10
"""Candidates reordered (chosen on tests/data/retrieval_dev.jsonl: 10 beat 5 and 20 at recall@1)."""
RRF_K = 10
"""The rank-fusion constant; 5, 10 and 60 gave the same recall@1 on the dev questions, 10 the best recall@5."""
MARGIN = 0.02
"""Only a question whose first two candidates' fused scores are closer than this is reordered (and encoded): on the
dev questions 0.01-0.05 kept recall@1 at 0.867 (reordering every question: 0.883) while reordering 13-45 % of
them; 0.02 reordered 18 %. A clear first-stage winner is left alone and costs nothing more; so is a question no
passage answers (under the first stage's relevance floor): of the 840 intent examples the pipeline bench replays,
307 are close calls and 108 of those reach the floor."""


class Reranker:
    """Reorders hits by reciprocal-rank fusion of their first-stage rank and ``encoder``'s cosine rank.

    ``vectors`` holds one passage vector per chunk id (the encoder's ``encode_documents`` where it has one).
    """

    def __init__(
        self, encoder: Encoder, vectors: dict[str, np.ndarray], *, depth: int = DEPTH, margin: float = MARGIN
    ) -> None:
        self.encoder = encoder
        self.name = encoder.name
        self.vectors = vectors
        self.depth = depth
        self.margin = margin

    def rerank(
        self, texts: Sequence[str], results: Sequence[Sequence[Hit]], *, min_relevance: float = 0.0
    ) -> list[list[Hit]]:
        """``results`` (one hit list per text, best first) reordered where the first two are within ``margin`` and a
        hit's ``dense_score`` reaches ``min_relevance`` (a question nothing answers is not worth encoding again); hits
        without a stored vector rank last in the second encoder's order."""
        asked = [n for n, hits in enumerate(results) if _close_call(hits, self.margin, min_relevance)]
        reordered = [list(hits) for hits in results]
        if not asked:
            return reordered
        queries = self.encoder.encode([texts[n] for n in asked])
        for n, query in zip(asked, queries, strict=True):
            top = reordered[n][: self.depth]
            cosines = np.array([float(self.vectors[h.id] @ query) if h.id in self.vectors else -2.0 for h in top])
            second = np.empty(len(top), dtype=np.int64)
            second[np.argsort(-cosines, kind="stable")] = np.arange(1, len(top) + 1)
            fused = [1.0 / (RRF_K + first) + 1.0 / (RRF_K + int(second[first - 1])) for first in range(1, len(top) + 1)]
            order = sorted(range(len(top)), key=lambda i: (-fused[i], i))
            reordered[n] = [_with_score(top[i], cosines[i], self.name) for i in order] + reordered[n][self.depth :]
        return reordered


def _close_call(hits: Sequence[Hit], margin: float, min_relevance: float) -> bool:
    """Whether the first stage's first two hits are within ``margin`` and one of the hits is relevant enough."""
    if len(hits) < 2 or hits[0].score - hits[1].score >= margin:
        return False
    return max(float(hit.metadata.get("dense_score", 1.0)) for hit in hits) >= min_relevance


def _with_score(hit: Hit, cosine: float, name: str) -> Hit:
    """``hit`` with the second encoder's cosine in its metadata (``rerank_score``), for traces and evaluation."""
    metadata = dict(hit.metadata)
    metadata.update(rerank_score=float(cosine), rerank_encoder=name)
    return Hit(id=hit.id, title=hit.title, text=hit.text, score=hit.score, metadata=metadata)
