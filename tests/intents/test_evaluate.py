"""Intent scores: out-of-scope rates come with intervals that show how little a small split can tell."""

from __future__ import annotations

import math

import pytest

from bot.intents.evaluate import out_of_scope_scores, wilson_interval


def _labels(found: int, missed: int, in_scope: int) -> tuple[list[str], list[str]]:
    true = ["oos"] * (found + missed) + ["a"] * in_scope
    predicted = ["oos"] * found + ["a"] * missed + ["a"] * in_scope
    return true, predicted


def test_out_of_scope_recall_comes_with_a_95_percent_interval_that_narrows_with_more_queries() -> None:
    small = out_of_scope_scores(*_labels(87, 13, 50), oos_label="oos")
    large = out_of_scope_scores(*_labels(870, 130, 50), oos_label="oos")
    assert small["oos_recall"] == large["oos_recall"] == pytest.approx(0.87)
    low, high = small["oos_recall_ci95"]
    assert low == pytest.approx(0.790, abs=1e-3) and high == pytest.approx(0.922, abs=1e-3)
    large_low, large_high = large["oos_recall_ci95"]
    assert low < large_low < 0.87 < large_high < high
    assert small["in_scope_accuracy"] == 1.0 and small["in_scope_accuracy_ci95"][1] == pytest.approx(1.0)
    assert small["oos_precision_ci95"][0] > 0.9


def test_a_rate_with_nothing_to_count_has_no_interval() -> None:
    scores = out_of_scope_scores(["a", "b"], ["a", "a"], oos_label="oos")
    assert math.isnan(scores["oos_recall"]) and scores["oos_recall_ci95"] is None
    assert math.isnan(scores["oos_precision"]) and scores["oos_precision_ci95"] is None
    assert scores["in_scope_accuracy"] == 0.5 and wilson_interval(0, 0) is None
