"""The out-of-scope rule: a learned score over confidence, distance and the out-of-scope intent's probability."""

from __future__ import annotations

import numpy as np
import pytest

from bot.intents.oos import OosRule, choose_rule, oos_evidence


def _validation(seed: int = 0, inside: int = 600, outside: int = 200):
    """Synthetic validation scores where each piece of evidence alone overlaps and together they separate."""
    rng = np.random.default_rng(seed)
    intents = np.array(["a", "b", "c"])
    true = np.concatenate([rng.choice(intents, inside), np.full(outside, "oos")])
    predicted = true.copy()
    wrong = rng.random(inside) < 0.05
    predicted[:inside][wrong] = "a"
    predicted[inside : inside + outside // 4] = "oos"  # the out-of-scope intent wins a quarter on its own
    predicted[inside + outside // 4 :] = rng.choice(intents, outside - outside // 4)
    is_out = true == "oos"
    confidence = np.clip(rng.normal(np.where(is_out, 0.55, 0.8), 0.12), 0.05, 0.999)
    distance = np.clip(rng.normal(np.where(is_out, 0.45, 0.3), 0.08), 0.0, 2.0)
    oos_probability = np.clip(rng.normal(np.where(is_out, 0.2, 0.05), 0.06), 1e-4, 0.99)
    return true, predicted, confidence, distance, oos_probability


def _scores(rule: OosRule, true, predicted, confidence, distance, oos_probability) -> tuple[float, float]:
    flagged = np.array([r is not None for r in rule.flags(list(predicted), confidence, distance, oos_probability)])
    inside = true != "oos"
    return float(((predicted == true) & ~flagged)[inside].mean()), float(flagged[~inside].mean())


def test_learned_score_keeps_in_scope_accuracy_and_catches_what_the_intent_missed() -> None:
    true, predicted, *evidence = _validation()
    rule = choose_rule(OosRule(oos_label="oos"), true, predicted, *evidence, max_in_scope_loss=0.01)
    assert rule.score is not None and np.isfinite(rule.max_score)
    assert (rule.score.weights > 0).all(), "less confident, farther, likelier out of scope: each raises the score"
    base = float((predicted == true)[true != "oos"].mean())
    accuracy, recall = _scores(rule, true, predicted, *evidence)
    assert accuracy >= base - 0.01
    assert recall > 0.25 + 0.3, "beyond the quarter the out-of-scope intent wins by itself"
    fresh_true, fresh_predicted, *fresh = _validation(seed=1)
    reasons = rule.flags(list(fresh_predicted), *fresh)
    assert "score" in reasons and "intent" in reasons
    fresh_accuracy, fresh_recall = _scores(rule, fresh_true, fresh_predicted, *fresh)
    assert fresh_accuracy >= base - 0.03 and fresh_recall > 0.5  # it carries over to unseen examples


def test_score_beats_either_single_limit_at_the_same_in_scope_cost() -> None:
    true, predicted, confidence, distance, oos_probability = _validation(outside=400)
    rule = choose_rule(OosRule(oos_label="oos"), true, predicted, confidence, distance, oos_probability,
                       max_in_scope_loss=0.01)  # fmt: skip
    accuracy, recall = _scores(rule, true, predicted, confidence, distance, oos_probability)
    inside = true != "oos"
    for single in (OosRule(oos_label="oos", min_confidence=float(np.quantile(confidence[inside], 0.02))),
                   OosRule(oos_label="oos", max_distance=float(np.quantile(distance[inside], 0.98)))):  # fmt: skip
        single_accuracy, single_recall = _scores(single, true, predicted, confidence, distance, oos_probability)
        assert single_accuracy <= accuracy + 0.01 and single_recall < recall


def test_nothing_to_learn_when_the_out_of_scope_intent_wins_every_such_example() -> None:
    true, predicted, *evidence = _validation()
    predicted = np.where(true == "oos", "oos", predicted)
    rule = OosRule(oos_label="oos", per_intent={"a": 0.9})
    assert choose_rule(rule, true, predicted, *evidence) == rule


def test_limits_need_both_kinds_of_example() -> None:
    true, predicted, *evidence = _validation()
    inside = true != "oos"
    with pytest.raises(ValueError, match="both in-scope and out-of-scope"):
        choose_rule(OosRule(oos_label="oos"), true[inside], predicted[inside], *(e[inside] for e in evidence))


def test_without_an_out_of_scope_intent_the_score_reads_its_probability_as_zero() -> None:
    confidence, distance = np.array([0.9, 0.2]), np.array([0.1, 0.9])
    assert np.array_equal(oos_evidence(confidence, distance, None), oos_evidence(confidence, distance, np.zeros(2)))
    true, predicted, confidence, distance, _ = _validation()
    rule = choose_rule(OosRule(oos_label="oos"), true, predicted, confidence, distance, None)
    assert rule.score is not None
    assert len(rule.flags(list(predicted), confidence, distance)) == len(true)


def test_the_limit_spends_the_in_scope_budget_even_when_few_out_of_scope_examples_are_left_to_catch() -> None:
    true, predicted, *evidence = _validation(outside=12)
    rule = choose_rule(OosRule(oos_label="oos"), true, predicted, *evidence, max_in_scope_loss=0.02)
    base = float((predicted == true)[true != "oos"].mean())
    accuracy, _ = _scores(rule, true, predicted, *evidence)
    assert base - 0.02 <= accuracy < base - 0.02 + 0.005, "the limit flags in-scope examples up to the budget"
    fresh_true, fresh_predicted, *fresh = _validation(seed=1, outside=400)
    _, fresh_recall = _scores(rule, fresh_true, fresh_predicted, *fresh)
    assert fresh_recall > 0.6
