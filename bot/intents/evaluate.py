"""Scores of predicted against true intents: accuracy, macro-F1, per-class report, confusions, out-of-scope."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any


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


def out_of_scope_scores(true: Sequence[str], predicted: Sequence[str], *, oos_label: str) -> dict[str, float]:
    """In-scope accuracy and out-of-scope recall and precision."""
    inside = [(t, p) for t, p in zip(true, predicted, strict=True) if t != oos_label]
    outside = [p for t, p in zip(true, predicted, strict=True) if t == oos_label]
    flagged = sum(p == oos_label for p in predicted)
    hits = sum(p == oos_label for p in outside)
    return {
        "in_scope_accuracy": sum(t == p for t, p in inside) / len(inside) if inside else float("nan"),
        "oos_recall": hits / len(outside) if outside else float("nan"),
        "oos_precision": hits / flagged if flagged else float("nan"),
    }
