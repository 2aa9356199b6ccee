"""Heads chosen by cross-validation on the training examples: cosine heads, folds, ensemble selection."""

from __future__ import annotations

import numpy as np
import pytest

from bot.intents.heads import CosineHead, Head, new_model
from bot.intents.linear import LinearIntentClassifier
from bot.intents.selection import CANDIDATE_HEADS, choose_heads, folds


def test_cosine_heads_score_the_nearest_mean_and_the_nearest_examples() -> None:
    vectors = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.2, 1.0]], np.float32)
    labels = np.array(["a", "a", "b", "b"], dtype=object)
    query = np.array([[1.0, 0.05], [0.1, 1.0]], np.float32)
    for head in (CosineHead(k=0), CosineHead(k=1)):
        scores = head.fit(vectors, labels).decision_function(query)
        assert list(head.classes_[scores.argmax(axis=1)]) == ["a", "b"]
    nearest = CosineHead(k=1).fit(vectors, labels).decision_function(np.array([[0.0, 1.0]], np.float32))
    assert nearest[0, 1] == pytest.approx(1.0)  # its own example: cosine 1


def test_unknown_head_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown head kind 'tree'"):
        new_model(Head("dense", "tree"), seed=0)


def test_folds_are_stratified_and_capped_by_the_rarest_intent() -> None:
    labels = np.array(["a"] * 9 + ["b"] * 3, dtype=object)
    pairs = folds(labels, k=5, seed=0)
    assert len(pairs) == 3
    assert sorted(np.concatenate([test for _, test in pairs]).tolist()) == list(range(12))
    assert all(set(labels[train]) == {"a", "b"} for train, _ in pairs)


def test_choose_heads_keeps_the_best_regularisation_per_kind_and_weights_the_useful_heads() -> None:
    rng = np.random.default_rng(0)
    true = rng.integers(0, 4, size=200)
    good = np.eye(4)[true] * 3 + rng.normal(size=(200, 4))
    noise = rng.normal(size=(200, 4))
    candidates = [
        Head("dense", "svm", 0.1),
        Head("dense", "svm", 1.0),
        Head("dense", "centroid"),
    ]
    chosen = dict(choose_heads(candidates, [noise, good, noise], true))
    assert Head("dense", "svm", 0.1) not in chosen  # beaten by C=1 on out-of-fold accuracy
    assert chosen[Head("dense", "svm", 1.0)] > chosen.get(Head("dense", "centroid"), 0)


def test_small_file_chooses_heads_and_limits_from_its_examples(demo_classifier) -> None:
    assert set(demo_classifier.heads) <= set(CANDIDATE_HEADS)
    assert len(demo_classifier.weights) == len(demo_classifier.heads) and (demo_classifier.weights > 0).all()
    rule = demo_classifier.rule  # the demo has an out-of-scope intent: its out-of-fold examples teach a score
    assert rule.score is not None and np.isfinite(rule.max_score)
    assert rule.score.weights[2] > 0, "a likelier out-of-scope intent must raise the out-of-scope score"


def test_large_data_chooses_heads_on_one_held_out_split(use_encoder, monkeypatch) -> None:
    texts = ["hello", "hi there", "good morning", "bye", "see you", "good night"] * 4
    labels = ["hi"] * 3 + ["bye"] * 3
    splits: list[int] = []
    real_select = LinearIntentClassifier._select

    def counting_select(self, texts, dense, labels, pairs):
        splits.append(len(pairs))
        return real_select(self, texts, dense, labels, pairs)

    monkeypatch.setattr(LinearIntentClassifier, "_select", counting_select)
    classifier = LinearIntentClassifier(encoder=use_encoder, select_limit=10).fit(texts, labels * 4)
    assert splits == [1], "one held-out split, not k folds, above select_limit"
    assert set(classifier.heads) <= set(CANDIDATE_HEADS) and len(classifier.weights) == len(classifier.heads)
    assert classifier.predict(["hey, good morning"])[0].label == "hi"
