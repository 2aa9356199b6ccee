"""Out-of-scope decisions: a calibrated confidence floor plus a distance from every known intent.

A confident classifier can still be wrong about a query unlike any example (the max-probability
threshold is weak, Larson et al. 2019); the cosine distance of the query embedding to the nearest
intent's centroid catches those. Both limits come from held-out examples, or
are chosen on a validation split that has out-of-scope examples (``choose_rule``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass(slots=True)
class CentroidDistance:
    """Cosine distance of a vector to the nearest intent centroid (the mean of its unit-length examples).

    Chosen over a Mahalanobis distance (shared, Ledoit-Wolf-shrunk covariance) by CLINC150's validation
    split: at 2 % of in-scope queries flagged it finds 0.88 of out-of-scope ones against 0.71.
    """

    centroids: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))

    def fit(self, vectors: np.ndarray, labels: Sequence[str]) -> CentroidDistance:
        labels_arr = np.asarray(labels)
        units = _unit(vectors)
        self.centroids = _unit(np.stack([units[labels_arr == c].mean(axis=0) for c in sorted(set(labels))]))
        return self

    def distance(self, vectors: np.ndarray) -> np.ndarray:
        return (1.0 - (_unit(vectors) @ self.centroids.T).max(axis=1)).astype(np.float64)


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


@dataclass(slots=True)
class OosRule:
    """Flag a prediction out of scope below ``min_confidence`` (or its intent's own), or beyond ``max_distance``."""

    min_confidence: float = 0.0
    max_distance: float = float("inf")
    per_intent: dict[str, float] = field(default_factory=dict)
    oos_label: str | None = None
    """An intent that itself means out of scope (CLINC's ``oos``, the demo store's ``other``)."""

    def flags(self, labels: Sequence[str], confidence: np.ndarray, distance: np.ndarray) -> list[str | None]:
        """Per prediction, why it is out of scope (``intent``, ``low_confidence``, ``far``) or None."""
        reasons: list[str | None] = []
        for label, conf, dist in zip(labels, confidence, distance, strict=True):
            if label == self.oos_label:
                reasons.append("intent")
            elif conf < self.per_intent.get(label, self.min_confidence):
                reasons.append("low_confidence")
            elif dist > self.max_distance:
                reasons.append("far")
            else:
                reasons.append(None)
        return reasons


def default_rule(
    correct_confidence: np.ndarray,
    in_scope_distance: np.ndarray,
    *,
    quantile: float = 0.02,
) -> tuple[float, float]:
    """Limits that keep all but ``quantile`` of held-out in-scope examples in scope (no OOS data needed)."""
    floor = float(np.quantile(correct_confidence, quantile)) if len(correct_confidence) else 0.0
    ceiling = float(np.quantile(in_scope_distance, 1.0 - quantile)) if len(in_scope_distance) else float("inf")
    return floor, ceiling


def choose_rule(
    true: Sequence[str],
    predicted: Sequence[str],
    confidence: np.ndarray,
    distance: np.ndarray,
    *,
    oos_label: str,
    max_in_scope_loss: float = 0.005,
) -> tuple[float, float]:
    """``(min_confidence, max_distance)`` with the best OOS recall on a validation split whose in-scope
    accuracy stays within ``max_in_scope_loss`` of having no limits."""
    true_arr, pred_arr = np.asarray(true), np.asarray(predicted)
    inside = true_arr != oos_label
    if inside.all() or not inside.any():
        raise ValueError("choosing out-of-scope limits needs both in-scope and out-of-scope validation examples")
    base_correct = pred_arr == true_arr
    base_accuracy = base_correct[inside].mean()
    predicted_oos = pred_arr == oos_label
    floors = np.unique(np.quantile(confidence[inside], np.linspace(0.0, 0.3, 61)))
    ceilings = np.unique(np.quantile(distance[inside], np.linspace(0.7, 1.0, 61)))
    best = (-1.0, -1.0, 0.0, float("inf"))
    for floor in floors:
        low = confidence < floor
        for ceiling in ceilings:
            flagged = predicted_oos | low | (distance > ceiling)
            accuracy = (base_correct & ~flagged)[inside].mean()
            if accuracy < base_accuracy - max_in_scope_loss:
                continue
            recall = flagged[~inside].mean()
            if (recall, accuracy) > best[:2]:
                best = (recall, accuracy, float(floor), float(ceiling))
    return best[2], best[3]
