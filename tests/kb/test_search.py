"""Hybrid search on the demo store: quality against single retrievers, filters, batching, the Hit contract."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from kb import dense as dense_module
from kb.bench import synthetic_vectors
from kb.dense import DenseIndex
from kb.evaluate import evaluate, load_questions
from kb.search import KnowledgeBase
from tests.kb.conftest import QUESTIONS


def test_labelled_set_is_large_bilingual_and_fits_the_store(demo_kb: KnowledgeBase) -> None:
    questions = load_questions(QUESTIONS)
    assert len(questions) >= 120
    languages = {q["language"] for q in questions}
    assert languages == {"zh", "en"}
    known = {c.id for c in demo_kb.chunks}
    assert all(q["relevant"] and set(q["relevant"]) <= known for q in questions)


def test_hybrid_beats_dense_only_and_bm25_only(demo_kb: KnowledgeBase) -> None:
    report = evaluate(demo_kb, load_questions(QUESTIONS))
    dense, bm25, hybrid = (report["modes"][m] for m in ("dense", "bm25", "hybrid"))
    for metric in ("recall@5", "mrr"):
        assert hybrid[metric] > dense[metric], metric
        assert hybrid[metric] > bm25[metric], metric
    assert hybrid["recall@10"] >= 0.9


def test_language_filter_per_query_in_one_batch(demo_kb: KnowledgeBase) -> None:
    texts = ["退货运费谁出", "who pays for return shipping", "退货运费谁出"]
    vectors = demo_kb.encoder.encode(texts)
    results = demo_kb.search(texts, vectors, k=5, filters=[{"language": "zh"}, {"language": "en"}, None])
    assert len(results) == 3
    assert all(hit.metadata["language"] == "zh" for hit in results[0])
    assert all(hit.metadata["language"] == "en" for hit in results[1])
    assert results[0][0].id == "faq-zh-tuihuo-yunfei"
    assert results[1][0].id == "faq-en-returns-shipping-fee"


def test_tag_source_and_kind_filters(demo_kb: KnowledgeBase) -> None:
    hits = demo_kb.search_text("how long is the warranty", k=10, filters={"tags": ["electronics", "shoes"]})
    assert hits and all({"electronics", "shoes"} & set(h.metadata["tags"]) for h in hits)
    hits = demo_kb.search_text("leather", k=10, filters={"source": "products.json", "language": "en"})
    assert hits and all(h.metadata["source"] == "products.json" and h.id.endswith("#en") for h in hits)
    assert demo_kb.search_text("leather", k=3, filters={"kind": "nothing-like-this"}) == []


def test_hits_satisfy_the_core_protocol_with_a_relevance_signal(demo_kb: KnowledgeBase) -> None:
    (hit, *_) = demo_kb.search_text("Can I return shoes I tried on?", k=3, filters={"language": "en"})
    assert isinstance(hit.id, str) and isinstance(hit.title, str) and isinstance(hit.text, str)
    assert hit.title == "Can I return shoes?" and hit.text.startswith("Yes. Shoes can be returned")
    assert 0.0 < hit.score <= 1.0 and -1.0 <= hit.metadata["dense_score"] <= 1.0
    assert {"source", "language", "tags", "kind", "bm25_score", "dense_rank", "bm25_rank"} <= set(hit.metadata)


def test_unrelated_question_scores_below_answerable_one(demo_kb: KnowledgeBase) -> None:
    from kb.search import MIN_DENSE_SCORE

    answerable = demo_kb.search_text("how much is shipping to beijing", k=1, filters={"language": "en"})[0]
    unrelated = demo_kb.search_text("who won the football match last night", k=1, filters={"language": "en"})[0]
    assert answerable.metadata["dense_score"] >= MIN_DENSE_SCORE > unrelated.metadata["dense_score"]
    assert demo_kb.recommended_min_relevance == MIN_DENSE_SCORE


def test_modes_rank_differently_and_scores_are_sorted(demo_kb: KnowledgeBase) -> None:
    texts = ["SF express price"]
    vectors = demo_kb.encoder.encode(texts)
    for mode in ("hybrid", "dense", "bm25"):
        hits = demo_kb.retrieve(texts, vectors, k=5, mode=mode)[0]
        scores = [h.score for h in hits]
        assert scores == sorted(scores, reverse=True) and len(hits) == 5


def test_argument_errors_and_edge_cases(demo_kb: KnowledgeBase) -> None:
    vectors = demo_kb.encoder.encode(["a", "b"])
    with pytest.raises(ValueError, match="one \\(or None\\) per query"):
        demo_kb.search(["a", "b"], vectors, filters=[None])
    with pytest.raises(ValueError, match="dimensions"):
        demo_kb.search(["a"], np.zeros((1, 3), dtype=np.float32))
    assert demo_kb.search([], np.zeros((0, 512), dtype=np.float32)) == []
    assert len(demo_kb.search_text("!!!", k=500)) == len(demo_kb)


async def test_search_from_worker_threads_as_the_pipeline_does(demo_kb: KnowledgeBase) -> None:
    queries = [("我的快递到哪了", "zh"), ("where is my parcel", "en")] * 4
    encoder = demo_kb.encoder

    def turn(text: str, language: str) -> list[str]:
        vectors = encoder.encode([text])
        return [h.id for h in demo_kb.search([text], vectors, k=3, filters=[{"language": language}])[0]]

    results = await asyncio.gather(*(asyncio.to_thread(turn, t, lang) for t, lang in queries))
    assert results[0] == results[2] == results[4] and results[1] == results[3]
    assert all(r and r[0].startswith("faq-zh") for r in results[0::2])


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_approximate_indexes_agree_with_exact_search(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    base, queries = synthetic_vectors(3000, 64, seed=1, clusters=60), synthetic_vectors(20, 64, seed=2, clusters=60)
    exact = DenseIndex.build(base, kind="flat")
    approx = DenseIndex.build(base, kind=kind, nprobe=32)
    assert approx.kind == kind
    _, truth = exact.search(queries, 10)
    _, found = approx.search(queries, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth, strict=True)])
    assert recall >= 0.9
    allowed = np.zeros(len(base), dtype=bool)
    allowed[::3] = True
    monkeypatch.setattr(dense_module, "SUBSET_EXACT_MAX", 10)  # force FAISS's own selector path
    _, filtered = approx.search(queries[:5], 5, allowed=allowed)
    assert (filtered[filtered >= 0] % 3 == 0).all()


def test_auto_kind_by_size(monkeypatch: pytest.MonkeyPatch) -> None:
    assert dense_module.choose_kind(100) == "flat"
    assert dense_module.choose_kind(10**6) == dense_module.LARGE_KIND
    assert dense_module.choose_kind(10**6, "hnsw") == "hnsw"
    monkeypatch.setattr(dense_module, "EXACT_MAX", 100)
    assert DenseIndex.build(synthetic_vectors(4000, 16, seed=3)).kind == dense_module.LARGE_KIND


def test_filtered_subset_search_is_exact_and_padded() -> None:
    base = synthetic_vectors(50, 16, seed=4)
    index = DenseIndex.build(base, kind="flat")
    allowed = np.zeros(50, dtype=bool)
    allowed[[3, 7]] = True
    scores, ids = index.search(base[3:4], 5, allowed=allowed)
    assert list(ids[0][:2]) == [3, 7] and list(ids[0][2:]) == [-1, -1, -1]
    assert scores[0][0] == pytest.approx(1.0, abs=1e-5)


def test_questions_file_errors_name_the_file(tmp_path: Path) -> None:
    from kb.errors import BadSourceFormat

    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "hi"}\n', encoding="utf-8")
    with pytest.raises(BadSourceFormat, match=r"q\.jsonl line 1"):
        load_questions(path)
