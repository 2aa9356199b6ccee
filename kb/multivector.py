"""Multi-vector dense scoring: a chunk matches by its full text and, where it has one, by its title alone.

A FAQ chunk embedded as question + answer is diluted by a long answer, so a short shopper question can
match another entry's answer better than the right entry's question; query-question similarity is a
strong signal beside query-answer similarity in FAQ retrieval (Sakata et al. 2019). Each chunk with a
distinct title (FAQ question, section heading, product name) therefore has a second vector, and its
dense score combines both cosines. Chunks without a title score by their full text alone.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from kb.dense import DenseIndex

Combine = Literal["mean", "max"]
COMBINE: Combine = "mean"
"""How the two cosines combine, chosen on the dev split (tests/data/retrieval_dev.jsonl, docs/kb.md)."""
TITLE_WEIGHT = 0.5
"""``mean``: ``TITLE_WEIGHT * cos(query, title) + (1 - TITLE_WEIGHT) * cos(query, full text)`` (dev split)."""


class MultiVectorDense:
    """The full-text index and the title index of one knowledge base, scored together.

    ``title_rows[j]`` is the chunk whose title is row ``j`` of ``titles``. Flat (exact) bases score every
    chunk; approximate ones take the top candidates of both indexes and rescore their union exactly.
    """

    def __init__(
        self,
        full: DenseIndex,
        titles: DenseIndex,
        title_rows: np.ndarray,
        *,
        combine: Combine = COMBINE,
        title_weight: float = TITLE_WEIGHT,
    ) -> None:
        if len(titles) != len(title_rows):
            raise ValueError(f"{len(titles)} title vectors for {len(title_rows)} titled chunks")
        self.full = full
        self.titles = titles
        self.title_rows = np.asarray(title_rows, dtype=np.int64)
        self.title_of = np.full(len(full), -1, dtype=np.int64)
        self.title_of[self.title_rows] = np.arange(len(self.title_rows))
        self.combine: Combine = combine
        self.title_weight = title_weight

    def scores(self, rows: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(combined, full-text, title) cosines of ``query`` with the chunks ``rows``; untitled chunks' title
        cosine is their full one."""
        full = self.full.vectors[rows] @ query
        title = full.copy()
        slots = self.title_of[rows]
        titled = slots >= 0
        if titled.any():
            title[titled] = self.titles.vectors[slots[titled]] @ query
        return self._combined(full, title), full, title

    def _combined(self, full: np.ndarray, title: np.ndarray) -> np.ndarray:
        if self.combine == "max":
            return np.maximum(full, title)
        return self.title_weight * title + (1 - self.title_weight) * full

    def search(
        self, queries: np.ndarray, masks: list[np.ndarray | None], depth: int
    ) -> list[dict[int, tuple[int, float]]]:
        """Per query, the top ``depth`` chunks by combined score as ``{chunk: (rank, score)}``; masks restrict the
        chunks."""
        if self.full.kind == "flat" and not self.full.on_gpu:
            return [self._exact(query, mask, depth) for query, mask in zip(queries, masks, strict=True)]
        return [self._union(query, mask, depth) for query, mask in zip(queries, masks, strict=True)]

    def _exact(self, query: np.ndarray, mask: np.ndarray | None, depth: int) -> dict[int, tuple[int, float]]:
        if mask is not None:
            rows = np.flatnonzero(mask)
            return _top(rows, self.scores(rows, query)[0], depth)
        full = self.full.vectors @ query  # every chunk, without copying the vectors
        title = full.copy()
        title[self.title_rows] = self.titles.vectors @ query
        return _top(np.arange(len(full)), self._combined(full, title), depth)

    def _union(self, query: np.ndarray, mask: np.ndarray | None, depth: int) -> dict[int, tuple[int, float]]:
        _, full_ids = self.full.search(query[None], depth, allowed=mask)
        title_mask = None if mask is None else mask[self.title_rows]
        _, title_ids = self.titles.search(query[None], depth, allowed=title_mask)
        titled = self.title_rows[title_ids[0][title_ids[0] >= 0]]
        rows = np.union1d(full_ids[0][full_ids[0] >= 0], titled)
        return _top(rows, self.scores(rows, query)[0], depth)


def _top(rows: np.ndarray, scores: np.ndarray, depth: int) -> dict[int, tuple[int, float]]:
    """The ``depth`` best ``rows`` by score (ties by row), ranked from 1."""
    order = np.lexsort((rows, -scores))[:depth]
    return {int(rows[n]): (rank, float(scores[n])) for rank, n in enumerate(order, start=1)}
