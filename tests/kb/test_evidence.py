"""Specific-term evidence (kb.evidence): the first hits reordered by the rarest query word each passage holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.chunks import Chunk, Hit
from kb.encoders import Encoder
from kb.evaluate import evaluate, load_questions
from kb.evidence import TermEvidence
from kb.lexical import LexicalIndex
from kb.search import KnowledgeBase

DEV = Path(__file__).parents[1] / "data" / "retrieval_dev.jsonl"
PASSAGES = {
    "domestic": ("How much is shipping?", "Standard shipping costs 12 and arrives in 2-4 days."),
    "express": ("Do you offer express delivery?", "Express shipping costs 25 and arrives in 1-2 days."),
    "abroad": ("Do you ship abroad?", "We ship abroad with DHL; shipping costs 160."),
    "returns": ("How do returns work?", "Returns are free within 30 days."),
    "gifts": ("Do you sell gift cards?", "Gift cards are sent by email."),
    "pickup": ("Can I pick up in store?", "Pick up your order at our shop; DHL is not involved."),
    "hours": ("When are you open?", "Every day, shipping questions included."),
}


def _evidence(**options: float) -> TermEvidence:
    chunks = [
        Chunk(id=key, title=title, text=text, source="faq.json", language="en", kind="faq")
        for key, (title, text) in PASSAGES.items()
    ]
    return TermEvidence(chunks, LexicalIndex.build([chunk.lexical_text for chunk in chunks]), **options)  # type: ignore[arg-type]


def _hits(*ids: str, gap: float = 0.01) -> list[Hit]:
    return [Hit(id=i, title=i, text=i, score=0.8 - n * gap, metadata={"dense_score": 0.5}) for n, i in enumerate(ids)]


def test_the_passage_with_the_rarest_query_word_rises_among_close_neighbours() -> None:
    evidence = _evidence()

    [order] = evidence.reorder(["how long does dhl shipping take"], [_hits("domestic", "express", "abroad", "returns")])

    assert [hit.id for hit in order] == ["abroad", "domestic", "express", "returns"]
    assert order[0].metadata["term_evidence"] == pytest.approx(1.0)
    # "shipping" is in the others too, but it is commoner than "dhl", so it counts for less than the full bonus
    assert 0.0 < order[1].metadata["term_evidence"] < 1.0
    assert order[3].metadata["term_evidence"] == 0.0


def test_a_clear_first_stage_winner_stays_first() -> None:
    evidence = _evidence()
    hits = _hits("domestic", "abroad", gap=0.2)

    [order] = evidence.reorder(["dhl shipping"], [hits])

    assert [hit.id for hit in order] == ["domestic", "abroad"]


def test_only_the_first_depth_hits_move_and_scores_stay_descending_in_0_1() -> None:
    evidence = _evidence(depth=3)
    hits = _hits("returns", "gifts", "hours", "abroad", "pickup")

    [order] = evidence.reorder(["dhl"], [hits])

    assert [hit.id for hit in order] == ["returns", "gifts", "hours", "abroad", "pickup"]
    scores = [hit.score for hit in order]
    assert scores == sorted(scores, reverse=True) and all(0.0 <= s <= 1.0 for s in scores)
    assert order[3].metadata["term_evidence"] == 0.0  # beyond the depth: not scored, only rescaled


def test_queries_with_no_known_word_and_empty_results_keep_their_order() -> None:
    evidence = _evidence()
    hits = _hits("returns", "abroad", "domestic")

    unknown, stopwords, empty = evidence.reorder(["zzzz qqqq", "what is the", "dhl"], [hits, hits, []])

    assert [hit.id for hit in unknown] == ["returns", "abroad", "domestic"]
    assert [hit.id for hit in stopwords] == ["returns", "abroad", "domestic"]
    assert empty == []


def test_a_hit_the_index_does_not_know_gets_no_evidence() -> None:
    evidence = _evidence()

    assert evidence.evidence("dhl", "not-a-chunk") == 0.0
    assert evidence.evidence("dhl", "abroad") == pytest.approx(1.0)


def test_an_empty_knowledge_base_has_no_evidence() -> None:
    evidence = TermEvidence([], LexicalIndex.build([]))

    [order] = evidence.reorder(["dhl"], [_hits("abroad")])

    assert [hit.id for hit in order] == ["abroad"] and order[0].metadata["term_evidence"] == 0.0


def test_search_applies_it_only_when_switched_on(demo_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "how long does DHL take to hong kong"
    vector = demo_kb.encoder.encode([text])  # type: ignore[union-attr]
    english = [{"language": "en"}]

    [default] = demo_kb.search([text], vector, k=5, filters=english)
    monkeypatch.setattr(demo_kb, "term_evidence", True)
    [switched_on] = demo_kb.search([text], vector, k=5, filters=english)
    [hybrid] = demo_kb.retrieve([text], vector, k=5, filters=english, mode="hybrid")
    [evidence] = demo_kb.retrieve([text], vector, k=5, filters=english, mode="evidence")

    assert all("term_evidence" not in hit.metadata for hit in default + hybrid)
    assert [hit.id for hit in default] == [hit.id for hit in hybrid]
    assert [hit.id for hit in switched_on] == [hit.id for hit in evidence]
    assert all("term_evidence" in hit.metadata for hit in switched_on)
    assert {hit.id for hit in switched_on} == {hit.id for hit in hybrid}  # the first five reordered, never replaced


def test_the_setting_reaches_the_knowledge_base(
    small_sources: list[Path], use_encoder: Encoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.app.knowledge import KbLocation
    from bot.config import Settings

    monkeypatch.setenv("KEFU_KB__EVIDENCE", "true")
    location = KbLocation(index=tmp_path / "index", sources=tuple(small_sources))

    assert Settings().kb.evidence is True
    assert location.open(encoder=use_encoder, device="cpu", evidence=Settings().kb.evidence).term_evidence is True
    assert location.open(encoder=use_encoder, device="cpu").term_evidence is False


@pytest.mark.slow
def test_evidence_raises_recall_at_1_on_the_dev_questions_and_keeps_recall_at_5(demo_kb: KnowledgeBase) -> None:
    report = evaluate(demo_kb, load_questions(DEV))

    hybrid, evidence = report["modes"]["hybrid"], report["modes"]["evidence"]
    assert evidence["recall@1"] > hybrid["recall@1"]
    assert evidence["recall@5"] == hybrid["recall@5"]
    assert evidence["mrr"] > hybrid["mrr"]
