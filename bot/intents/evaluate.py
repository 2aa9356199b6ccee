"""Scores of predicted against true intents: accuracy, macro-F1, per-class report, confusions, out-of-scope."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

OOS_RATES = ("in_scope_accuracy", "oos_recall", "oos_precision")
"""The rates ``out_of_scope_scores`` gives, each beside its ``<name>_ci95`` interval."""


def intent_report(
    true: Sequence[str],
    predicted: Sequence[str],
    *,
    oos_label: str | None = None,
    top_confusions: int = 10,
) -> dict[str, Any]:
    """A JSON-ready report; with ``oos_label`` also in-scope accuracy and out-of-scope recall/precision.

    In-scope accuracy counts an in-scope example flagged out-of-scope as wrong (CLINC150's convention).
    """
    from sklearn.metrics import (
        accuracy_score,
        f1_score,
        precision_recall_fscore_support,
    )

    if len(true) != len(predicted) or not true:
        raise ValueError(f"need equal, non-empty label lists (got {len(true)} and {len(predicted)})")
    labels = sorted(set(true) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(true, predicted, labels=labels, zero_division=0)
    report: dict[str, Any] = {
        "examples": len(true),
        "accuracy": float(accuracy_score(true, predicted)),
        "macro_f1": float(
            f1_score(
                true,
                predicted,
                labels=sorted(set(true)),
                average="macro",
                zero_division=0,
            )
        ),
        "per_class": {
            label: {
                "precision": float(p),
                "recall": float(r),
                "f1": float(f),
                "support": int(s),
            }
            for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
        },
        "confusions": [
            {"true": t, "predicted": p, "count": n}
            for (t, p), n in Counter((t, p) for t, p in zip(true, predicted, strict=True) if t != p).most_common(
                top_confusions
            )
        ],
    }
    if oos_label is not None:
        report.update(out_of_scope_scores(true, predicted, oos_label=oos_label))
    return report


def out_of_scope_scores(true: Sequence[str], predicted: Sequence[str], *, oos_label: str) -> dict[str, Any]:
    """In-scope accuracy and out-of-scope recall and precision, each rate with its 95 % Wilson interval.

    The intervals say how far a small split can mislead: 87 of CLINC150's 100 ``oos_val`` queries found
    is 0.79-0.92, 730 of its 1,000 ``oos_test`` queries 0.70-0.76.
    """
    inside = [(t, p) for t, p in zip(true, predicted, strict=True) if t != oos_label]
    outside = [p for t, p in zip(true, predicted, strict=True) if t == oos_label]
    flagged = sum(p == oos_label for p in predicted)
    hits = sum(p == oos_label for p in outside)
    counts = ((sum(t == p for t, p in inside), len(inside)), (hits, len(outside)), (hits, flagged))
    scores: dict[str, Any] = {}
    for name, (count, total) in zip(OOS_RATES, counts, strict=True):
        scores[name] = count / total if total else float("nan")
        scores[f"{name}_ci95"] = wilson_interval(count, total)
    return scores


def wilson_interval(count: int, total: int) -> list[float] | None:
    """The 95 % Wilson score interval of ``count`` successes in ``total`` trials (None when there are none)."""
    from scipy.stats import binomtest

    if not total:
        return None
    interval = binomtest(count, total).proportion_ci(confidence_level=0.95, method="wilson")
    return [float(interval.low), float(interval.high)]
