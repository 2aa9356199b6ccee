"""Retrieval evaluation on labelled questions: recall@k and MRR per retriever, and a relevance threshold."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kb.errors import BadSourceFormat
from kb.search import KnowledgeBase, Mode
from kb.textio import read_text

MODES: tuple[Mode, ...] = ("dense", "bm25", "hybrid", "evidence")
KS = (1, 5, 10)


def load_questions(path: Path) -> list[dict[str, Any]]:
    """Questions from a JSON-lines file of ``{"question", "language", "relevant": [chunk ids]}``.

    An empty ``relevant`` list marks a question the knowledge base should not answer (out of scope).
    """
    questions = []
    for line_no, line in enumerate(read_text(Path(path)).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            raise BadSourceFormat(f"{path} line {line_no} is not JSON: {error.msg}", path=path) from error
        if not (
            isinstance(item, dict) and isinstance(item.get("question"), str) and isinstance(item.get("relevant"), list)
        ):
            raise BadSourceFormat(f'{path} line {line_no} needs "question" (text) and "relevant" (a list)', path=path)
        questions.append(item)
    return questions


def evaluate(
    knowledge: KnowledgeBase, questions: Sequence[dict[str, Any]], *, language_filter: bool = True
) -> dict[str, Any]:
    """recall@1/5/10 and MRR of dense-only, BM25-only and hybrid search over the in-scope questions, and of hybrid
    search with the second stage (``rerank``) when the knowledge base has one.

    recall@k is the share of questions with at least one answering chunk in the top k (several chunks
    may answer one question, e.g. a FAQ entry and a policy section); MRR uses the first answering chunk.

    With ``language_filter`` each question is searched with ``{"language": its language}``, as the
    pipeline does. Unknown chunk ids in the labels are an error (the labels no longer fit the store).
    """
    if knowledge.encoder is None:
        raise ValueError("evaluation needs a knowledge base loaded with its encoder")
    known = {chunk.id for chunk in knowledge.chunks}
    unknown = sorted({rid for q in questions for rid in q["relevant"] if rid not in known})
    if unknown:
        raise ValueError(f"labels name chunk ids the knowledge base lacks: {', '.join(unknown[:10])}")
    in_scope = [q for q in questions if q["relevant"]]
    texts = [q["question"] for q in questions]
    vectors = knowledge.encoder.encode(texts)
    filters = [{"language": q["language"]} if language_filter and q.get("language") else None for q in questions]
    report: dict[str, Any] = {"questions": len(in_scope), "out_of_scope": len(questions) - len(in_scope), "modes": {}}
    modes = (*MODES, "rerank") if knowledge.reranker is not None else MODES
    for mode in modes:
        results = knowledge.retrieve(texts, vectors, k=max(KS), filters=filters, mode=mode)
        scored = [(q, [hit.id for hit in hits]) for q, hits in zip(questions, results, strict=True) if q["relevant"]]
        row = {f"recall@{k}": _mean([_recall(q["relevant"], ids[:k]) for q, ids in scored]) for k in KS}
        row["mrr"] = _mean([_reciprocal_rank(q["relevant"], ids) for q, ids in scored])
        report["modes"][mode] = row
        if mode == "hybrid":
            top = [hits[0].metadata["dense_score"] if hits else 0.0 for hits in results]
            report["threshold"] = best_threshold(
                [s for s, q in zip(top, questions, strict=True) if q["relevant"]],
                [s for s, q in zip(top, questions, strict=True) if not q["relevant"]],
            )
    return report


def best_threshold(in_scope: Sequence[float], out_of_scope: Sequence[float]) -> dict[str, float] | None:
    """The cut on the top hit's dense score that best separates answerable from out-of-scope questions.

    Maximises balanced accuracy (mean of the two pass/reject rates); None without both kinds of question.
    """
    if not in_scope or not out_of_scope:
        return None
    pos, neg = np.asarray(in_scope), np.asarray(out_of_scope)
    best: dict[str, float] = {}
    for cut in np.unique(np.concatenate([pos, neg])):
        kept, rejected = float((pos >= cut).mean()), float((neg < cut).mean())
        if not best or (kept + rejected) / 2 > best["balanced_accuracy"]:
            best = {
                "min_dense_score": round(float(cut), 3),
                "in_scope_kept": kept,
                "out_of_scope_rejected": rejected,
                "balanced_accuracy": (kept + rejected) / 2,
            }
    return best


def _recall(relevant: Sequence[str], ids: Sequence[str]) -> float:
    """1 when any chunk that answers the question is among ``ids`` (answer found in the top k), else 0."""
    return 1.0 if set(relevant) & set(ids) else 0.0


def _reciprocal_rank(relevant: Sequence[str], ids: Sequence[str]) -> float:
    return next((1.0 / rank for rank, cid in enumerate(ids, start=1) if cid in relevant), 0.0)


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if values else 0.0
