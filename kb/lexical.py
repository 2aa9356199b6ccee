"""BM25 over chunk texts with ``bm25s``, tokenised by ``kb.tokenize`` (jieba + stopwords for Chinese)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kb.tokenize import prepare, tokenize


class LexicalIndex:
    """A BM25 model over a fixed list of texts, searched by dense score vectors (small to medium bases)."""

    def __init__(self, model: Any, size: int) -> None:  # a bm25s.BM25, which is untyped
        self.model = model
        self.size = size

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        import bm25s

        model = bm25s.BM25()
        corpus = [tokenize(text) or [""] for text in texts]
        if corpus:
            model.index(corpus, show_progress=False)
        return cls(model, len(texts))

    def scores(self, query: str, *, allowed: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every text for ``query`` (0 where a term is absent); masked-out texts get -inf."""
        tokens = tokenize(query)
        known = [token for token in tokens if token in self.model.vocab_dict] if self.size else []
        scores = self.model.get_scores(known) if known else np.zeros(self.size, dtype=np.float32)
        scores = np.asarray(scores, dtype=np.float32)
        if allowed is not None:
            scores = np.where(allowed, scores, -np.inf).astype(np.float32)
        return scores

    def search(self, query: str, k: int, *, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (scores, ids) with a positive score, best first (fewer than ``k`` when few texts match)."""
        return top_k(self.scores(query, allowed=allowed), k)

    def save(self, path: Path) -> None:
        self.model.save(str(path), show_progress=False)

    @classmethod
    def load(cls, path: Path, size: int) -> LexicalIndex:
        import bm25s

        prepare()  # a loaded index is about to answer questions, Chinese ones included
        return cls(bm25s.BM25.load(str(path), show_progress=False), size)


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best positive entries of ``scores`` as (scores, ids), best first."""
    positive = np.flatnonzero(scores > 0)
    if len(positive) == 0:
        return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
    order = positive[np.argsort(-scores[positive], kind="stable")][:k]
    return scores[order], order.astype(np.int64)
