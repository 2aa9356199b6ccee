"""Multi-vector dense scoring: title vectors, the combined score, the approximate path, the index format."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kb import multivector
from kb.bench import synthetic_vectors
from kb.build import build_index, load_index, open_or_build, read_manifest
from kb.chunks import Chunk
from kb.dense import DenseIndex
from kb.encoders import UseEncoder
from kb.errors import CorruptIndex
from kb.evaluate import evaluate, load_questions
from kb.multivector import MultiVectorDense
from kb.search import CANDIDATES, KnowledgeBase
from tests.kb.conftest import QUESTIONS


def test_every_titled_chunk_has_its_title_vector(demo_kb: KnowledgeBase) -> None:
    titled = [n for n, c in enumerate(demo_kb.chunks) if c.title_text]
    assert titled and list(demo_kb.multivector.title_rows) == titled
    sample = titled[:: max(1, len(titled) // 8)]
    expected = demo_kb.encoder.encode([demo_kb.chunks[n].title_text for n in sample])
    slots = demo_kb.multivector.title_of[sample]
    np.testing.assert_allclose(demo_kb.titles.vectors[slots], expected, atol=1e-5)
    assert demo_kb.stats()["title_vectors"] == len(titled)


def test_dense_score_mixes_title_and_text_cosines(demo_kb: KnowledgeBase) -> None:
    for hit in demo_kb.search_text("can I pay with Alipay", k=5, filters={"language": "en"}):
        meta = hit.metadata
        w = multivector.TITLE_WEIGHT
        assert meta["dense_score"] == pytest.approx(
            w * meta["dense_title_score"] + (1 - w) * meta["dense_text_score"], abs=1e-5
        )
        assert meta["dense_title_score"] != pytest.approx(meta["dense_text_score"], abs=1e-4)


def test_chunk_without_a_title_scores_by_its_text_alone(use_encoder: UseEncoder) -> None:
    chunks = [
        Chunk(
            id="a", title="", text="Parcels arrive in two to four days.", source="s.md", language="en", kind="document"
        ),
        Chunk(
            id="b",
            title="Gift cards",
            text="Digital gift cards from 100 yuan.",
            source="s.md",
            language="en",
            kind="document",
        ),
        Chunk(id="c", title="same", text="same", source="s.md", language="en", kind="document"),
    ]
    knowledge = KnowledgeBase.from_chunks(chunks, use_encoder)
    assert len(knowledge.titles) == 1 and list(knowledge.multivector.title_rows) == [1]
    hits = {h.id: h.metadata for h in knowledge.search_text("when will my parcel arrive", k=3)}
    for untitled in ("a", "c"):
        assert hits[untitled]["dense_score"] == pytest.approx(hits[untitled]["dense_text_score"], abs=1e-6)
        assert hits[untitled]["dense_title_score"] == pytest.approx(hits[untitled]["dense_text_score"], abs=1e-6)


def test_max_combination_takes_the_better_cosine() -> None:
    full = DenseIndex.build(np.eye(3, dtype=np.float32), kind="flat")
    titles = DenseIndex.build(np.eye(3, dtype=np.float32)[[1]], kind="flat")
    scorer = MultiVectorDense(full, titles, np.array([0]), combine="max")
    combined, text, title = scorer.scores(np.array([0, 1, 2]), np.array([0, 1, 0], dtype=np.float32))
    assert list(text) == [0, 1, 0] and list(title) == [1, 1, 0] and list(combined) == [1, 1, 0]
    with pytest.raises(ValueError, match="2 title vectors for 1 titled chunks"):
        MultiVectorDense(full, DenseIndex.build(np.eye(3, dtype=np.float32)[:2], kind="flat"), np.array([0]))


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_approximate_path_unions_both_indexes_and_matches_exact_scoring(kind: str) -> None:
    full_vectors = synthetic_vectors(2000, 32, seed=5, clusters=40)
    rows = np.arange(0, 2000, 2)
    # a title is part of its chunk's text: its vector is near the full one, not independent of it
    title_vectors = full_vectors[rows] + 0.7 * synthetic_vectors(1000, 32, seed=6, clusters=40)
    title_vectors /= np.linalg.norm(title_vectors, axis=1, keepdims=True)
    exact = MultiVectorDense(
        DenseIndex.build(full_vectors, kind="flat"), DenseIndex.build(title_vectors, kind="flat"), rows
    )
    approx = MultiVectorDense(
        DenseIndex.build(full_vectors, kind=kind), DenseIndex.build(title_vectors, kind=kind), rows
    )
    queries = title_vectors[:20]
    truth = exact.search(queries, [None] * 20, 10)
    # the knowledge base takes CANDIDATES (50) from each index and keeps the top k (10 here)
    found = approx.search(queries, [None] * 20, CANDIDATES)
    top = [{row for row, (rank, _) in ranked.items() if rank <= 10} for ranked in found]
    recall = np.mean([len(a & set(b)) / 10 for a, b in zip(top, truth, strict=True)])
    assert recall >= 0.95
    for n, ranked in enumerate(found):
        assert 2 * n in ranked, "a chunk whose title is the query must be found through the title index"
        for row, (_, score) in ranked.items():
            assert score == pytest.approx(float(exact.scores(np.array([row]), queries[n])[0][0]), abs=1e-5)
    allowed = np.zeros(2000, dtype=bool)
    allowed[::4] = True
    filtered = approx.search(queries[:5], [allowed] * 5, 10)
    assert all(ranked and all(row % 4 == 0 for row in ranked) for ranked in filtered)


def test_titles_improve_retrieval_on_the_labelled_set(demo_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    questions = load_questions(QUESTIONS)
    with_titles = evaluate(demo_kb, questions)["modes"]
    monkeypatch.setattr(demo_kb.multivector, "title_weight", 0.0)
    text_only = evaluate(demo_kb, questions)["modes"]
    for mode in ("dense", "hybrid"):
        assert with_titles[mode]["mrr"] > text_only[mode]["mrr"], mode
        assert with_titles[mode]["recall@5"] >= text_only[mode]["recall@5"], mode


def test_an_index_of_the_previous_format_is_rebuilt(
    small_sources: list[Path], tmp_path: Path, use_encoder: UseEncoder
) -> None:
    out = tmp_path / "cache"
    open_or_build(small_sources, cache_dir=out, encoder=use_encoder)
    live = out / (out / "CURRENT").read_text()
    manifest = json.loads((live / "manifest.json").read_text(encoding="utf-8"))
    (live / "manifest.json").write_text(json.dumps({**manifest, "format": 1}), encoding="utf-8")
    with pytest.raises(CorruptIndex, match="format 1, expected 2"):
        load_index(out, encoder=use_encoder)
    rebuilt = open_or_build(small_sources, cache_dir=out, encoder=use_encoder)
    assert read_manifest(out)["format"] == 2 and len(rebuilt.titles) == len(rebuilt)


def test_missing_or_mismatched_title_vectors_are_refused(
    small_sources: list[Path], tmp_path: Path, use_encoder: UseEncoder
) -> None:
    out = tmp_path / "index"
    build_index(small_sources, out=out, encoder=use_encoder, progress=False)
    live = out / (out / "CURRENT").read_text()
    vectors = np.load(live / "title_vectors.npy")
    np.save(live / "title_vectors.npy", vectors[:-1])
    with pytest.raises(CorruptIndex, match="inconsistent"):
        load_index(out, encoder=use_encoder)
    (live / "titles.faiss").unlink()
    with pytest.raises(CorruptIndex, match=r"titles\.faiss"):
        load_index(out, encoder=use_encoder)
